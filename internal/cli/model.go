package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/whet-dev/whet/internal/llm"
	"github.com/whet-dev/whet/internal/safetensors"
	"github.com/whet-dev/whet/internal/tokenizer"
)

func newModelCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "model",
		Short: "Inspect and create Hugging Face model folders",
	}
	cmd.AddCommand(newModelInspectCmd(env), newModelInitCmd(env), newModelPullCmd(env))
	return cmd
}

// modelInfo is what `whet model inspect --json` prints.
type modelInfo struct {
	Dir               string           `json:"dir"`
	Architecture      string           `json:"architecture"`
	Parameters        int64            `json:"parameters"`
	StoredDTypes      map[string]int   `json:"stored_dtypes"`
	TorchDType        string           `json:"torch_dtype,omitempty"`
	MemoryBytes       map[string]int64 `json:"memory_bytes"`
	Layers            int              `json:"layers"`
	Hidden            int              `json:"hidden_size"`
	Intermediate      int              `json:"intermediate_size"`
	Heads             int              `json:"heads"`
	KVHeads           int              `json:"kv_heads"`
	HeadDim           int              `json:"head_dim"`
	Vocab             int              `json:"vocab_size"`
	Context           int              `json:"max_position_embeddings"`
	RopeTheta         float64          `json:"rope_theta"`
	RopeScaling       string           `json:"rope_scaling,omitempty"`
	SlidingWindow     int              `json:"sliding_window,omitempty"`
	TiedEmbeddings    bool             `json:"tie_word_embeddings"`
	Tokenizer         *tokenizerInfo   `json:"tokenizer,omitempty"`
	TokenizerProblems string           `json:"tokenizer_error,omitempty"`
}

type tokenizerInfo struct {
	VocabSize int    `json:"vocab_size"`
	BOS       string `json:"bos,omitempty"`
	EOS       string `json:"eos,omitempty"`
	Added     int    `json:"added_tokens"`
}

func newModelInspectCmd(env *Env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "inspect DIR|hf://org/name[@rev]",
		Short: "Show a model folder's architecture, size, memory by format and tokenizer",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := resolveModelFlag(cmd, env, &args[0]); err != nil {
				return fmt.Errorf("model inspect: %w", err)
			}
			info, err := inspectModel(args[0])
			if err != nil {
				return fmt.Errorf("model inspect: %w", err)
			}
			if asJSON {
				enc := json.NewEncoder(env.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(info)
			}
			printModelInfo(env, info)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func inspectModel(dir string) (*modelInfo, error) {
	cfg, err := llm.LoadConfig(dir)
	if err != nil {
		return nil, err
	}
	info := &modelInfo{Dir: dir, Architecture: cfg.Architecture, Parameters: cfg.ParamCount(), TorchDType: cfg.TorchDType,
		MemoryBytes: map[string]int64{}, StoredDTypes: map[string]int{}, Layers: cfg.NumLayers, Hidden: cfg.HiddenSize,
		Intermediate: cfg.IntermediateSize, Heads: cfg.NumHeads, KVHeads: cfg.NumKVHeads, HeadDim: cfg.HeadDim,
		Vocab: cfg.VocabSize, Context: cfg.MaxPositionEmbeddings, RopeTheta: cfg.RopeTheta,
		SlidingWindow: cfg.SlidingWindow, TiedEmbeddings: cfg.TieWordEmbeddings}
	if s := cfg.RopeScaling; s != nil {
		info.RopeScaling = fmt.Sprintf("%s ×%g", s.Type, s.Factor)
	}
	for _, dt := range []string{llm.DTypeF32, llm.DTypeBF16, llm.DTypeInt8, llm.DTypeNF4} {
		if info.MemoryBytes[dt], err = cfg.WeightBytes(dt); err != nil {
			return nil, err
		}
	}
	st, err := safetensors.OpenDir(dir)
	if err != nil {
		return nil, err
	}
	for _, n := range st.Names() {
		ti, _ := st.Info(n)
		info.StoredDTypes[string(ti.DType)]++
	}
	st.Close()
	if _, err := os.Stat(filepath.Join(dir, "tokenizer.json")); err == nil {
		tk, err := tokenizer.Load(dir)
		if err != nil {
			info.TokenizerProblems = err.Error()
		} else {
			ti := &tokenizerInfo{VocabSize: tk.VocabSize(), Added: len(tk.AddedTokens())}
			if s, ok := tk.IDToToken(tk.BOS()); ok {
				ti.BOS = s
			}
			if s, ok := tk.IDToToken(tk.EOS()); ok {
				ti.EOS = s
			}
			info.Tokenizer = ti
		}
	}
	return info, nil
}

func printModelInfo(env *Env, m *modelInfo) {
	w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "architecture\t%s\n", m.Architecture)
	fmt.Fprintf(w, "parameters\t%d (%.1fM)\n", m.Parameters, float64(m.Parameters)/1e6)
	var stored []string
	for dt, n := range m.StoredDTypes {
		stored = append(stored, fmt.Sprintf("%s×%d", dt, n))
	}
	sort.Strings(stored)
	fmt.Fprintf(w, "stored tensors\t%v (torch_dtype %s)\n", stored, m.TorchDType)
	fmt.Fprintf(w, "layers\t%d (hidden %d, intermediate %d)\n", m.Layers, m.Hidden, m.Intermediate)
	fmt.Fprintf(w, "attention\t%d heads, %d kv heads, head dim %d\n", m.Heads, m.KVHeads, m.HeadDim)
	if m.SlidingWindow > 0 {
		fmt.Fprintf(w, "sliding window\t%d\n", m.SlidingWindow)
	}
	rope := fmt.Sprintf("theta %g", m.RopeTheta)
	if m.RopeScaling != "" {
		rope += ", scaling " + m.RopeScaling
	}
	fmt.Fprintf(w, "rope\t%s\n", rope)
	fmt.Fprintf(w, "context\t%d\n", m.Context)
	fmt.Fprintf(w, "vocabulary\t%d (tied embeddings: %v)\n", m.Vocab, m.TiedEmbeddings)
	for _, dt := range []string{llm.DTypeF32, llm.DTypeBF16, llm.DTypeInt8, llm.DTypeNF4} {
		fmt.Fprintf(w, "memory %s\t%.1f MiB\n", dt, float64(m.MemoryBytes[dt])/(1<<20))
	}
	switch {
	case m.Tokenizer != nil:
		fmt.Fprintf(w, "tokenizer\t%d tokens (%d added), bos %q, eos %q\n", m.Tokenizer.VocabSize, m.Tokenizer.Added, m.Tokenizer.BOS, m.Tokenizer.EOS)
	case m.TokenizerProblems != "":
		fmt.Fprintf(w, "tokenizer\terror: %s\n", m.TokenizerProblems)
	default:
		fmt.Fprintf(w, "tokenizer\tnone (no tokenizer.json)\n")
	}
	w.Flush()
}

// chatMLTemplate is the ChatML template SmolLM2-Instruct and Qwen2 use.
const chatMLTemplate = `{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}`

func newModelInitCmd(env *Env) *cobra.Command {
	var arch, configFile, preset, out, tokDir string
	var seed uint64
	cmd := &cobra.Command{
		Use:   "init --out DIR",
		Short: "Write a randomly initialised model folder (config.json, model.safetensors, tokenizer)",
		Long: `Writes a Hugging Face model folder with random weights (N(0, 0.02²) as
transformers initialises them) for a preset shape or a config.json, plus a
byte-level tokenizer.json (256 byte tokens and the ChatML specials
<|endoftext|>, <|im_start|>, <|im_end|> as ids 0-2) and a tokenizer_config.json
with a ChatML chat template.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return &exitError{code: 2, err: errors.New("model init: --out DIR is required")}
			}
			var cfg llm.Config
			var err error
			if configFile != "" {
				b, rerr := os.ReadFile(configFile)
				if rerr != nil {
					return fmt.Errorf("model init: %w", rerr)
				}
				cfg, err = llm.ParseConfig(b)
			} else {
				cfg, err = llm.Preset(preset, arch)
			}
			if err != nil {
				return fmt.Errorf("model init: %w", err)
			}
			if tokDir != "" {
				if err := sizeToTokenizer(&cfg, tokDir); err != nil {
					return fmt.Errorf("model init: --tokenizer: %w", err)
				}
			}
			m, err := llm.New(cfg, seed)
			if err != nil {
				return fmt.Errorf("model init: %w", err)
			}
			if err := m.Save(out); err != nil {
				return fmt.Errorf("model init: %w", err)
			}
			if tokDir != "" {
				err = copyTokenizerFiles(tokDir, out)
			} else {
				err = writeByteTokenizer(cmd.Context(), out, cfg)
			}
			if err != nil {
				return fmt.Errorf("model init: %w", err)
			}
			fmt.Fprintf(env.Stdout, "wrote %s: %s, %.1fM parameters\n", out, cfg.Architecture, float64(cfg.ParamCount())/1e6)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&arch, "arch", "llama", "architecture: llama, mistral or qwen2 (with --preset)")
	f.StringVar(&configFile, "config", "", "config.json to use instead of a preset")
	f.StringVar(&preset, "preset", "tiny", "shape preset: tiny, small or smollm2-135m")
	f.StringVar(&tokDir, "tokenizer", "", "tokenizer folder (whet tokenize train): sizes the vocabulary, sets BOS/EOS and copies its files")
	f.StringVar(&out, "out", "", "output folder")
	f.Uint64Var(&seed, "seed", 0, "random seed for the weights")
	return cmd
}

// writeByteTokenizer writes a byte-level tokenizer whose specials match the
// config's BOS (<|im_start|>) and EOS (<|im_end|>) ids when they are 1 and 2.
func writeByteTokenizer(ctx context.Context, dir string, cfg llm.Config) error {
	specials := []string{"<|endoftext|>", "<|im_start|>", "<|im_end|>"}
	if cfg.VocabSize < 256+len(specials) {
		return fmt.Errorf("vocab_size %d too small for a byte-level tokenizer (need %d)", cfg.VocabSize, 256+len(specials))
	}
	tk, err := tokenizer.Train(ctx, func(func(string) bool) {}, tokenizer.TrainOptions{
		VocabSize: 256 + len(specials), SpecialTokens: specials, ByteLevel: true})
	if err != nil {
		return err
	}
	if err := tk.Save(filepath.Join(dir, "tokenizer.json")); err != nil {
		return err
	}
	tc := map[string]any{
		"bos_token":        "<|im_start|>",
		"eos_token":        "<|im_end|>",
		"pad_token":        "<|endoftext|>",
		"add_bos_token":    false,
		"chat_template":    chatMLTemplate,
		"model_max_length": cfg.MaxPositionEmbeddings,
		"tokenizer_class":  "GPT2Tokenizer",
	}
	b, _ := json.MarshalIndent(tc, "", "  ")
	return os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), append(b, '\n'), 0o644)
}
