package hub

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
)

// DefaultEndpoint is used when Options.Endpoint is empty.
const DefaultEndpoint = "https://huggingface.co"

// Errors returned by Resolve and Pull; test with errors.Is. Their text never
// includes the token.
var (
	ErrBadRef      = errors.New("hub: invalid model reference")
	ErrNotFound    = errors.New("hub: not found")
	ErrGated       = errors.New("hub: gated or private: set HF token (hf_token, WHET_HF_TOKEN or HF_TOKEN)")
	ErrNotCached   = errors.New("hub: not in the model cache")
	ErrUnreachable = errors.New("hub: endpoint unreachable")
	ErrIntegrity   = errors.New("hub: downloaded file does not match the hub's digest")
	ErrNotModel    = errors.New("hub: not a model whet can load")
)

// Options configure Resolve and Pull. CacheDir is required; the rest may be
// left zero.
type Options struct {
	// Endpoint is the hub's base URL (DefaultEndpoint when empty), e.g.
	// https://huggingface.co or a mirror with the same HTTP API.
	Endpoint string
	// Token is sent as "Authorization: Bearer" to the endpoint's host only
	// (never to the CDN a download redirects to).
	Token string
	// CacheDir is the content-addressed cache folder (see the package doc).
	CacheDir string
	// Offline makes no request at all: only revisions resolved before can
	// be used.
	Offline bool
	// Progress, when set, is called as a file's bytes arrive (total is -1
	// when unknown). It is called from the resolving goroutine only.
	Progress func(file string, done, total int64)
	// HTTPClient is used for every request (when nil: the default
	// transport, with a one-minute limit on waiting for response headers).
	// Its CheckRedirect is ignored: redirects are followed by hand so the
	// hub's headers can be read and the token kept off CDNs. A download that
	// receives nothing for a minute is cut and resumed on the next call.
	HTTPClient *http.Client
	// AllowPatterns are extra path.Match patterns (e.g. "*.bin",
	// "onnx/*") to download besides the files a whet model needs.
	AllowPatterns []string
}

// Snapshot is a resolved model folder.
type Snapshot struct {
	Ref      string `json:"ref"`
	Repo     string `json:"repo"`
	Revision string `json:"revision"`
	Commit   string `json:"commit"`
	Dir      string `json:"dir"`
	Files    []File `json:"files"`
	// Downloaded is the number of bytes fetched by this call (0 when the
	// cache held everything).
	Downloaded int64 `json:"downloaded_bytes"`
	// Offline is true when the snapshot came from the cache without asking
	// the endpoint (Options.Offline, a pinned commit already cached, or an
	// unreachable endpoint).
	Offline bool `json:"offline"`
}

// File is one file of a Snapshot.
type File struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Resolve turns ref into a local model folder: an hf:// reference is pulled
// into the cache (or found there) and its snapshot folder returned; any other
// ref is a local path, returned unchanged once it is known to exist.
func Resolve(ctx context.Context, ref string, o Options) (string, error) {
	if !IsRef(ref) {
		if _, err := os.Stat(ref); err != nil {
			return "", fmt.Errorf("hub: model %w", err)
		}
		return ref, nil
	}
	s, err := Pull(ctx, ref, o)
	if err != nil {
		return "", err
	}
	return s.Dir, nil
}

// Pull makes sure the files a whet model needs from ref are in the cache
// and returns their snapshot. The files are config.json,
// generation_config.json, tokenizer.json, tokenizer_config.json,
// special_tokens_map.json, chat_template.jinja, the safetensors weights
// (model.safetensors, or the index and the shards it names, or else every
// top-level *.safetensors) and, for adapters, adapter_config.json and
// adapter_model.safetensors; pickled or other formats (.bin, .pt, .h5,
// .onnx, .gguf) only when AllowPatterns names them.
func Pull(ctx context.Context, ref string, o Options) (*Snapshot, error) {
	r, err := ParseRef(ref)
	if err != nil {
		return nil, err
	}
	if o.CacheDir == "" {
		return nil, errors.New("hub: no cache folder configured")
	}
	for _, p := range o.AllowPatterns {
		if _, err := matchPattern(p, "x"); err != nil {
			return nil, fmt.Errorf("hub: allow pattern %q: %w", p, err)
		}
	}
	p := &puller{ref: r, o: o, cache: cache{root: o.CacheDir}}
	if o.Endpoint == "" {
		p.o.Endpoint = DefaultEndpoint
	}
	p.o.Endpoint = strings.TrimRight(p.o.Endpoint, "/")
	if o.Offline {
		return p.fromCache()
	}
	if isCommit(r.rev()) {
		// A pinned commit never changes: no need to ask the endpoint.
		if s, err := p.fromCache(); err == nil {
			return s, nil
		}
	}
	if err := p.initClient(); err != nil {
		return nil, err
	}
	s, err := p.pull(ctx)
	if errors.Is(err, ErrUnreachable) {
		if cs, cerr := p.fromCache(); cerr == nil {
			return cs, nil
		}
		return nil, fmt.Errorf("%w; %s is not in the model cache either", err, r)
	}
	return s, err
}
