package hub

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// modelFiles are the top-level files a whet model or adapter folder uses
// besides its weights.
var modelFiles = map[string]bool{
	"config.json": true, "generation_config.json": true,
	"tokenizer.json": true, "tokenizer_config.json": true, "special_tokens_map.json": true,
	"chat_template.jinja": true,
	"adapter_config.json": true, "adapter_model.safetensors": true,
}

const indexFile = "model.safetensors.index.json"

// selection is what to fetch from a commit: files, then (when shards is
// set) the shards the fetched index names.
type selection struct {
	files  []remoteFile
	shards bool
}

// selectFiles picks the files of a listing that a whet model needs, plus
// those matching allow.
func selectFiles(ref Ref, listing []remoteFile, allow []string) (selection, error) {
	byName := map[string]remoteFile{}
	for _, f := range listing {
		byName[f.Name] = f
	}
	_, hasConfig := byName["config.json"]
	_, hasAdapter := byName["adapter_config.json"]
	if !hasConfig && !hasAdapter {
		return selection{}, fmt.Errorf("%w: %s has neither config.json nor adapter_config.json", ErrNotModel, ref)
	}
	want := map[string]bool{}
	for _, f := range listing {
		if modelFiles[f.Name] {
			want[f.Name] = true
		}
		for _, p := range allow {
			if ok, _ := matchPattern(p, f.Name); ok {
				want[f.Name] = true
			}
		}
	}
	var sel selection
	switch {
	case byName["model.safetensors"].Name != "":
		want["model.safetensors"] = true
	case byName[indexFile].Name != "":
		want[indexFile] = true
		sel.shards = true
	case hasAdapter && byName["adapter_model.safetensors"].Name != "":
	default:
		n := 0
		for name := range byName {
			if strings.HasSuffix(name, ".safetensors") && !strings.Contains(name, "/") {
				want[name] = true
				n++
			}
		}
		if n == 0 && len(allow) == 0 {
			var others []string
			for name := range byName {
				switch filepath.Ext(name) {
				case ".bin", ".pt", ".pth", ".h5", ".onnx", ".gguf", ".msgpack", ".ckpt":
					others = append(others, name)
				}
			}
			sort.Strings(others)
			return selection{}, fmt.Errorf("%w: %s has no .safetensors weights (whet loads safetensors only; found %v)", ErrNotModel, ref, others)
		}
	}
	for name := range want {
		sel.files = append(sel.files, byName[name])
	}
	sort.Slice(sel.files, func(i, j int) bool { return sel.files[i].Name < sel.files[j].Name })
	return sel, nil
}

// shardFiles reads the index in snap and returns the listing's entries for
// the shards it names.
func shardFiles(ref Ref, snap string, listing []remoteFile) ([]remoteFile, error) {
	b, err := os.ReadFile(filepath.Join(snap, indexFile))
	if err != nil {
		return nil, fmt.Errorf("hub: %s: %w", ref, err)
	}
	var idx struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("%w: %s: %s: %v", ErrNotModel, ref, indexFile, err)
	}
	byName := map[string]remoteFile{}
	for _, f := range listing {
		byName[f.Name] = f
	}
	seen := map[string]bool{}
	var out []remoteFile
	for _, shard := range idx.WeightMap {
		if seen[shard] {
			continue
		}
		seen[shard] = true
		f, ok := byName[shard]
		if !ok {
			return nil, fmt.Errorf("%w: %s: %s names shard %q that the repository does not hold", ErrNotModel, ref, indexFile, clip(shard))
		}
		out = append(out, f)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %s: %s has an empty weight_map", ErrNotModel, ref, indexFile)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
