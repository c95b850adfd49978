package finetune

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/whet-dev/whet/internal/blob"
	"github.com/whet-dev/whet/internal/llm"
	"github.com/whet-dev/whet/internal/tokenizer"
	"github.com/whet-dev/whet/internal/tokenizer/chat"
	"github.com/whet-dev/whet/internal/train"
)

// ErrModel marks a base or teacher model reference that cannot be resolved.
var ErrModel = errors.New("finetune: model not found")

// NewFormatter loads the tokenizer and chat template of model folder dir
// and returns the formatter that turns records into training examples
// exactly as serving renders them, with the template's hash ("" when the
// model has no chat template: the plain "### Instruction" format is used).
func NewFormatter(dir string, maxLen int) (*tokenizer.Tokenizer, train.Formatter, string, error) {
	tk, err := tokenizer.Load(dir)
	if err != nil {
		return nil, train.Formatter{}, "", fmt.Errorf("finetune: tokenizer: %w", err)
	}
	fm := train.Formatter{Encode: func(s string) []int { return tk.Encode(s, false) }, BOS: tk.BOS(), EOS: tk.EOS(), MaxLen: maxLen}
	tmpl, err := chat.FromTokenizerConfig(dir)
	switch {
	case err == nil:
		fm.Render = func(msgs []train.Message, gen bool) (string, error) {
			cm := make([]chat.Message, len(msgs))
			for i, m := range msgs {
				cm[i] = chat.Message{Role: m.Role, Content: m.Content}
			}
			return tmpl.Render(chat.Input{Messages: cm, AddGenerationPrompt: gen})
		}
		return tk, fm, tmpl.Hash(), nil
	case errors.Is(err, chat.ErrNoTemplate) || errors.Is(err, os.ErrNotExist):
		return tk, fm, "", nil
	default:
		return nil, train.Formatter{}, "", fmt.Errorf("finetune: chat template: %w", err)
	}
}

// baseRef is a resolved model reference: a model folder plus, for a
// registered model version, the adapters to fold into it (oldest first).
type baseRef struct {
	Dir      string
	Adapters []string // adapter folders (temporary) to merge, in order
	cleanup  []string
}

func (b *baseRef) Close() {
	for _, d := range b.cleanup {
		os.RemoveAll(d)
	}
}

// resolveModel resolves ref: a model folder (relative paths are under
// ModelDir), hf://org/name through Resolve, or a registered model version
// mv_… (its base, with its adapter merged in when withAdapters).
func (s *Service) resolveModel(ctx context.Context, orgID, ref string, withAdapters bool) (*baseRef, error) {
	b := &baseRef{}
	for depth := 0; ; depth++ {
		if depth > 8 {
			b.Close()
			return nil, fmt.Errorf("%w: %s: model versions nest deeper than 8", ErrModel, ref)
		}
		switch {
		case strings.HasPrefix(ref, "hf://"):
			if s.Resolve == nil {
				b.Close()
				return nil, fmt.Errorf("%w: %s: hf:// models need the Hugging Face resolver, which this server does not have configured", ErrModel, ref)
			}
			dir, err := s.Resolve(ctx, ref)
			if err != nil {
				b.Close()
				return nil, fmt.Errorf("%w: %s: %v", ErrModel, ref, err)
			}
			b.Dir = dir
		case strings.HasPrefix(ref, "mv_"):
			mv, err := s.GetVersionByID(ctx, orgID, ref)
			if err != nil {
				b.Close()
				return nil, fmt.Errorf("%w: %s", ErrModel, ref)
			}
			if withAdapters {
				dir, err := s.downloadFiles(ctx, mv.AdapterFiles)
				if err != nil {
					b.Close()
					return nil, err
				}
				b.cleanup = append(b.cleanup, dir)
				b.Adapters = append([]string{dir}, b.Adapters...)
			}
			ref = mv.BaseModel
			continue
		default:
			dir := filepath.Clean(ref)
			if !filepath.IsAbs(dir) && s.ModelDir != "" {
				dir = filepath.Join(s.ModelDir, dir)
			}
			if _, err := os.Stat(filepath.Join(dir, "config.json")); err != nil {
				b.Close()
				return nil, fmt.Errorf("%w: %s is not a model folder (no config.json)", ErrModel, ref)
			}
			b.Dir = dir
		}
		return b, nil
	}
}

// loadModel loads a resolved reference with its frozen weights in dtype.
func loadModel(b *baseRef, dtype string) (*llm.Model, error) {
	load := dtype
	if len(b.Adapters) > 0 {
		load = llm.DTypeF32
	}
	m, err := llm.Load(b.Dir, llm.LoadOptions{DType: load})
	if err != nil {
		return nil, err
	}
	for _, dir := range b.Adapters {
		a, err := llm.LoadAdapter(dir)
		if err != nil {
			return nil, err
		}
		if m, err = m.Merge(a); err != nil {
			return nil, err
		}
	}
	if len(b.Adapters) > 0 && dtype != llm.DTypeF32 {
		return m.Convert(dtype)
	}
	return m, nil
}

// downloadFiles writes blobs {name: digest} into a new temporary folder.
func (s *Service) downloadFiles(ctx context.Context, files map[string]string) (string, error) {
	dir, err := os.MkdirTemp("", "whet-files-")
	if err != nil {
		return "", err
	}
	for name, d := range files {
		if name != filepath.Base(name) || name == "." || name == ".." {
			os.RemoveAll(dir)
			return "", fmt.Errorf("finetune: bad file name %q", name)
		}
		if err := s.getBlob(ctx, blob.Digest(d), filepath.Join(dir, name)); err != nil {
			os.RemoveAll(dir)
			return "", err
		}
	}
	return dir, nil
}

func (s *Service) getBlob(ctx context.Context, d blob.Digest, path string) error {
	rc, err := s.Blob.Get(ctx, d)
	if err != nil {
		return fmt.Errorf("finetune: get %s: %w", d, err)
	}
	defer rc.Close()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, rc); err != nil {
		f.Close()
		return fmt.Errorf("finetune: get %s: %w", d, err)
	}
	return f.Close()
}

// putFiles stores the named files of dir in the blob store and returns
// {name: digest}; missing optional files are skipped.
func (s *Service) putFiles(ctx context.Context, dir string, names []string, optional bool) (map[string]string, error) {
	out := map[string]string{}
	for _, n := range names {
		f, err := os.Open(filepath.Join(dir, n))
		if err != nil {
			if optional && errors.Is(err, os.ErrNotExist) {
				continue
			}
			return nil, err
		}
		info, err := s.Blob.Put(ctx, f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("finetune: store %s: %w", n, err)
		}
		out[n] = string(info.Digest)
	}
	return out, nil
}

// tokenizerFiles are copied from the base model into a registered version.
var tokenizerFiles = []string{"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json"}

// adapterFiles are the files of a registered adapter.
var adapterFiles = []string{"adapter_config.json", "adapter_model.safetensors", "whet_manifest.json"}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "{}"
	}
	return string(b)
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
