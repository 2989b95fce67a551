package cli

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/tabular"
)

func writeSheet(t *testing.T, path string, header []string, rows [][]string) {
	t.Helper()
	format, err := tabular.FormatOf(path)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := tabular.NewWriter(&buf, format, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteHeader(header); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		vals := make([]any, len(r))
		for i, v := range r {
			vals[i] = v
		}
		if err := w.WriteRow(vals); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

func readRows(t *testing.T, path string) [][]string {
	t.Helper()
	format, err := tabular.FormatOf(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rd, err := tabular.NewReader(bytes.NewReader(b), int64(len(b)), format, tabular.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	out := [][]string{rd.Header()}
	for {
		r, err := rd.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r.Cells)
	}
}

func TestImportExportCustomersCLI(t *testing.T) {
	dsn := cliDB(t)
	dir := t.TempDir()
	keys := filepath.Join(dir, "kefu.keys")
	header := []string{"类型", "名称", "手机", "身份证号", "省", "市", "区县", "详细地址", "标签"}
	good := filepath.Join(dir, "customers.xlsx")
	writeSheet(t, good, header, [][]string{
		{"个人", "张三", "13912345678", "11010519491231002X", "北京市", "北京市", "朝阳区", "建国路88号", "重点；长期"},
		{"企业", "示例公司", "13812345679", "", "上海市", "上海市", "浦东新区", "", ""},
	})
	bad := filepath.Join(dir, "bad.csv")
	writeSheet(t, bad, header, [][]string{
		{"个人", "李四", "13712345678", "", "", "", "", "", ""},
		{"个人", "", "123", "", "", "", "", "", ""},
	})

	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"missing file", []string{"import", "customers", filepath.Join(dir, "nope.xlsx")}, ExitUsage, "", "no such file"},
		{"unsupported format", []string{"import", "customers", filepath.Join(dir, "c.xls")}, ExitUsage, "", "unsupported format"},
		{"no file argument", []string{"import", "customers"}, ExitUsage, "", "missing FILE"},
		{"no noun", []string{"import", good}, ExitUsage, "", "usage"},
		{"not a spreadsheet", []string{"import", "customers", keys}, ExitUsage, "", ""},
		{"dry run", []string{"import", "customers", good, "--dry-run"}, ExitOK, "dry run: 2 rows checked", ""},
		{"rows fail", []string{"import", "customers", "--dry-run", bad}, ExitFail, bad + ".errors.xlsx", "nothing was imported"},
		{"rows fail for real", []string{"import", "customers", bad}, ExitFail, bad + ".errors.xlsx", "名称"},
		{"import", []string{"import", "customers", good}, ExitOK, "imported 2 customers (2 rows)", ""},
		{"again: duplicates", []string{"import", "customers", good}, ExitFail, good + ".errors.xlsx", ""},
	}
	// A keys file must exist before "not a spreadsheet" names it.
	if r := runCLI(t, keys, "", "migrate", "--db", dsn); r.code != ExitOK {
		t.Fatalf("migrate: %d %s", r.code, r.stderr)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append([]string{}, tc.args...), "--db", dsn)
			if tc.name == "no noun" {
				args = tc.args
			}
			r := runCLI(t, keys, "", args...)
			if r.code != tc.code || !strings.Contains(r.stdout, tc.stdout) || !strings.Contains(r.stderr, tc.stderr) {
				t.Fatalf("exit %d (want %d)\nstdout: %s\nstderr: %s", r.code, tc.code, r.stdout, r.stderr)
			}
		})
	}
	// The report of the failed import names row, column and problem.
	rep := readRows(t, bad+".errors.xlsx")
	if len(rep) != 3 || rep[1][0] != "3" || rep[1][1] != "名称" || rep[2][1] != "手机" {
		t.Fatalf("report: %q", rep)
	}
	a := openTestApp(t, dsn, keys)
	var n int
	if err := a.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM customers`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("customers: %d %v", n, err)
	}
	var imports int
	if err := a.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM audit_log WHERE action = 'customer.import'`).Scan(&imports); err != nil || imports != 5 {
		t.Errorf("customer.import audit entries: %d %v", imports, err)
	}

	// Export: masked by default, clear with --clear; both audited.
	for _, tc := range []struct {
		file  string
		flags []string
		clear bool
	}{{"out.xlsx", nil, false}, {"out.csv", []string{"--clear"}, true}, {"en.csv", []string{"--lang", "en"}, false}} {
		path := filepath.Join(dir, tc.file)
		r := runCLI(t, keys, "", append([]string{"export", "customers", path, "--db", dsn}, tc.flags...)...)
		if r.code != ExitOK || !strings.Contains(r.stdout, "exported 2 customers") {
			t.Fatalf("export %s: %d %s %s", tc.file, r.code, r.stdout, r.stderr)
		}
		rows := readRows(t, path)
		all := strings.Join(strings.Fields(strings.Join(flatten(rows), " ")), " ")
		if tc.clear != strings.Contains(all, "13912345678") || tc.clear != strings.Contains(all, "11010519491231002X") {
			t.Errorf("%s clear=%v: %s", tc.file, tc.clear, all)
		}
		if !tc.clear && !strings.Contains(all, "139****5678") {
			t.Errorf("%s not masked: %s", tc.file, all)
		}
		if tc.file == "en.csv" && rows[0][1] != "Type" {
			t.Errorf("english header: %q", rows[0])
		}
	}
	var clearExports int
	if err := a.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM audit_log WHERE action = 'customer.export' AND detail LIKE '%"clear":true%'`).Scan(&clearExports); err != nil || clearExports != 1 {
		t.Errorf("clear exports audited: %d %v", clearExports, err)
	}
	if r := runCLI(t, keys, "", "export", "customers", filepath.Join(dir, "x.pdf"), "--db", dsn); r.code != ExitUsage {
		t.Errorf("export pdf: %d", r.code)
	}
	// The clear export imports back into a fresh database unchanged.
	dsn2 := cliDB(t)
	keys2 := filepath.Join(t.TempDir(), "kefu.keys")
	if r := runCLI(t, keys2, "", "import", "customers", filepath.Join(dir, "out.csv"), "--db", dsn2); r.code != ExitOK {
		t.Fatalf("re-import: %d %s %s", r.code, r.stdout, r.stderr)
	}
	b := openTestApp(t, dsn2, keys2)
	ctx := authz.WithActor(context.Background(), authz.System("test"))
	list, err := b.Customer.ListCustomers(ctx, customer.Filter{Q: "13912345678"}, 10, "")
	if err != nil || len(list.Items) != 1 || list.Items[0].IDNumber != "11010519491231002X" || list.Items[0].Address != "建国路88号" ||
		strings.Join(list.Items[0].Tags, "|") != "重点|长期" {
		t.Fatalf("round trip: %v %+v", err, list.Items)
	}
}

func flatten(rows [][]string) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r...)
	}
	return out
}
