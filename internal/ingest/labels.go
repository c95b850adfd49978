package ingest

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/whet-dev/whet/internal/dataset"
)

// LabelFunction is one weak-supervision rule: when it matches a document it
// votes for Label, otherwise it abstains.
type LabelFunction struct {
	Name    string `json:"name"`
	Kind    string `json:"kind"`    // regex (on the text), keyword (comma-separated, case-insensitive, any), source (glob on the source URI)
	Pattern string `json:"pattern"` // the regex, keywords or glob
	Label   string `json:"label"`
}

// WeakLabelConfig is the processing body's "weak_labels" part.
type WeakLabelConfig struct {
	Functions []LabelFunction `json:"functions"`
	Model     string          `json:"model,omitempty"` // majority (default) or weighted
}

type compiledLF struct {
	LabelFunction
	re       *regexp.Regexp
	keywords []string
}

func (c *WeakLabelConfig) compile() ([]compiledLF, error) {
	if c.Model == "" {
		c.Model = "majority"
	}
	if c.Model != "majority" && c.Model != "weighted" {
		return nil, fmt.Errorf("%w: weak_labels.model %q (want majority or weighted)", ErrConfig, c.Model)
	}
	out := make([]compiledLF, 0, len(c.Functions))
	names := map[string]bool{}
	for i, f := range c.Functions {
		if f.Name == "" || f.Label == "" || f.Pattern == "" {
			return nil, fmt.Errorf("%w: weak_labels.functions[%d] needs name, pattern and label", ErrConfig, i)
		}
		if names[f.Name] {
			return nil, fmt.Errorf("%w: weak_labels.functions[%d]: duplicate name %q", ErrConfig, i, f.Name)
		}
		names[f.Name] = true
		cf := compiledLF{LabelFunction: f}
		switch f.Kind {
		case "regex":
			re, err := regexp.Compile(f.Pattern)
			if err != nil {
				return nil, fmt.Errorf("%w: weak_labels.functions[%d].pattern: %v", ErrConfig, i, err)
			}
			cf.re = re
		case "keyword":
			for _, k := range strings.Split(f.Pattern, ",") {
				if k = strings.ToLower(strings.TrimSpace(k)); k != "" {
					cf.keywords = append(cf.keywords, k)
				}
			}
		case "source":
		default:
			return nil, fmt.Errorf("%w: weak_labels.functions[%d].kind %q (want regex, keyword or source)", ErrConfig, i, f.Kind)
		}
		out = append(out, cf)
	}
	return out, nil
}

func (f *compiledLF) vote(text, lower, sourceURI string) bool {
	switch f.Kind {
	case "regex":
		return f.re.MatchString(text)
	case "keyword":
		for _, k := range f.keywords {
			if strings.Contains(lower, k) {
				return true
			}
		}
		return false
	default:
		return matchGlob(f.Pattern, sourceURI) || matchGlob(f.Pattern, pathBase(sourceURI))
	}
}

func pathBase(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

// labelDocs applies the label functions to every document and resolves
// their votes with the label model. It returns the label per document (""
// when every function abstained or the vote tied) and the provenance record
// of every function for the manifest.
func labelDocs(cfg *WeakLabelConfig, docs []*procDoc) ([]dataset.LabelFunc, error) {
	lfs, err := cfg.compile()
	if err != nil || len(lfs) == 0 {
		return nil, err
	}
	votes := make([][]int, len(docs)) // per doc: indexes of LFs that fired
	for i, d := range docs {
		lower := strings.ToLower(d.text)
		for j := range lfs {
			if lfs[j].vote(d.text, lower, d.doc.SourceURI) {
				votes[i] = append(votes[i], j)
			}
		}
	}
	resolve := func(weights []float64) []string {
		out := make([]string, len(docs))
		for i, vs := range votes {
			score := map[string]float64{}
			for _, j := range vs {
				score[lfs[j].Label] += weights[j]
			}
			best, bestScore, tie := "", 0.0, false
			for l, s := range score {
				switch {
				case s > bestScore:
					best, bestScore, tie = l, s, false
				case s == bestScore && s > 0:
					tie = true
				}
			}
			if !tie {
				out[i] = best
			}
		}
		return out
	}
	ones := make([]float64, len(lfs))
	for j := range ones {
		ones[j] = 1
	}
	labels := resolve(ones)
	// Estimated accuracy: agreement with the majority label where both exist.
	acc := make([]float64, len(lfs))
	cov := make([]float64, len(lfs))
	for j := range lfs {
		fired, agree, decided := 0, 0, 0
		for i, vs := range votes {
			for _, k := range vs {
				if k != j {
					continue
				}
				fired++
				if labels[i] != "" {
					decided++
					if labels[i] == lfs[j].Label {
						agree++
					}
				}
			}
		}
		if len(docs) > 0 {
			cov[j] = float64(fired) / float64(len(docs))
		}
		acc[j] = 0.5
		if decided > 0 {
			acc[j] = (float64(agree) + 1) / (float64(decided) + 2) // Laplace-smoothed
		}
	}
	if cfg.Model == "weighted" {
		labels = resolve(acc)
	}
	for i := range docs {
		docs[i].label = labels[i]
	}
	prov := make([]dataset.LabelFunc, len(lfs))
	for j, f := range lfs {
		prov[j] = dataset.LabelFunc{Name: f.Name, Kind: f.Kind, Pattern: f.Pattern, Label: f.Label,
			Coverage: round4(cov[j]), Accuracy: round4(acc[j])}
	}
	sort.Slice(prov, func(a, b int) bool { return prov[a].Name < prov[b].Name })
	return prov, nil
}

func round4(x float64) float64 { return float64(int64(x*10000+0.5)) / 10000 }
