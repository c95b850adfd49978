package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEmbedCommand(t *testing.T) {
	dir := filepath.Join("..", "encoder", "testdata", "tiny-bert")
	data, err := os.ReadFile(filepath.Join("..", "encoder", "testdata", "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Embed struct {
			Texts          []string    `json:"texts"`
			CLS            [][]float64 `json:"cls"`
			MeanNormalized [][]float64 `json:"mean_normalized"`
		} `json:"embed"`
	}
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want [][]float64
	}{
		{"model defaults", nil, g.Embed.MeanNormalized[:len(g.Embed.Texts)]},
		{"cls unnormalised, batch 3", []string{"--pooling", "cls", "--normalize=false", "--batch", "3"}, g.Embed.CLS[:len(g.Embed.Texts)]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			stdin := strings.NewReader(strings.Join(g.Embed.Texts, "\n") + "\n")
			args := append([]string{"embed", "--model", dir}, tt.args...)
			if code := Main(context.Background(), args, nil, stdin, &stdout, &stderr); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("%d lines, want %d", len(lines), len(tt.want))
			}
			for i, line := range lines {
				var v []float64
				if err := json.Unmarshal([]byte(line), &v); err != nil {
					t.Fatal(err)
				}
				for j := range v {
					if d := math.Abs(v[j] - tt.want[i][j]); d > 1e-4*math.Max(math.Abs(tt.want[i][j]), 1e-2) {
						t.Fatalf("line %d[%d] = %v, want %v", i, j, v[j], tt.want[i][j])
					}
				}
			}
		})
	}
	var stderr bytes.Buffer
	if code := Main(context.Background(), []string{"embed"}, nil, strings.NewReader(""), &bytes.Buffer{}, &stderr); code != 2 {
		t.Fatalf("missing --model: exit %d, want 2", code)
	}
}
