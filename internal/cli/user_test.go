package cli

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kefu-cn/kefu/internal/app"
	"github.com/kefu-cn/kefu/internal/config"
	"github.com/kefu-cn/kefu/internal/org"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/db/dbtest"
)

// cliDB returns a DSN for a CLI test: a fresh, unmigrated SQLite file (the command
// migrates it), or a fresh PostgreSQL database with KEFU_TEST_DB=postgres.
func cliDB(t *testing.T) string {
	t.Helper()
	if dbtest.Engine() == "postgres" {
		return dbtest.NewDSN(t)
	}
	return "sqlite:" + filepath.Join(t.TempDir(), "kefu.db")
}

type cliRun struct {
	code           int
	stdout, stderr string
}

func runCLI(t *testing.T, keyFile, stdin string, args ...string) cliRun {
	t.Helper()
	var out, errb bytes.Buffer
	env := &Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Getenv: func(k string) string {
		if k == "KEFU_KEY_FILE" {
			return keyFile
		}
		return ""
	}}
	code := RunEnv(context.Background(), env, append([]string{"kefu"}, args...))
	return cliRun{code: code, stdout: out.String(), stderr: errb.String()}
}

// openTestApp opens the same database and keys the commands used.
func openTestApp(t *testing.T, dsn, keyFile string) *app.App {
	t.Helper()
	cfg := config.Default()
	cfg.DB, cfg.KeyFile = dsn, keyFile
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	a, err := app.New(context.Background(), cfg, app.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func TestUserAddAndToken(t *testing.T) {
	dsn := cliDB(t)
	keys := filepath.Join(t.TempDir(), "kefu.keys")

	r := runCLI(t, keys, "Str0ng-Secret\n", "user", "add", "--username", "Chief", "--role", "admin", "--name", "Chief Admin", "--db", dsn)
	if r.code != ExitOK {
		t.Fatalf("user add: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runCLI(t, keys, "", "token", "create", "--user", "chief", "--name", "ci", "--db", dsn)
	if r.code != ExitOK {
		t.Fatalf("token create: exit %d\n%s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	token := strings.TrimSpace(lines[len(lines)-1])
	if token == "" || strings.Contains(token, " ") {
		t.Fatalf("last line is not a token: %q", r.stdout)
	}

	a := openTestApp(t, dsn, keys)
	hs := httptest.NewServer(a.Handler())
	defer hs.Close()
	req, _ := http.NewRequest("GET", hs.URL+"/api/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := hs.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte(`"username":"chief"`)) || !bytes.Contains(body, []byte(`"roles":["admin"]`)) {
		t.Fatalf("GET /api/v1/me with the CLI token: %d %s", resp.StatusCode, body)
	}
	ctx := authz.WithActor(context.Background(), authz.System("test"))
	st, err := a.Org.StaffByUsername(ctx, "chief")
	if err != nil || st.DisplayName != "Chief Admin" {
		t.Fatalf("stored %+v %v", st, err)
	}
	if err := a.Auth.VerifyPassword(ctx, st.ID, "Str0ng-Secret"); err != nil {
		t.Fatalf("password from stdin: %v", err)
	}
	var n int
	if err := a.DB.QueryRow(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = ? AND actor = ?`, "staff.create", "system:cli").Scan(&n); err != nil || n != 1 {
		t.Fatalf("staff.create by system:cli: n=%d err=%v", n, err)
	}
}

func TestUserCommandsRefuseBadInput(t *testing.T) {
	dsn := cliDB(t)
	keys := filepath.Join(t.TempDir(), "kefu.keys")
	if r := runCLI(t, keys, "Str0ng-Secret\n", "user", "add", "--username", "ops", "--role", "agent", "--db", dsn); r.code != ExitOK {
		t.Fatalf("setup: %d %s", r.code, r.stderr)
	}
	// Department "cs" does not exist; "1" is not a department id either (none exist).
	cases := []struct {
		name  string
		stdin string
		args  []string
		want  string // fragment of the one-line error
	}{
		{"unknown role", "Str0ng-Secret\n", []string{"user", "add", "--username", "user1", "--role", "pilot"}, "role"},
		{"unknown dept", "Str0ng-Secret\n", []string{"user", "add", "--username", "user1", "--role", "agent", "--dept", "cs"}, "dept"},
		{"bad username", "Str0ng-Secret\n", []string{"user", "add", "--username", "no way", "--role", "agent"}, "username"},
		{"duplicate username", "Str0ng-Secret\n", []string{"user", "add", "--username", "ops", "--role", "agent"}, "username"},
		{"short password", "short\n", []string{"user", "add", "--username", "user1", "--role", "agent"}, "password"},
		{"empty password", "\n", []string{"user", "add", "--username", "user1", "--role", "agent"}, "password"},
		{"no stdin", "", []string{"user", "add", "--username", "user1", "--role", "agent"}, "password"},
		{"password flag", "", []string{"user", "add", "--username", "user1", "--role", "agent", "--password", "Str0ng-Secret"}, "password"},
		{"password argument", "", []string{"user", "add", "--username", "user1", "--role", "agent", "Str0ng-Secret"}, "standard input"},
		{"missing role", "Str0ng-Secret\n", []string{"user", "add", "--username", "user1"}, "--role"},
		{"no subcommand", "", []string{"user"}, "subcommand"},
		{"passwd unknown user", "Str0ng-Secret\n", []string{"user", "passwd", "ghost"}, "ghost"},
		{"passwd short", "abc\n", []string{"user", "passwd", "ops"}, "password"},
		{"passwd two names", "Str0ng-Secret\n", []string{"user", "passwd", "ops", "Str0ng-Secret"}, "standard input"},
		{"token unknown user", "", []string{"token", "create", "--user", "ghost"}, "ghost"},
		{"token no user", "", []string{"token", "create"}, "--user"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runCLI(t, keys, c.stdin, append(c.args, "--db", dsn)...)
			if r.code != ExitUsage {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, ExitUsage, r.stdout, r.stderr)
			}
			first := strings.SplitN(strings.TrimSpace(r.stderr), "\n", 2)[0]
			if !strings.Contains(r.stderr, c.want) {
				t.Fatalf("stderr %q does not name %q", first, c.want)
			}
		})
	}
	a := openTestApp(t, dsn, keys)
	ctx := authz.WithActor(context.Background(), authz.System("test"))
	if n, err := a.Org.CountStaff(ctx); err != nil || n != 1 {
		t.Fatalf("refused commands wrote staff: n=%d err=%v", n, err)
	}
	st, err := a.Org.StaffByUsername(ctx, "ops")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Auth.VerifyPassword(ctx, st.ID, "Str0ng-Secret"); err != nil {
		t.Fatalf("refused passwd changed the password: %v", err)
	}
}

func TestUserPasswdAndDept(t *testing.T) {
	dsn := cliDB(t)
	keys := filepath.Join(t.TempDir(), "kefu.keys")
	a := openTestApp(t, dsn, keys)
	ctx := authz.WithActor(context.Background(), authz.System("test"))
	dep, err := a.Org.CreateDepartment(ctx, orgDept("cs"))
	if err != nil {
		t.Fatal(err)
	}
	if r := runCLI(t, keys, "Str0ng-Secret\r\n", "user", "add", "--username", "lead", "--role", "supervisor", "--dept", "cs", "--db", dsn); r.code != ExitOK {
		t.Fatalf("user add --dept code: %d %s", r.code, r.stderr)
	}
	if r := runCLI(t, keys, "Str0ng-Secret\n", "user", "add", "--username", "lead2", "--role", "agent", "--dept", itoa(dep.ID), "--db", dsn); r.code != ExitOK {
		t.Fatalf("user add --dept id: %d %s", r.code, r.stderr)
	}
	// Flags may follow the user name.
	if r := runCLI(t, keys, "Other-Secret-9\n", "user", "passwd", "lead", "--db", dsn); r.code != ExitOK {
		t.Fatalf("user passwd: %d %s", r.code, r.stderr)
	}
	for _, u := range []string{"lead", "lead2"} {
		st, err := a.Org.StaffByUsername(ctx, u)
		if err != nil || st.DeptID != dep.ID {
			t.Fatalf("%s: %+v %v", u, st, err)
		}
	}
	st, _ := a.Org.StaffByUsername(ctx, "lead")
	if err := a.Auth.VerifyPassword(ctx, st.ID, "Other-Secret-9"); err != nil {
		t.Fatalf("new password: %v", err)
	}
	if err := a.Auth.VerifyPassword(ctx, st.ID, "Str0ng-Secret"); err == nil {
		t.Fatal("old password still works")
	}
}

func orgDept(code string) org.DepartmentInput {
	return org.DepartmentInput{Code: code, Name: "Dept " + code}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
