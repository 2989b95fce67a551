package cli_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kefu-cn/kefu/internal/cli"
	"github.com/kefu-cn/kefu/internal/platform/audit"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/db/dbtest"
	"github.com/kefu-cn/kefu/internal/platform/secure"
)

// auditDB returns the DSN of a migrated database holding n audit entries with a
// checkpoint, and the key file that signed it.
func auditDB(t *testing.T, n int) (dsn, keyFile string) {
	t.Helper()
	ctx := context.Background()
	dsn = dbtest.NewDSN(t)
	keyFile = filepath.Join(t.TempDir(), "kefu.keys")
	keys, err := secure.LoadOrCreate(keyFile, true)
	if err != nil {
		t.Fatal(err)
	}
	d, err := db.Open(ctx, dsn, db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	l := audit.New(audit.Options{DB: d, Keys: keys, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	actx := authz.WithActor(ctx, authz.System("test"))
	for i := 0; i < n; i++ {
		if err := l.Record(actx, audit.Entry{Action: "staff.create", TargetType: "staff", TargetID: "1"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	return dsn, keyFile
}

func runVerify(t *testing.T, dsn, keyFile string, extra ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	env := &cli.Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string {
		if k == "KEFU_KEY_FILE" {
			return keyFile
		}
		return ""
	}}
	args := append([]string{"kefu", "audit", "verify", "--db", dsn}, extra...)
	code := cli.RunEnv(context.Background(), env, args)
	return code, stdout.String(), stderr.String()
}

func TestAuditVerifyCommand(t *testing.T) {
	dsn, keyFile := auditDB(t, 6)

	code, out, errOut := runVerify(t, dsn, keyFile)
	if code != cli.ExitOK || !strings.Contains(out, "audit log intact: 6 entries, checkpoint at seq 6") {
		t.Fatalf("intact: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}

	code, _, errOut = runVerify(t, dsn, filepath.Join(t.TempDir(), "missing.keys"))
	if code != cli.ExitUsage || !strings.Contains(errOut, "missing.keys") || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Fatalf("missing key file: exit %d, stderr %q", code, errOut)
	}

	code, _, errOut = runVerify(t, dsn, keyFile, "extra-arg")
	if code != cli.ExitUsage {
		t.Fatalf("extra argument: exit %d, stderr %q", code, errOut)
	}

	// Tamper with entry 4.
	d, err := db.Open(context.Background(), dsn, db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Exec(context.Background(), `UPDATE audit_log SET target_id = '2' WHERE seq = 4`); err != nil {
		t.Fatal(err)
	}
	d.Close()
	code, out, errOut = runVerify(t, dsn, keyFile)
	if code != cli.ExitFail || !strings.Contains(errOut, "audit log broken at entry 4") ||
		!strings.Contains(errOut, "hash mismatch") || !strings.Contains(out, "entry 4") {
		t.Fatalf("tampered: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
}

func TestAuditSubcommands(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"kefu", "audit"}, cli.ExitUsage, "missing subcommand"},
		{[]string{"kefu", "audit", "frobnicate"}, cli.ExitUsage, `unknown subcommand "frobnicate"`},
		{[]string{"kefu", "audit", "verify", "--db", "mysql://x"}, cli.ExitUsage, "sqlite: or postgres://"},
	}
	for _, tc := range tests {
		var stdout, stderr bytes.Buffer
		env := &cli.Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }}
		if code := cli.RunEnv(context.Background(), env, tc.args); code != tc.code || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, stderr.String(), tc.code, tc.want)
		}
	}
}
