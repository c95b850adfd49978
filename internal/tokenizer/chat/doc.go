// Package chat renders Hugging Face chat templates (tokenizer_config.json's
// chat_template, a Jinja2 program) in pure Go.
//
// The interpreter is a faithful subset of Jinja2 configured as transformers configures
// it: an immutable sandbox with trim_blocks and lstrip_blocks on, the loopcontrols
// extension (break/continue), the {% generation %} tag, and the globals
// raise_exception and strftime_now; tojson is json.dumps with ensure_ascii=False.
// Statements: if/elif/else, for (with else, loop filters and tuple unpacking), set
// (including namespace attributes and block sets), macro, call, filter, raw. Values keep
// Python semantics: dicts keep insertion order, integers stay integers, str() prints
// None/True/False, Undefined is falsy and prints as nothing.
//
// Goldens rendered by Python's jinja2 (scripts/chat_golden/render.py) pin the output of
// real templates (Llama 3.1/3.2, Qwen2.5, Qwen2-VL, Mistral v0.3, SmolLM2, TinyLlama,
// DeepSeek Coder, Phi-4) byte for
// byte.
//
// A Template's Hash (SHA-256 of its source) is recorded by training and serving to prove
// they used the same template; RenderWithSpans returns the byte ranges of assistant turns
// for loss masking in supervised fine-tuning.
package chat
