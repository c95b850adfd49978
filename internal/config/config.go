package config

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
)

// Config is the effective configuration of whet serve and whet worker.
// Each field's yaml key k is also settable as the environment variable
// WHET_<K> and the flag --<k with - for _>.
type Config struct {
	Data     string `yaml:"data" doc:"data directory: SQLite metadata, local blobs, admin.token"`
	Addr     string `yaml:"addr" doc:"API listen address"`
	DB       string `yaml:"db" doc:"metadata database URL: empty (SQLite in data dir), sqlite://PATH or postgres://…" secret:"url"`
	Blob     string `yaml:"blob" doc:"object store URL: empty (DATA/blobs), file:///dir or s3://bucket/prefix?endpoint=…&region=…" secret:"url"`
	LogLevel string `yaml:"log_level" doc:"debug, info, warn or error"`
	Workers  int    `yaml:"workers" doc:"in-process job workers (serve) or workers per process (worker); 0 disables them in serve"`

	AdminToken string `yaml:"admin_token" doc:"owner key of org default, whet_<id>_<secret>; generated when empty" secret:"true"`
	SecretKey  string `yaml:"secret_key" doc:"key for encrypting stored source secrets (AES-GCM) and keying PII pseudonyms; literal source secrets and pseudonym redaction are refused without it" secret:"true"`

	S3AccessKeyID     string `yaml:"s3_access_key_id" doc:"S3 access key id (also AWS_ACCESS_KEY_ID)" secret:"true"`
	S3SecretAccessKey string `yaml:"s3_secret_access_key" doc:"S3 secret key (also AWS_SECRET_ACCESS_KEY)" secret:"true"`
	S3SessionToken    string `yaml:"s3_session_token" doc:"S3 session token (also AWS_SESSION_TOKEN)" secret:"true"`

	Issuer      string        `yaml:"issuer" doc:"iss/aud of whet-issued access tokens"`
	TokenTTL    time.Duration `yaml:"token_ttl" doc:"lifetime of access tokens from POST /v1/auth/token"`
	KeyCacheTTL time.Duration `yaml:"key_cache_ttl" doc:"how long an API-key lookup is cached (revocation delay for other processes)"`

	OIDCIssuer    string `yaml:"oidc_issuer" doc:"trust bearer JWTs from this OIDC issuer"`
	OIDCJWKSURL   string `yaml:"oidc_jwks_url" doc:"the issuer's JWKS URL (default: discovered)"`
	OIDCAudience  string `yaml:"oidc_audience" doc:"required aud claim (empty: not checked)"`
	OIDCUserClaim string `yaml:"oidc_user_claim" doc:"claim holding the user's email"`
	OIDCOrgClaim  string `yaml:"oidc_org_claim" doc:"claim holding the organisation id or name"`
	OIDCRoleClaim string `yaml:"oidc_role_claim" doc:"claim holding the whet role"`

	RateLimit       float64       `yaml:"rate_limit" doc:"requests per second per key (token bucket); 0 disables"`
	RateBurst       int           `yaml:"rate_burst" doc:"token bucket size (0: 2×rate_limit)"`
	MaxBodyBytes    int64         `yaml:"max_body_bytes" doc:"largest accepted request body"`
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout" doc:"how long SIGTERM waits for in-flight requests and jobs"`
	LeaseTTL        time.Duration `yaml:"lease_ttl" doc:"job lease length without a heartbeat"`

	HFEndpoint string `yaml:"hf_endpoint" doc:"Hugging Face-compatible hub that hf://org/name models come from (also HF_ENDPOINT)"`
	HFToken    string `yaml:"hf_token" doc:"hub access token for gated or private models (also HF_TOKEN)" secret:"true"`
	HFCache    string `yaml:"hf_cache" doc:"content-addressed cache of hf:// models (default: ~/.cache/whet/models for local commands, DATA/models for serve and worker)"`
}

// Default returns the built-in defaults.
func Default() *Config {
	return &Config{
		Data: "whet-data", Addr: "127.0.0.1:8080", LogLevel: "info", Workers: 2,
		Issuer: "whet", TokenTTL: time.Hour, KeyCacheTTL: 10 * time.Second,
		OIDCUserClaim: "email", OIDCOrgClaim: "org", OIDCRoleClaim: "role",
		RateLimit: 100, RateBurst: 200, MaxBodyBytes: 1 << 20,
		ShutdownTimeout: 30 * time.Second, LeaseTTL: 30 * time.Second,
		HFEndpoint: "https://huggingface.co",
	}
}

// Field describes one setting.
type Field struct {
	Key    string // yaml key, e.g. "oidc_issuer"
	Env    string // WHET_OIDC_ISSUER
	Flag   string // oidc-issuer
	Doc    string
	Secret string // "", "true" (mask entirely) or "url" (mask the password and secret query parameters)
	value  reflect.Value
}

// Fields lists every setting in declaration order.
func (c *Config) Fields() []Field {
	v := reflect.ValueOf(c).Elem()
	t := v.Type()
	out := make([]Field, 0, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		key := sf.Tag.Get("yaml")
		out = append(out, Field{Key: key, Env: "WHET_" + strings.ToUpper(key), Flag: strings.ReplaceAll(key, "_", "-"),
			Doc: sf.Tag.Get("doc"), Secret: sf.Tag.Get("secret"), value: v.Field(i)})
	}
	return out
}

// ErrUnknownKey reports a setting name that does not exist.
var ErrUnknownKey = errors.New("config: unknown setting")

// Set parses value into the setting named key (yaml key or flag name).
func (c *Config) Set(key, value string) error {
	key = strings.ReplaceAll(key, "-", "_")
	for _, f := range c.Fields() {
		if f.Key != key {
			continue
		}
		switch p := f.value.Addr().Interface().(type) {
		case *string:
			*p = value
		case *int:
			n, err := strconv.Atoi(strings.TrimSpace(value))
			if err != nil {
				return fmt.Errorf("config: %s: %q is not an integer", key, value)
			}
			*p = n
		case *int64:
			n, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
			if err != nil {
				return fmt.Errorf("config: %s: %q is not an integer", key, value)
			}
			*p = n
		case *float64:
			x, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
			if err != nil {
				return fmt.Errorf("config: %s: %q is not a number", key, value)
			}
			*p = x
		case *time.Duration:
			d, err := time.ParseDuration(strings.TrimSpace(value))
			if err != nil {
				return fmt.Errorf("config: %s: %q is not a duration (e.g. 30s, 1h)", key, value)
			}
			*p = d
		default:
			return fmt.Errorf("config: %s: unsupported type %T", key, p)
		}
		return nil
	}
	return fmt.Errorf("%w %q", ErrUnknownKey, key)
}

// lookup finds key in a KEY=VALUE list; the last occurrence wins.
func lookup(env []string, key string) (string, bool) {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == key {
			return v, true
		}
	}
	return "", false
}

// Load builds the configuration from the defaults, the YAML file at path
// (or WHET_CONFIG when path is empty; no file when both are empty), and
// the WHET_* variables in env. The caller then applies flags with Set and
// calls Validate.
func Load(path string, env []string) (*Config, error) {
	c := Default()
	if path == "" {
		path, _ = lookup(env, "WHET_CONFIG")
	}
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		if err := c.LoadYAML(b); err != nil {
			return nil, fmt.Errorf("config: %s: %w", path, err)
		}
	}
	for _, f := range c.Fields() {
		if v, ok := lookup(env, f.Env); ok {
			if err := c.Set(f.Key, v); err != nil {
				return nil, fmt.Errorf("%w (from %s)", err, f.Env)
			}
		}
	}
	for key, alt := range map[string]string{"s3_access_key_id": "AWS_ACCESS_KEY_ID", "s3_secret_access_key": "AWS_SECRET_ACCESS_KEY", "s3_session_token": "AWS_SESSION_TOKEN",
		"hf_endpoint": "HF_ENDPOINT", "hf_token": "HF_TOKEN"} {
		if _, set := lookup(env, "WHET_"+strings.ToUpper(key)); set {
			continue
		}
		if v, ok := lookup(env, alt); ok {
			c.Set(key, v)
		}
	}
	return c, nil
}

// LoadYAML overlays a YAML document onto c; unknown keys are errors.
func (c *Config) LoadYAML(b []byte) error {
	// Decode into a generic map first so that durations and numbers accept
	// the same spellings as env vars and flags.
	var m map[string]any
	if err := yaml.UnmarshalWithOptions(b, &m, yaml.Strict()); err != nil {
		return err
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := m[k]
		if v == nil {
			continue
		}
		s := fmt.Sprint(v)
		if strings.Contains(k, "-") {
			return fmt.Errorf("%w %q (use underscores)", ErrUnknownKey, k)
		}
		if err := c.Set(k, s); err != nil {
			return err
		}
	}
	return nil
}

var adminTokenRE = regexp.MustCompile(`^whet_[A-Za-z0-9_-]+_[A-Za-z0-9]{16,}$`)

// Validate checks the configuration as a whole.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("config: %s: "+format, append([]any{key}, args...)...))
	}
	if c.Data == "" && (c.DB == "" || c.Blob == "") {
		bad("data", "required unless both db and blob are set")
	}
	if _, port, err := net.SplitHostPort(c.Addr); err != nil || port == "" {
		bad("addr", "%q is not host:port", c.Addr)
	}
	switch {
	case c.DB == "", strings.HasPrefix(c.DB, "sqlite:"), strings.HasPrefix(c.DB, "postgres://"), strings.HasPrefix(c.DB, "postgresql://"):
	default:
		bad("db", "want sqlite://PATH or postgres://…, got %q", MaskURL(c.DB))
	}
	switch {
	case c.Blob == "", strings.HasPrefix(c.Blob, "file://"), strings.HasPrefix(c.Blob, "/"), strings.HasPrefix(c.Blob, "."), strings.HasPrefix(c.Blob, "s3://"):
	default:
		bad("blob", "want file:///dir or s3://bucket?…, got %q", MaskURL(c.Blob))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("log_level", "want debug, info, warn or error, got %q", c.LogLevel)
	}
	if c.Workers < 0 || c.Workers > 256 {
		bad("workers", "want 0 to 256, got %d", c.Workers)
	}
	if c.AdminToken != "" && !adminTokenRE.MatchString(c.AdminToken) {
		bad("admin_token", "want whet_<id>_<secret> with a secret of at least 16 letters or digits")
	}
	if c.Issuer == "" {
		bad("issuer", "must not be empty")
	}
	if c.TokenTTL < time.Minute || c.TokenTTL > 24*time.Hour {
		bad("token_ttl", "want 1m to 24h, got %s", c.TokenTTL)
	}
	if c.KeyCacheTTL < 0 || c.KeyCacheTTL > 5*time.Minute {
		bad("key_cache_ttl", "want 0 to 5m, got %s", c.KeyCacheTTL)
	}
	if c.OIDCIssuer != "" {
		if u, err := url.Parse(c.OIDCIssuer); err != nil || u.Scheme == "" || u.Host == "" {
			bad("oidc_issuer", "%q is not a URL", c.OIDCIssuer)
		}
		if c.OIDCIssuer == c.Issuer {
			bad("oidc_issuer", "must differ from issuer")
		}
	}
	if c.OIDCJWKSURL != "" {
		if u, err := url.Parse(c.OIDCJWKSURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") {
			bad("oidc_jwks_url", "%q is not an http(s) URL", c.OIDCJWKSURL)
		}
	}
	if c.RateLimit < 0 || c.RateBurst < 0 {
		bad("rate_limit", "must not be negative")
	}
	if c.MaxBodyBytes < 1024 || c.MaxBodyBytes > 1<<30 {
		bad("max_body_bytes", "want 1 KiB to 1 GiB, got %d", c.MaxBodyBytes)
	}
	if c.ShutdownTimeout <= 0 {
		bad("shutdown_timeout", "must be positive")
	}
	if c.LeaseTTL < time.Second {
		bad("lease_ttl", "want at least 1s, got %s", c.LeaseTTL)
	}
	if u, err := url.Parse(c.HFEndpoint); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		bad("hf_endpoint", "%q is not an http(s) URL", MaskURL(c.HFEndpoint))
	}
	return errors.Join(errs...)
}

// MaskURL hides a URL's password (as "xxxxx") and any query parameter
// whose name suggests a secret.
func MaskURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "****"
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
	}
	q := u.Query()
	changed := false
	for k := range q {
		lk := strings.ToLower(k)
		if strings.Contains(lk, "secret") || strings.Contains(lk, "password") || strings.Contains(lk, "token") || strings.Contains(lk, "key") {
			q.Set(k, "****")
			changed = true
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// Print writes the effective configuration as YAML with secrets masked.
func (c *Config) Print(w io.Writer) error {
	for _, f := range c.Fields() {
		var s string
		switch v := f.value.Interface().(type) {
		case time.Duration:
			s = v.String()
		default:
			s = fmt.Sprint(v)
		}
		switch {
		case s == "":
		case f.Secret == "true":
			s = "****"
		case f.Secret == "url":
			s = MaskURL(s)
		}
		if _, err := fmt.Fprintf(w, "%s: %s  # %s\n", f.Key, strconv.Quote(s), f.Doc); err != nil {
			return err
		}
	}
	return nil
}
