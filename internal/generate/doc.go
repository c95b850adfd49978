// Package generate turns a language model's logits into text: sampling
// (greedy, temperature, top-k, top-p, repetition penalty, seeded per
// request), stop tokens and stop strings, max tokens, log-probabilities of
// the chosen tokens and their top alternatives, cancellation through the
// context, and streaming of UTF-8-safe text deltas.
//
// Generator.Generate runs one request over an internal/llm Model.
// Batcher runs many requests over one model with continuous batching: a
// request joins the decode batch after its prompt is prefilled and leaves as
// soon as it finishes, so short and long requests share every decode step.
//
// # Constrained decoding
//
// A Request may carry a Masker, the hook through which a grammar (such as
// internal/grammar's JSON-schema automaton) restricts the next token:
//
//	type Masker interface {
//		Allowed(mask []bool)   // write mask[id] = true for every token allowed next
//		Accept(id int) error   // advance past the chosen token
//		Done() bool            // the constrained value is complete
//	}
//
// Before each token the generator clears a mask of the model's vocabulary
// size and calls Allowed; the logits of tokens left false become -Inf
// before sampling (and before log-probabilities are taken). After sampling it
// calls Accept with the chosen id. While Done reports true (the value so far
// is complete, though it may still grow, as a number can) the stop tokens
// are allowed as well; if the request has no stop tokens generation ends
// there with finish reason "stop". A mask with no allowed token is an error
// (ErrNoAllowedToken). internal/grammar's Matcher implements Masker.
//
// # Streaming
//
// Request.OnToken receives every generated token with the text it adds.
// Text is held back while it is an incomplete UTF-8 sequence or could be the
// start of a stop string, so the concatenated deltas always equal
// Result.Text and never contain a stop string or half a character.
package generate
