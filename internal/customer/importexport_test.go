package customer_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
	"github.com/kefu-cn/kefu/internal/platform/tabular"
)

var importHeader = []string{"类型", "名称", "手机", "电话", "邮箱", "身份证号", "统一社会信用代码", "省", "市", "区县", "详细地址",
	"行业", "负责人", "标签", "备注", "客户关系开始日期"}

// sheet builds a spreadsheet file in memory.
func sheet(t testing.TB, format tabular.Format, header []string, rows [][]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := tabular.NewWriter(&buf, format, "客户")
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
	return buf.Bytes()
}

func runImport(t testing.TB, s *apptest.Server, ctx context.Context, file []byte, format tabular.Format, dry bool) customer.ImportResult {
	t.Helper()
	res, err := s.App.Customer.ImportCustomers(ctx, bytes.NewReader(file), int64(len(file)), format, customer.ImportOptions{DryRun: dry, FileName: "t." + format.String()})
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	return res
}

func hasProblem(errs []tabular.RowError, row int, column, key string) bool {
	for _, e := range errs {
		if e.Row == row && e.Column == column && (key == "" || e.Msg.Key == key) {
			return true
		}
	}
	return false
}

func ioCount(t testing.TB, s *apptest.Server, q string, args ...any) int {
	t.Helper()
	var n int
	if err := s.App.DB.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestImportAllOrNothing(t *testing.T) {
	s := apptest.New(t)
	sup := s.As(t, "supervisor")
	agent := s.As(t, "agent") // username agent_cs, same department
	ctx := actorCtx(t, s, sup)
	g := newIDs(11)
	m1, m2, m3, id1, cc := g.mobile(), g.mobile(), g.mobile(), g.resident(), g.uscc()
	rows := [][]string{
		{"个人", "张三", m1, "", "zhang@example.com", id1, "", "北京市", "北京市", "朝阳区", "建国路88号", "零售", "", "重点；长期", "老客户", "2021-03-01"},
		{"企业", "上海示例贸易有限公司", m2, "021-62345678", "", "", cc, "上海市", "上海市", "浦东新区", "世纪大道100号", "批发和零售业", agent.Staff.Username, "vip,key", "", ""},
		{"person", "李四", "1380013800", "", "", "", "", "", "", "", "", "", "", "", "", "2099-01-01"}, // bad mobile, future date
		{"单位", "王五商行", m3, "", "", "", "", "", "", "", "", "", "nobody", "", "", ""},                 // unknown owner
	}
	before := s.AuditSeq(t)
	res := runImport(t, s, ctx, sheet(t, tabular.XLSX, importHeader, rows), tabular.XLSX, false)
	if res.OK() || res.Created != 0 || res.Rows != 4 || res.Failed != 2 {
		t.Fatalf("result: %+v", res)
	}
	if n := countCustomers(t, s); n != 0 {
		t.Fatalf("%d customers written by a failed import", n)
	}
	for _, want := range []struct {
		row      int
		col, key string
	}{{4, "手机", "cnid.mobile.length"}, {4, "客户关系开始日期", "customer.invalid.future_date"}, {5, "负责人", "customer.io.owner_unknown"}} {
		if !hasProblem(res.Errors, want.row, want.col, "") {
			t.Errorf("no problem for row %d column %s in %+v", want.row, want.col, res.Errors)
		}
	}
	// The report names row, column and problem in the reader's language.
	var rep bytes.Buffer
	if err := s.App.Customer.ImportReport(ctx, res.ID, &rep, i18n.En); err != nil {
		t.Fatal(err)
	}
	cells := readSheet(t, rep.Bytes(), tabular.XLSX)
	if len(cells) < 4 || cells[0][0] != "Row" || !strings.Contains(fmt.Sprint(cells), "nobody") {
		t.Fatalf("report: %q", cells)
	}
	if !s.AuditSince(t, before, "customer.import") {
		t.Error("failed import not audited")
	}

	// Fixed: everything is written in one go, with owners, tags and search.
	rows = rows[:2]
	before = s.AuditSeq(t)
	res = runImport(t, s, ctx, sheet(t, tabular.XLSX, importHeader, rows), tabular.XLSX, false)
	if !res.OK() || res.Created != 2 {
		t.Fatalf("result: %+v", res)
	}
	if n := ioCount(t, s, `SELECT COUNT(*) FROM audit_log WHERE seq > ? AND action = 'customer.import'`, before); n != 1 {
		t.Errorf("%d customer.import entries, want 1", n)
	}
	if n := ioCount(t, s, `SELECT COUNT(*) FROM audit_log WHERE seq > ? AND action = 'customer.create'`, before); n != 0 {
		t.Errorf("%d per-row audit entries", n)
	}
	if n := ioCount(t, s, `SELECT COUNT(*) FROM customer_imports WHERE status = 'done' AND rows_ok = 2`); n != 1 {
		t.Errorf("import record missing")
	}
	if n := ioCount(t, s, `SELECT COUNT(*) FROM customers WHERE owner_id = ? AND name = ?`, agent.Staff.ID, "上海示例贸易有限公司"); n != 1 {
		t.Errorf("owner by username not applied")
	}
	list, err := s.App.Customer.ListCustomers(ctx, customer.Filter{Q: "示例"}, 10, "")
	if err != nil || len(list.Items) != 1 || list.Items[0].Kind != customer.KindOrg || len(list.Items[0].Tags) != 2 {
		t.Fatalf("search after import: %v %+v", err, list.Items)
	}
	list, err = s.App.Customer.ListCustomers(ctx, customer.Filter{Q: m1}, 10, "")
	if err != nil || len(list.Items) != 1 || list.Items[0].IDNumber != id1 || list.Items[0].Tags[0] != "重点" {
		t.Fatalf("phone search after import: %v %+v", err, list.Items)
	}

	// Duplicates against the database and within the file.
	dup := [][]string{
		{"个人", "赵六", m1, "", "", "", "", "", "", "", "", "", "", "", "", ""},
		{"个人", "钱七", g.mobile(), "", "", "", "", "", "", "", "", "", "", "", "", ""},
		{"个人", "孙八", "", "", "", id1, "", "", "", "", "", "", "", "", "", ""},
		{"企业", "另一公司", "", "", "", "", cc, "", "", "", "", "", "", "", "", ""},
	}
	dup = append(dup, []string{"个人", "周九", dup[1][2], "", "", "", "", "", "", "", "", "", "", "", "", ""})
	res = runImport(t, s, ctx, sheet(t, tabular.CSV, importHeader, dup), tabular.CSV, false)
	if res.Created != 0 || res.Failed != 4 {
		t.Fatalf("duplicates: %+v", res)
	}
	for _, want := range []struct {
		row      int
		col, key string
	}{{2, "手机", "customer.io.dup_existing"}, {4, "身份证号", "customer.io.dup_existing"},
		{5, "统一社会信用代码", "customer.io.dup_existing"}, {6, "手机", "customer.io.dup_in_file"}} {
		if !hasProblem(res.Errors, want.row, want.col, want.key) {
			t.Errorf("no %s for row %d column %s in %+v", want.key, want.row, want.col, res.Errors)
		}
	}
	if n := countCustomers(t, s); n != 2 {
		t.Fatalf("%d customers after refused duplicates", n)
	}
}

func TestImportDryRunAndScope(t *testing.T) {
	s := apptest.New(t)
	sup := s.As(t, "supervisor")
	other := s.As(t, "agent@other")
	ctx := actorCtx(t, s, sup)
	g := newIDs(12)
	rows := [][]string{{"个人", "甲", g.mobile(), "", "", "", "", "", "", "", "", "", "", "", "", ""},
		{"个人", "乙", g.mobile(), "", "", "", "", "", "", "", "", "", "", "", "", ""}}
	res := runImport(t, s, ctx, sheet(t, tabular.XLSX, importHeader, rows), tabular.XLSX, true)
	if !res.OK() || res.Created != 0 || res.Rows != 2 || !res.DryRun {
		t.Fatalf("dry run: %+v", res)
	}
	if n := countCustomers(t, s); n != 0 {
		t.Fatalf("dry run wrote %d customers", n)
	}
	if n := ioCount(t, s, `SELECT COUNT(*) FROM customer_imports WHERE dry_run = 1 AND status = 'checked'`); n != 1 {
		t.Errorf("dry run not recorded")
	}
	// A department supervisor cannot import customers for another department's staff,
	// who read as unknown (as a missing username would).
	rows[0][12] = other.Staff.Username
	res = runImport(t, s, ctx, sheet(t, tabular.XLSX, importHeader, rows), tabular.XLSX, false)
	if res.OK() || !hasProblem(res.Errors, 2, "负责人", "customer.io.owner_unknown") || countCustomers(t, s) != 0 {
		t.Fatalf("scope: %+v", res)
	}
	// Header problems: a missing required column and an unknown column.
	res = runImport(t, s, ctx, sheet(t, tabular.XLSX, []string{"名称", "手机号码", "微信"}, [][]string{{"x", g.mobile(), "w"}}), tabular.XLSX, true)
	if !hasProblem(res.Errors, 1, "类型", "customer.io.column_missing") {
		t.Fatalf("missing column not reported: %+v", res.Errors)
	}
	res = runImport(t, s, ctx, sheet(t, tabular.XLSX, []string{"Type", "Name", "Mobile phone", "WeChat"}, [][]string{{"Individual", "x", g.mobile(), "w"}}), tabular.XLSX, true)
	if !hasProblem(res.Errors, 1, "WeChat", "customer.io.column_unknown") || len(res.Errors) != 1 {
		t.Fatalf("unknown column: %+v", res.Errors)
	}
	// English headers and labels, aliases and numbers.
	res = runImport(t, s, ctx, sheet(t, tabular.XLSX, []string{"Type", "Customer name", "Cell", "Employees", "Annual sales (yuan)", "Tier"},
		[][]string{{"Company", "Acme", g.mobile(), "120", "1234.5", "VIP"}, {"Individual", "Bob", g.mobile(), "many", "12.345", "gold"}}), tabular.XLSX, true)
	if res.Failed != 1 || !hasProblem(res.Errors, 3, "Employees", "customer.io.invalid_integer") ||
		!hasProblem(res.Errors, 3, "Annual sales (yuan)", "customer.io.invalid_money") || !hasProblem(res.Errors, 3, "Tier", "field.invalid_choice") {
		t.Fatalf("english file: %+v", res.Errors)
	}
	// Without the permission.
	if _, err := s.App.Customer.ImportCustomers(actorCtx(t, s, s.As(t, "agent")), bytes.NewReader(nil), 0, tabular.CSV, customer.ImportOptions{}); err == nil {
		t.Fatal("agent imported")
	}
}

func TestImportGBKCSV(t *testing.T) {
	s := apptest.New(t)
	ctx := actorCtx(t, s, s.As(t, "supervisor"))
	g := newIDs(13)
	csv := "类型,名称,手机,省,市,区县,详细地址,标签\r\n个人,欧阳娜娜," + g.mobile() + ",广东省,广州市,天河区,天河路385号,粤语；高端\r\n"
	gbk, err := simplifiedchinese.GBK.NewEncoder().String(csv)
	if err != nil {
		t.Fatal(err)
	}
	res := runImport(t, s, ctx, []byte(gbk), tabular.CSV, false)
	if !res.OK() || res.Created != 1 {
		t.Fatalf("gbk: %+v", res)
	}
	list, err := s.App.Customer.ListCustomers(ctx, customer.Filter{Q: "欧阳"}, 10, "")
	if err != nil || len(list.Items) != 1 || list.Items[0].Province != "广东省" || list.Items[0].Address != "天河路385号" ||
		strings.Join(list.Items[0].Tags, "|") != "粤语|高端" {
		t.Fatalf("gbk import stored: %v %+v", err, list.Items)
	}
}

func readSheet(t testing.TB, b []byte, format tabular.Format) [][]string {
	t.Helper()
	rd, err := tabular.NewReader(bytes.NewReader(b), int64(len(b)), format, tabular.Options{})
	if err != nil {
		t.Fatalf("read sheet: %v", err)
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

func TestExportMaskedOrClear(t *testing.T) {
	s := apptest.New(t)
	g := newIDs(14)
	mob, idn := g.mobile(), g.resident()
	create(t, s.As(t, "agent"), map[string]any{"kind": "person", "name": "导出客户", "mobile": mob, "id_number": idn,
		"province": "北京市", "city": "北京市", "district": "朝阳区", "address": "建国路88号", "tags": []string{"a", "b"},
		"annual_sales_fen": 123456})
	create(t, s.As(t, "agent@other"), map[string]any{"kind": "org", "name": "别的部门", "mobile": g.mobile()})
	for _, r := range []string{"admin", "director", "supervisor", "archivist", "agent", "qa"} {
		s.As(t, r)
	}
	type want struct {
		status   int
		clear    bool
		rows     int
		language string
	}
	for role, w := range map[string]want{
		"admin": {200, true, 2, ""}, "director": {200, false, 2, ""}, "supervisor": {200, false, 1, ""},
		"archivist": {200, false, 2, "en"}, "agent": {403, false, 0, ""}, "qa": {403, false, 0, ""},
	} {
		for _, format := range []tabular.Format{tabular.XLSX, tabular.CSV} {
			t.Run(role+"/"+format.String(), func(t *testing.T) {
				c := *s.As(t, role)
				c.Lang = w.language
				before := s.AuditSeq(t)
				r := c.Do(t, "GET", "/api/v1/customers/export?format="+format.String(), nil)
				if r.Status != w.status {
					t.Fatalf("status %d, want %d: %s", r.Status, w.status, r.Body)
				}
				if w.status != 200 {
					return
				}
				if cd := r.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, "."+format.String()) {
					t.Errorf("Content-Disposition %q", cd)
				}
				if r.Header.Get("X-Content-Type-Options") != "nosniff" {
					t.Error("no nosniff")
				}
				cells := readSheet(t, r.Body, format)
				if len(cells) != w.rows+1 {
					t.Fatalf("%d rows, want %d: %q", len(cells)-1, w.rows, cells)
				}
				all := fmt.Sprint(cells)
				if w.clear != strings.Contains(all, mob) || w.clear != strings.Contains(all, idn) || w.clear != strings.Contains(all, "建国路88号") {
					t.Errorf("clear=%v but body is %q", w.clear, all)
				}
				if !w.clear && !strings.Contains(all, mob[:3]+"****"+mob[7:]) {
					t.Errorf("masked mobile missing: %q", all)
				}
				if w.language == "en" {
					if cells[0][1] != "Type" || !strings.Contains(all, "Individual") {
						t.Errorf("english export: %q", cells[:2])
					}
				} else if cells[0][1] != "类型" || !strings.Contains(all, "个人") || !strings.Contains(all, "1234.56") {
					t.Errorf("chinese export: %q", cells)
				}
				var detail string
				if err := s.App.DB.QueryRow(context.Background(), `SELECT detail FROM audit_log WHERE seq > ? AND action = 'customer.export'`, before).Scan(&detail); err != nil {
					t.Fatalf("export not audited: %v", err)
				}
				if !strings.Contains(detail, fmt.Sprintf(`"clear":%v`, w.clear)) || !strings.Contains(detail, fmt.Sprintf(`"count":%d`, w.rows)) {
					t.Errorf("audit detail %s", detail)
				}
			})
		}
	}
	// Filters are kept, a masked file may be asked for, bad filters are refused.
	r := s.As(t, "admin").Do(t, "GET", "/api/v1/customers/export?format=csv&kind=org&masked=1", nil)
	cells := readSheet(t, r.Body, tabular.CSV)
	if r.Status != 200 || len(cells) != 2 || cells[1][2] != "别的部门" || strings.Contains(fmt.Sprint(cells), mob) {
		t.Fatalf("filtered export: %d %q", r.Status, cells)
	}
	if r := s.As(t, "admin").Do(t, "GET", "/api/v1/customers/export?format=pdf", nil); r.Status != 400 {
		t.Errorf("format pdf: %d", r.Status)
	}
	if r := s.As(t, "admin").Do(t, "GET", "/api/v1/customers/export?tier=gold", nil); r.Status != 422 {
		t.Errorf("bad filter: %d %s", r.Status, r.Body)
	}
	// Round trip: a clear export imports again (here refused as duplicates, row by row).
	r = s.As(t, "admin").Do(t, "GET", "/api/v1/customers/export?format=xlsx", nil)
	res := runImport(t, s, actorCtx(t, s, s.As(t, "admin")), r.Body, tabular.XLSX, true)
	if res.Rows != 2 || res.Failed != 2 || !hasProblem(res.Errors, 2, "手机", "customer.io.dup_existing") {
		t.Fatalf("round trip: %+v", res)
	}
}

// multipartBody builds a multipart upload with the field "file".
func multipartBody(t testing.TB, name string, file []byte, fields map[string]string) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = fw.Write(file)
	_ = mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

func TestImportAPI(t *testing.T) {
	s := apptest.New(t)
	for _, r := range []string{"admin", "director", "supervisor", "agent", "qa", "archivist", "sales"} {
		s.As(t, r)
	}
	g := newIDs(15)
	good := sheet(t, tabular.XLSX, importHeader[:3], [][]string{{"个人", "接口客户", g.mobile()}})
	bad := sheet(t, tabular.XLSX, importHeader[:3], [][]string{{"个人", "", "12"}})
	body, ct := multipartBody(t, "客户.xlsx", good, nil)
	upload := func(role, query string, body []byte, ct, lang string) *apptest.Response {
		c := *s.As(t, role)
		c.Lang = lang
		return c.DoWithHeaders(t, "POST", "/api/v1/customers/import"+query, body, map[string]string{"Content-Type": ct})
	}
	// Permission rows per role.
	for role, status := range map[string]int{"agent": 403, "qa": 403, "archivist": 403, "sales": 403, "supervisor": 200, "director": 200, "admin": 200} {
		if r := upload(role, "?dry_run=true", body, ct, ""); r.Status != status {
			t.Errorf("%s import: %d, want %d: %s", role, r.Status, status, r.Body)
		}
		if r := s.As(t, role).Do(t, "GET", "/api/v1/customers/import/template", nil); r.Status != status {
			t.Errorf("%s template: %d, want %d", role, r.Status, status)
		}
	}
	if n := countCustomers(t, s); n != 0 {
		t.Fatalf("dry runs wrote %d customers", n)
	}
	if r := s.Anonymous().DoWithHeaders(t, "POST", "/api/v1/customers/import", body, map[string]string{"Content-Type": ct}); r.Status != 401 {
		t.Errorf("anonymous: %d", r.Status)
	}
	// Real import through multipart.
	r := upload("supervisor", "?dry_run=false", body, ct, "")
	var out struct {
		ImportID  int64 `json:"import_id"`
		Rows      int   `json:"rows"`
		Created   int   `json:"created"`
		ReportURL string
		Errors    []struct {
			Row     int    `json:"row"`
			Column  string `json:"column"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(r.Body, &out); err != nil || r.Status != 200 || out.Created != 1 || out.Rows != 1 || len(out.Errors) != 0 {
		t.Fatalf("import: %d %s", r.Status, r.Body)
	}
	// Raw body with ?filename=, failing rows, messages in English, report download.
	r = upload("supervisor", "?filename=bad.xlsx", bad, "application/octet-stream", "en")
	m := r.JSON(t)
	if r.Status != 422 || !strings.Contains(string(r.Body), `"column":"名称"`) || !strings.Contains(string(r.Body), `"message":"is required"`) ||
		!strings.Contains(string(r.Body), `"row":2`) || !strings.Contains(string(r.Body), `"import_rows_invalid"`) {
		t.Fatalf("bad rows: %d %s", r.Status, r.Body)
	}
	report := s.As(t, "supervisor").Do(t, "GET", m["report_url"].(string), nil)
	if report.Status != 200 || !strings.Contains(report.Header.Get("Content-Disposition"), ".xlsx") {
		t.Fatalf("report: %d %s", report.Status, report.Body)
	}
	cells := readSheet(t, report.Body, tabular.XLSX)
	if len(cells) != 3 || cells[0][0] != "行号" || cells[1][0] != "2" || cells[1][1] != "名称" || cells[1][2] != "必填" {
		t.Fatalf("report cells: %q", cells)
	}
	// Someone else's report is not found for a department supervisor, found for admin.
	if r := s.As(t, "supervisor@other").Do(t, "GET", m["report_url"].(string), nil); r.Status != 404 {
		t.Errorf("other's report: %d", r.Status)
	}
	if r := s.As(t, "admin").Do(t, "GET", m["report_url"].(string), nil); r.Status != 200 {
		t.Errorf("admin report: %d", r.Status)
	}
	// Templates in both formats, headers in the requested language.
	for _, tc := range []struct{ format, lang, first string }{{"xlsx", "", "类型"}, {"csv", "en", "Type"}, {"xlsx", "zh-TW", "類型"}} {
		c := *s.As(t, "supervisor")
		c.Lang = tc.lang
		r := c.Do(t, "GET", "/api/v1/customers/import/template?format="+tc.format, nil)
		f, _ := tabular.FormatOf("x." + tc.format)
		if r.Status != 200 || r.Header.Get("Content-Type") != f.ContentType() {
			t.Fatalf("template %s: %d %s", tc.format, r.Status, r.Header.Get("Content-Type"))
		}
		cells := readSheet(t, r.Body, f)
		if cells[0][0] != tc.first || len(cells) != 2 {
			t.Fatalf("template %s/%s: %q", tc.format, tc.lang, cells)
		}
		// The template's example row passes validation.
		res := runImport(t, s, actorCtx(t, s, s.As(t, "supervisor")), r.Body, f, true)
		if !res.OK() || res.Rows != 1 {
			t.Fatalf("template example row: %+v", res)
		}
	}
	// File problems.
	for _, tc := range []struct {
		name, query string
		body        []byte
		ct          string
		status      int
		has         string
	}{
		{"old excel", "?filename=a.xls", good, "application/octet-stream", 400, "unsupported_format"},
		{"no file name", "", good, "application/octet-stream", 400, "no_file"},
		{"not a zip", "?filename=a.xlsx", []byte("hello"), "application/octet-stream", 400, ""},
		{"empty", "?filename=a.csv", nil, "text/csv", 400, "no_file"},
		{"bad dry_run", "?dry_run=maybe&filename=a.xlsx", good, "application/octet-stream", 400, "dry_run"},
	} {
		r := upload("supervisor", tc.query, tc.body, tc.ct, "")
		if r.Status != tc.status || !strings.Contains(string(r.Body), tc.has) {
			t.Errorf("%s: %d %s", tc.name, r.Status, r.Body)
		}
	}
	// Larger than the global body limit (1 MiB) but within the upload limit.
	big := make([][]string, 0, 30000)
	for i := 0; i < 30000; i++ {
		big = append(big, []string{"个人", fmt.Sprintf("客户%05d 这是一个比较长的客户名称用来把文件变大", i), ""})
	}
	bigCSV := sheet(t, tabular.CSV, importHeader[:3], big)
	if len(bigCSV) < 1<<20 {
		t.Fatalf("test file only %d bytes", len(bigCSV))
	}
	if r := upload("supervisor", "?dry_run=1&filename=big.csv", bigCSV, "text/csv", ""); r.Status != 200 || !strings.Contains(string(r.Body), `"rows":30000`) {
		t.Fatalf("big upload: %d %.300s", r.Status, r.Body)
	}
	// Other routes keep the global limit.
	if r := s.As(t, "supervisor").DoWithHeaders(t, "POST", "/api/v1/customers", bigCSV, nil); r.Status != 413 {
		t.Errorf("global body limit: %d", r.Status)
	}
}

func TestImportPage(t *testing.T) {
	s := apptest.New(t)
	st := s.Staff(t, "sup_page", "supervisor", "cs")
	b := s.Browser(t, st.Username, apptest.Password)
	page := b.Do(t, "GET", "/customers/import", nil)
	if page.Status != 200 || !bytes.Contains(page.Body, []byte(`id="import-form"`)) || !bytes.Contains(page.Body, []byte(`enctype="multipart/form-data"`)) {
		t.Fatalf("import page: %d", page.Status)
	}
	list := b.Do(t, "GET", "/customers?kind=org&province=x", nil)
	if !bytes.Contains(list.Body, []byte(`/api/v1/customers/export?format=xlsx&amp;kind=org&amp;province=x`)) ||
		!bytes.Contains(list.Body, []byte(`href="/customers/import"`)) {
		t.Errorf("list page lacks export/import links")
	}
	g := newIDs(16)
	file := sheet(t, tabular.CSV, importHeader[:3], [][]string{{"个人", "页面客户", g.mobile()}, {"个人", "坏", "1"}})
	body, ct := multipartBody(t, "c.csv", file, map[string]string{"csrf_token": b.CSRF()})
	r := b.DoWithHeaders(t, "POST", "/customers/import", body, map[string]string{"Content-Type": ct})
	if r.Status != 422 || !bytes.Contains(r.Body, []byte(`id="import-problems"`)) || !bytes.Contains(r.Body, []byte(`id="import-report"`)) {
		t.Fatalf("upload page: %d %s", r.Status, r.Body)
	}
	file = sheet(t, tabular.CSV, importHeader[:3], [][]string{{"个人", "页面客户", g.mobile()}})
	body, ct = multipartBody(t, "c.csv", file, map[string]string{"csrf_token": b.CSRF()})
	r = b.DoWithHeaders(t, "POST", "/customers/import", body, map[string]string{"Content-Type": ct})
	if r.Status != 200 || !bytes.Contains(r.Body, []byte(`id="import-summary"`)) || countCustomers(t, s) != 1 {
		t.Fatalf("upload page ok: %d", r.Status)
	}
	// Without the CSRF token the upload is refused.
	anon := s.Browser(t, st.Username, apptest.Password)
	body, ct = multipartBody(t, "c.csv", file, nil)
	req := *anon
	_ = req
	r = s.Anonymous().DoWithHeaders(t, "POST", "/customers/import", body, map[string]string{"Content-Type": ct})
	if r.Status != 303 && r.Status != 401 {
		t.Errorf("anonymous upload page: %d", r.Status)
	}
	// Agents have no import page.
	ag := s.Staff(t, "agent_page", "agent", "cs")
	if r := s.Browser(t, ag.Username, apptest.Password).Do(t, "GET", "/customers/import", nil); r.Status != 403 {
		t.Errorf("agent import page: %d", r.Status)
	}
}

// TestBenchImport100k measures importing 100,000 rows from .xlsx (SPEC numbers: < 60 s,
// < 500 MB). Run with
//
//	KEFU_BENCH_IMPORT=1 go test -run TestBenchImport100k -v -timeout 20m ./internal/customer/
func TestBenchImport100k(t *testing.T) {
	if os.Getenv("KEFU_BENCH_IMPORT") != "1" {
		t.Skip("set KEFU_BENCH_IMPORT=1 to run")
	}
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("KEFU_BENCH_IMPORT_ROWS")); err == nil && v > 0 {
		n = v // a smaller run for profiling
	}
	s := apptest.New(t)
	ctx := authz.WithActor(context.Background(), authz.System("bench"))
	g := newIDs(99)
	path := filepath.Join(t.TempDir(), "customers.xlsx")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	bw := bufio.NewWriter(f)
	w, err := tabular.NewWriter(bw, tabular.XLSX, "客户")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteHeader(importHeader); err != nil {
		t.Fatal(err)
	}
	provinces := [][3]string{{"北京市", "北京市", "朝阳区"}, {"上海市", "上海市", "浦东新区"}, {"广东省", "广州市", "天河区"}, {"浙江省", "杭州市", "西湖区"}}
	seenMobile := map[string]bool{}
	for i := 0; i < n; i++ {
		mob := g.mobile()
		for seenMobile[mob] {
			mob = g.mobile()
		}
		seenMobile[mob] = true
		p := provinces[i%len(provinces)]
		row := []any{"个人", fmt.Sprintf("客户%06d", i), mob, "", fmt.Sprintf("c%d@example.com", i), "", "", p[0], p[1], p[2],
			fmt.Sprintf("幸福路%d号", i%3000), "零售", "", "批量；导入", "", "2020-01-01"}
		unique := func(gen func() string) string {
			v := gen()
			for seenMobile[v] {
				v = gen()
			}
			seenMobile[v] = true
			return v
		}
		if i%2 == 1 {
			row[0], row[1], row[5], row[6] = "企业", fmt.Sprintf("示例贸易有限公司%06d", i), "", unique(g.uscc)
		} else {
			row[5] = unique(g.resident)
		}
		if err := w.WriteRow(row); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	st, _ := f.Stat()
	seenMobile = nil
	runtime.GC()
	resetHWM()
	start := time.Now()
	res, err := s.App.Customer.ImportCustomers(ctx, f, st.Size(), tabular.XLSX, customer.ImportOptions{FileName: "bench.xlsx"})
	elapsed := time.Since(start)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() || res.Created != n {
		t.Fatalf("result: created %d, %d problems, first %+v", res.Created, len(res.Errors), res.Errors[:min(3, len(res.Errors))])
	}
	t.Logf("imported %d rows from %.1f MB .xlsx on %s in %.1f s (%.0f rows/s), peak RSS %.0f MB, GOMAXPROCS=%d",
		n, float64(st.Size())/(1<<20), s.App.DB.Dialect, elapsed.Seconds(), float64(n)/elapsed.Seconds(), vmHWM(), runtime.GOMAXPROCS(0))
	if elapsed > 60*time.Second {
		t.Errorf("import took %v, want < 60 s", elapsed)
	}
	if hwm := vmHWM(); hwm > 500 {
		t.Errorf("peak RSS %.0f MB, want < 500 MB", hwm)
	}
	if got := countCustomers(t, s); got != n {
		t.Fatalf("%d customers", got)
	}
}

func resetHWM() {
	runtime.GC()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// vmHWM is the process's peak resident set size in MB (Linux).
func vmHWM() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb float64
			fmt.Sscanf(strings.TrimSpace(rest), "%f", &kb)
			return kb / 1024
		}
	}
	return 0
}
