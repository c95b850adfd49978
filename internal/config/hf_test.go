package config

import (
	"bytes"
	"strings"
	"testing"
)

func TestHubSettings(t *testing.T) {
	c, err := Load("", nil)
	if err != nil || c.HFEndpoint != "https://huggingface.co" || c.HFToken != "" {
		t.Fatalf("defaults: %+v, %v", c, err)
	}
	c, err = Load("", []string{"HF_ENDPOINT=http://127.0.0.1:9/", "HF_TOKEN=hf_fromHF"})
	if err != nil || c.HFEndpoint != "http://127.0.0.1:9/" || c.HFToken != "hf_fromHF" {
		t.Fatalf("HF_* fallback: %+v, %v", c, err)
	}
	c, err = Load("", []string{"WHET_HF_TOKEN=hf_fromWHET", "HF_TOKEN=hf_fromHF", "WHET_HF_CACHE=/tmp/m"})
	if err != nil || c.HFToken != "hf_fromWHET" || c.HFCache != "/tmp/m" {
		t.Fatalf("WHET_* wins: %+v, %v", c, err)
	}
	var out bytes.Buffer
	if err := c.Print(&out); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "hf_fromWHET") || !strings.Contains(out.String(), `hf_token: "****"`) {
		t.Fatalf("hf_token not masked:\n%s", out.String())
	}
	c.HFEndpoint = "ftp://x"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "hf_endpoint") {
		t.Fatalf("bad endpoint: %v", err)
	}
}
