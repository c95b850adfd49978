package config_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/whet-dev/whet/internal/config"
)

func TestPrecedence(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "whet.yaml")
	os.WriteFile(path, []byte("addr: 0.0.0.0:9000\nworkers: 4\ntoken_ttl: 2h\nrate_limit: 7.5\nlog_level: debug\n"), 0o600)
	env := []string{"WHET_WORKERS=8", "WHET_DB=postgres://u:hunter2@db/whet", "OTHER=1", "AWS_SECRET_ACCESS_KEY=awssecret"}
	c, err := config.Load(path, env)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Set("log-level", "warn"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		got, want any
	}{
		{"default survives", c.Issuer, "whet"},
		{"file over default", c.Addr, "0.0.0.0:9000"},
		{"file duration", c.TokenTTL, 2 * time.Hour},
		{"file float", c.RateLimit, 7.5},
		{"env over file", c.Workers, 8},
		{"flag over file", c.LogLevel, "warn"},
		{"aws fallback", c.S3SecretAccessKey, "awssecret"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	c.AdminToken = "whet_admin_ABCDEFGHJKLMNPQRST"
	c.Print(&b)
	out := b.String()
	for _, secret := range []string{"hunter2", "awssecret", "ABCDEFGHJKLMNPQRST"} {
		if strings.Contains(out, secret) {
			t.Errorf("Print leaks %q:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, `addr: "0.0.0.0:9000"`) {
		t.Errorf("Print lacks addr:\n%s", out)
	}
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		yaml string
		env  []string
		key  string
	}{
		{"unknown yaml key", "adr: x\n", nil, "unknown"},
		{"bad env int", "", []string{"WHET_WORKERS=many"}, "workers"},
		{"bad duration", "token_ttl: soon\n", nil, "token_ttl"},
		{"bad db scheme", "", []string{"WHET_DB=mysql://x"}, "db"},
		{"bad addr", "", []string{"WHET_ADDR=nope"}, "addr"},
		{"bad admin token", "", []string{"WHET_ADMIN_TOKEN=letmein"}, "admin_token"},
		{"bad level", "log_level: loud\n", nil, "log_level"},
		{"ttl too long", "token_ttl: 100h\n", nil, "token_ttl"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := ""
			if tc.yaml != "" {
				path = filepath.Join(t.TempDir(), "c.yaml")
				os.WriteFile(path, []byte(tc.yaml), 0o600)
			}
			c, err := config.Load(path, tc.env)
			if err == nil {
				err = c.Validate()
			}
			if err == nil || !strings.Contains(err.Error(), tc.key) {
				t.Fatalf("err = %v, want mention of %s", err, tc.key)
			}
		})
	}
	if err := config.Default().Set("nope", "1"); !errors.Is(err, config.ErrUnknownKey) {
		t.Fatalf("Set unknown: %v", err)
	}
}

func TestMaskURL(t *testing.T) {
	got := config.MaskURL("s3://bucket/p?endpoint=h:9000&secret_key=abc&region=r")
	if strings.Contains(got, "abc") || !strings.Contains(got, "endpoint=h") {
		t.Fatalf("MaskURL = %q", got)
	}
}
