package cli

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/whet-dev/whet/internal/api"
	"github.com/whet-dev/whet/internal/audit"
	"github.com/whet-dev/whet/internal/store"
)

// syncBuffer is a bytes.Buffer safe for a server goroutine and a test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func run(t *testing.T, vars []string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, vars, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestConfigPrintMasksSecrets(t *testing.T) {
	code, out, errs := run(t, []string{"WHET_ADMIN_TOKEN=whet_boot_ABCDEFGHJKLMNPQRSTUV", "WHET_WORKERS=5"},
		"config", "print", "--db", "postgres://whet:hunter2@db/whet", "--addr", "0.0.0.0:9999")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, leak := range []string{"hunter2", "ABCDEFGHJKLMNPQRSTUV"} {
		if strings.Contains(out, leak) {
			t.Errorf("config print leaks %q", leak)
		}
	}
	for _, want := range []string{`addr: "0.0.0.0:9999"`, `workers: "5"`, `admin_token: "****"`} {
		if !strings.Contains(out, want) {
			t.Errorf("config print lacks %s:\n%s", want, out)
		}
	}
	if code, _, _ := run(t, []string{"WHET_WORKERS=lots"}, "config", "print"); code != 2 {
		t.Errorf("bad env: exit %d, want 2", code)
	}
}

func TestAuditVerifyCommand(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	db, err := store.Open(ctx, "", dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	l := audit.New(db, nil)
	for i := 0; i < 4; i++ {
		if err := db.Tx(ctx, func(tx *sql.Tx) error {
			return l.Append(ctx, tx, audit.Entry{OrgID: "org_x", ActorID: "key_x", Action: "project.create", TargetType: "project", TargetID: store.NewID("prj")})
		}); err != nil {
			t.Fatal(err)
		}
	}
	code, out, _ := run(t, nil, "audit", "verify", "--data", dir)
	if code != 0 || !strings.Contains(out, "OK: 4 records") {
		t.Fatalf("clean chain: exit %d: %s", code, out)
	}
	code, out, _ = run(t, nil, "audit", "export", "--data", dir, "--format", "csv")
	if code != 0 || strings.Count(out, "\n") != 5 {
		t.Fatalf("export: exit %d: %s", code, out)
	}
	var id string
	db.SQL.QueryRow(`SELECT id FROM audit_logs WHERE seq = 2`).Scan(&id)
	db.SQL.Exec(`UPDATE audit_logs SET target_id = 'prj_forged' WHERE seq = 2`)
	db.Close()
	code, out, errs := run(t, nil, "audit", "verify", "--data", dir)
	if code != 3 || !strings.Contains(out, id) || !strings.Contains(errs, "record 2") {
		t.Fatalf("tampered chain: exit %d: %s %s", code, out, errs)
	}
}

// startServe runs `whet serve` in the background and returns its URL, its
// stdout and a stop function that cancels it (as SIGTERM does) and returns
// the exit code.
func startServe(t *testing.T, args ...string) (base string, out *syncBuffer, stop func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, errb := &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), nil, strings.NewReader(""), out, errb)
	}()
	urlRE := regexp.MustCompile(`"url":"(http://127\.0\.0\.1:\d+)"`)
	deadline := time.Now().Add(60 * time.Second)
	for base == "" {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("server did not start: %s", errb.String())
		}
		select {
		case code := <-done:
			cancel()
			t.Fatalf("serve exited %d: %s", code, errb.String())
		case <-time.After(20 * time.Millisecond):
		}
		if m := urlRE.FindStringSubmatch(errb.String()); m != nil {
			base = m[1]
		}
	}
	var once sync.Once
	code := 0
	stop = func() int {
		once.Do(func() {
			cancel()
			select {
			case code = <-done:
			case <-time.After(60 * time.Second):
				t.Fatal("serve did not shut down")
			}
			if code == 0 && !strings.Contains(errb.String(), `"msg":"stopped"`) {
				t.Errorf("no clean stop logged: %s", errb.String())
			}
		})
		return code
	}
	t.Cleanup(func() { stop() })
	return base, out, stop
}

func TestServeLifecycle(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	base, out, stop := startServe(t, "--data", dir, "--workers", "1")
	tok, err := os.ReadFile(filepath.Join(dir, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "admin.token")); fi.Mode().Perm() != 0o600 {
		t.Errorf("admin.token mode %v", fi.Mode().Perm())
	}
	token := strings.TrimSpace(string(tok))
	if !strings.Contains(out.String(), token) {
		t.Error("owner token not printed on first start")
	}
	c := api.NewClient(base, token)
	if _, err := c.CreateProject(ctx, api.ProjectCreate{Name: "lifecycle"}); err != nil {
		t.Fatal(err)
	}
	// the CLI client against the live server
	code, listed, errs := run(t, []string{"WHET_URL=" + base, "WHET_TOKEN=" + token}, "projects", "list", "-o", "json")
	if code != 0 || !strings.Contains(listed, `"lifecycle"`) {
		t.Fatalf("projects list: exit %d: %s %s", code, listed, errs)
	}
	code, keyOut, _ := run(t, []string{"WHET_URL=" + base, "WHET_TOKEN=" + token}, "keys", "create", "ci", "--role", "viewer")
	if code != 0 || !strings.Contains(keyOut, "whet_key_") {
		t.Fatalf("keys create: exit %d: %s", code, keyOut)
	}
	if code, _, _ := run(t, []string{"WHET_URL=" + base, "WHET_TOKEN=whet_key_nope_ABCDEFGHJKLMNPQRSTUV"}, "projects", "list"); code == 0 {
		t.Fatal("bad token accepted")
	}
	if code := stop(); code != 0 {
		t.Fatalf("serve exit %d after shutdown", code)
	}
	// a restart keeps the organisation and the key, and prints no new token
	base2, out2, stop2 := startServe(t, "--data", dir, "--workers", "0")
	if _, err := api.NewClient(base2, token).GetProject(ctx, "prj_missing"); err == nil || err.(*api.Problem).Status != 404 {
		t.Fatalf("owner key after restart: %v", err)
	}
	if strings.Contains(out2.String(), "whet_") {
		t.Fatalf("restart printed a token: %q", out2.String())
	}
	if code := stop2(); code != 0 {
		t.Fatalf("restart exit %d", code)
	}
}
