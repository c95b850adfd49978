package cli

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/whet-dev/whet/internal/generate"
	"github.com/whet-dev/whet/internal/grammar"
	"github.com/whet-dev/whet/internal/llm"
	"github.com/whet-dev/whet/internal/tokenizer"
	"github.com/whet-dev/whet/internal/tokenizer/chat"
)

// generateOutput is what `whet generate --json` prints.
type generateOutput struct {
	PromptTokenIDs []int  `json:"prompt_token_ids"`
	TokenIDs       []int  `json:"token_ids"`
	Text           string `json:"text"`
	FinishReason   string `json:"finish_reason"`
}

type generateFlags struct {
	model, adapter, prompt, system, schema, dtype string
	raw, asJSON                                   bool
	maxTokens, topK                               int
	temperature, topP, repPenalty                 float64
	seed                                          uint64
	stops                                         []string
}

func newGenerateCmd(env *Env) *cobra.Command {
	var fl generateFlags
	cmd := &cobra.Command{
		Use:   "generate --model DIR --prompt TEXT",
		Short: "Generate text with a local model, streaming it to standard output",
		Long: `Loads a Hugging Face model folder (config.json, *.safetensors, tokenizer.json,
tokenizer_config.json) and generates a reply. By default the prompt (and
--system) are rendered with the model's chat template; --raw sends the prompt
text as is. Without --temperature the model's generation_config.json decides
(greedy when it does not sample). Without --seed the seed is random.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runGenerate(cmd, env, &fl)
		},
	}
	f := cmd.Flags()
	f.StringVar(&fl.model, "model", "", "model folder or hf://org/name[@rev] (required)")
	f.StringVar(&fl.adapter, "adapter", "", "PEFT LoRA adapter folder")
	f.StringVar(&fl.prompt, "prompt", "", "prompt text (required)")
	f.StringVar(&fl.system, "system", "", "system message (chat mode)")
	f.BoolVar(&fl.raw, "raw", false, "do not apply the chat template")
	f.IntVar(&fl.maxTokens, "max-tokens", 256, "maximum tokens to generate")
	f.Float64Var(&fl.temperature, "temperature", 0, "sampling temperature (0: greedy)")
	f.Float64Var(&fl.topP, "top-p", 1, "nucleus sampling probability mass")
	f.IntVar(&fl.topK, "top-k", 0, "sample among the K most likely tokens (0: all)")
	f.Float64Var(&fl.repPenalty, "repetition-penalty", 1, "repetition penalty (1: none)")
	f.Uint64Var(&fl.seed, "seed", 0, "random seed")
	f.StringSliceVar(&fl.stops, "stop", nil, "stop string (repeatable)")
	f.StringVar(&fl.schema, "json-schema", "", "constrain the output to this JSON schema file")
	f.StringVar(&fl.dtype, "dtype", "f32", "weight format in memory: f32, bf16, int8 or nf4")
	f.BoolVar(&fl.asJSON, "json", false, "print one JSON object instead of streaming text")
	return cmd
}

func runGenerate(cmd *cobra.Command, env *Env, fl *generateFlags) error {
	if fl.model == "" || fl.prompt == "" {
		return &exitError{code: 2, err: errors.New("generate: --model DIR and --prompt TEXT are required")}
	}
	if fl.raw && fl.system != "" {
		return &exitError{code: 2, err: errors.New("generate: --system needs the chat template; drop --raw")}
	}
	if err := resolveModelFlag(cmd, env, &fl.model); err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	m, err := llm.Load(fl.model, llm.LoadOptions{DType: fl.dtype})
	if err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	if fl.adapter != "" {
		a, err := llm.LoadAdapter(fl.adapter)
		if err != nil {
			return fmt.Errorf("generate: %w", err)
		}
		if m, err = m.WithAdapter(a); err != nil {
			return fmt.Errorf("generate: %w", err)
		}
	}
	tk, err := tokenizer.Load(fl.model)
	if err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	var ids []int
	if fl.raw {
		ids = tk.Encode(fl.prompt, true)
	} else {
		tmpl, err := chat.FromTokenizerConfig(fl.model)
		if errors.Is(err, chat.ErrNoTemplate) || errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("generate: the model has no chat template; use --raw: %w", err)
		}
		if err != nil {
			return fmt.Errorf("generate: %w", err)
		}
		var msgs []chat.Message
		if fl.system != "" {
			msgs = append(msgs, chat.Message{Role: "system", Content: fl.system})
		}
		msgs = append(msgs, chat.Message{Role: "user", Content: fl.prompt})
		text, err := tmpl.Render(chat.Input{Messages: msgs, AddGenerationPrompt: true})
		if err != nil {
			return fmt.Errorf("generate: chat template: %w", err)
		}
		ids = tk.Encode(text, false)
	}
	gc, err := llm.LoadGenerationConfig(fl.model)
	if err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	samp := generate.Sampling{Temperature: fl.temperature, TopP: fl.topP, TopK: fl.topK,
		RepetitionPenalty: fl.repPenalty, Seed: fl.seed}
	flags := cmd.Flags()
	if !flags.Changed("temperature") && gc.DoSample {
		samp.Temperature = gc.Temperature
		if !flags.Changed("top-p") && gc.TopP > 0 {
			samp.TopP = gc.TopP
		}
		if !flags.Changed("top-k") {
			samp.TopK = gc.TopK
		}
	}
	if !flags.Changed("repetition-penalty") && gc.RepetitionPenalty > 0 {
		samp.RepetitionPenalty = gc.RepetitionPenalty
	}
	if !flags.Changed("seed") {
		var b [8]byte
		if _, err := rand.Read(b[:]); err == nil {
			samp.Seed = binary.LittleEndian.Uint64(b[:])
		}
	}
	stopSet := map[int]bool{}
	for _, list := range [][]int{m.Config.EOSTokenIDs, gc.EOSTokenIDs, {tk.EOS()}} {
		for _, id := range list {
			if id >= 0 {
				stopSet[id] = true
			}
		}
	}
	var stops []int
	for id := range stopSet {
		stops = append(stops, id)
	}
	maxTokens := fl.maxTokens
	if room := m.MaxSeq() - len(ids); maxTokens > room {
		maxTokens = max(room, 0)
	}
	req := generate.Request{Prompt: ids, MaxTokens: maxTokens, Sampling: samp, StopTokens: stops, StopStrings: fl.stops}
	if fl.schema != "" {
		src, err := os.ReadFile(fl.schema)
		if err != nil {
			return fmt.Errorf("generate: --json-schema: %w", err)
		}
		gr, err := grammar.Compile(src)
		if err != nil {
			return fmt.Errorf("generate: --json-schema: %w", err)
		}
		vocab := make([][]byte, m.Config.VocabSize)
		for id := range vocab {
			if !tk.IsSpecial(id) {
				vocab[id] = tk.TokenBytes(id)
			}
		}
		req.Masker = gr.NewMatcher(grammar.NewVocab(vocab))
	}
	if !fl.asJSON {
		req.OnToken = func(t generate.Token) error {
			_, err := io.WriteString(env.Stdout, t.Text)
			return err
		}
	}
	g := &generate.Generator{Model: m, Tok: tk}
	res, err := g.Generate(cmd.Context(), req)
	if err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	if fl.asJSON {
		out := generateOutput{PromptTokenIDs: res.PromptTokens, TokenIDs: res.Tokens, Text: res.Text, FinishReason: res.FinishReason}
		if out.TokenIDs == nil {
			out.TokenIDs = []int{}
		}
		return json.NewEncoder(env.Stdout).Encode(out)
	}
	fmt.Fprintln(env.Stdout)
	return nil
}
