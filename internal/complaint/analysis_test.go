package complaint_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/kefu-cn/kefu/internal/app/apptest"
	"github.com/kefu-cn/kefu/internal/complaint"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
)

const anYear = "/api/v1/complaints/analysis?from=2026-01-01&to=2027-01-01"

// anGet fetches the analysis at path as c and decodes it.
func anGet(t *testing.T, c *apptest.Client, path string) complaint.Analysis {
	t.Helper()
	r := c.Do(t, "GET", path, nil)
	if r.Status != 200 {
		t.Fatalf("GET %s: %d %s", path, r.Status, r.Body)
	}
	var an complaint.Analysis
	if err := json.Unmarshal(r.Body, &an); err != nil {
		t.Fatalf("decode: %v\n%s", err, r.Body)
	}
	return an
}

type anShareWant struct {
	label string
	count int64
	share float64
}

func anShares(sh []complaint.AnalysisShare) []anShareWant {
	out := make([]anShareWant, len(sh))
	for i, s := range sh {
		out[i] = anShareWant{s.Label, s.Count, s.Share}
	}
	return out
}

// TestAnalysisNumbers checks every figure of the hand-built set (anDataset) for 2026:
// each issue once (c7 is merged into c1: linked, not counted), c8 of 2025 left out.
func TestAnalysisNumbers(t *testing.T) {
	e := anDataset(t)
	an := anGet(t, e.s.As(t, "director@ana"), anYear)

	wantTotals := complaint.AnalysisTotals{Issues: 7, Linked: 1, Received: 8, Assessed: 6, Valid: 5, Rejected: 1,
		ValidRate: 83.3, RejectedRate: 16.7, FirstDone: 6, FirstOnTime: 5, FirstOnTimeRate: 83.3, ResultDone: 4,
		ResultOnTime: 3, ResultOnTimeRate: 75}
	if an.Totals != wantTotals {
		t.Errorf("totals\n got %+v\nwant %+v", an.Totals, wantTotals)
	}
	if an.Bucket != "month" || len(an.Trend) != 12 {
		t.Fatalf("trend: bucket %q, %d points", an.Bucket, len(an.Trend))
	}
	trend := map[string][4]int64{}
	for _, p := range an.Trend {
		trend[p.Key] = [4]int64{p.Count, p.General, p.Urgent, p.Major}
	}
	for k, want := range map[string][4]int64{"2026-01": {}, "2026-03": {2, 2, 0, 0}, "2026-04": {2, 0, 2, 0},
		"2026-05": {1, 0, 0, 1}, "2026-06": {1, 1, 0, 0}, "2026-07": {1, 1, 0, 0}, "2026-12": {}} {
		if trend[k] != want {
			t.Errorf("trend %s = %v, want %v", k, trend[k], want)
		}
	}
	for _, tc := range []struct {
		name string
		got  []complaint.AnalysisShare
		want []anShareWant
	}{
		{"level", an.ByLevel, []anShareWant{{"\u4e00\u822c", 4, 57.1}, {"\u7d27\u8981", 2, 28.6}, {"\u91cd\u70b9", 1, 14.3}}},
		{"channel", an.ByChannel, []anShareWant{{"\u7535\u8bdd", 4, 57.1}, {"\u90ae\u4ef6", 1, 14.3},
			{"\u6765\u8bbf", 1, 14.3}, {"\u7f51\u9875\u8868\u5355", 1, 14.3}}},
		{"dept", an.ByDept, []anShareWant{{"Dept B", 4, 57.1}, {"Dept A", 3, 42.9}}},
		{"cause", an.ByCause, []anShareWant{{"\u670d\u52a1\u6001\u5ea6", 3, 42.9}, {"\u7ef4\u4fee\u8d28\u91cf", 2, 28.6},
			{"\u539f\u56e0\u672a\u5b9a", 1, 14.3}, {"\u54cd\u5e94\u4e0d\u53ca\u65f6", 1, 14.3}}},
	} {
		if got := anShares(tc.got); !slices.Equal(got, tc.want) {
			t.Errorf("%s\n got %v\nwant %v", tc.name, got, tc.want)
		}
	}
	wantPareto := []complaint.ParetoItem{
		{ID: e.causes["service_attitude"], Label: "\u670d\u52a1\u6001\u5ea6", Count: 3, Percent: 50, Cumulative: 50},
		{ID: e.causes["repair_quality"], Label: "\u7ef4\u4fee\u8d28\u91cf", Count: 2, Percent: 33.3, Cumulative: 83.3},
		{ID: e.causes["slow_response"], Label: "\u54cd\u5e94\u4e0d\u53ca\u65f6", Count: 1, Percent: 16.7, Cumulative: 100},
	}
	if !slices.Equal(an.Pareto, wantPareto) {
		t.Errorf("pareto\n got %+v\nwant %+v", an.Pareto, wantPareto)
	}
	wantStages := []complaint.AnalysisStageTime{
		// c1 2h, c2 4h, c3 6h and c7 (merged, but its move was work done) 100h; c8's was in 2025.
		{Stage: complaint.StageReceived, Label: "\u53d7\u7406", Moves: 4, AvgHours: 28, MedianHours: 5},
		{Stage: complaint.StageAssessing, Label: "\u5224\u65ad", Moves: 2, AvgHours: 7, MedianHours: 7},
	}
	if !slices.Equal(an.Stages, wantStages) {
		t.Errorf("stages\n got %+v\nwant %+v", an.Stages, wantStages)
	}
	if len(an.Repeat) != 3 || an.Repeat[0].CustomerID != e.custX.ID || an.Repeat[0].Count != 3 ||
		an.Repeat[1].CustomerID != e.custY.ID || an.Repeat[1].Count != 2 ||
		an.Repeat[2].CustomerID != e.custZ.ID || an.Repeat[2].Count != 2 {
		t.Errorf("repeat complainants: %+v", an.Repeat)
	}
	for _, r := range an.Repeat {
		if r.Name == "" || strings.Contains(r.Name, "Xavier Xu") || strings.Contains(r.Name, "Yvonne Yang") {
			t.Errorf("repeat complainant name %q should be masked", r.Name)
		}
	}
	sat := an.Satisfaction
	var dist []int64
	for _, d := range sat.Distribution {
		dist = append(dist, d.Count)
	}
	if sat.Answered != 3 || sat.Average != 3.67 || !slices.Equal(dist, []int64{0, 1, 0, 1, 1}) {
		t.Errorf("satisfaction: %+v", sat)
	}
	wantPen := []complaint.DeptPenalties{
		{DeptID: e.deptB.ID, Dept: "Dept B", Count: 1, Fines: 1, Amount: 30000},
		{DeptID: e.deptA.ID, Dept: "Dept A", Count: 2, Fines: 1, Amount: 10000},
	}
	if !slices.Equal(an.Penalties, wantPen) {
		t.Errorf("penalties\n got %+v\nwant %+v", an.Penalties, wantPen)
	}
}

// TestAnalysisScope: a supervisor sees their department's figures only (the request's
// or the responsible department), a department filter narrows further, an agent may
// not analyse at all.
func TestAnalysisScope(t *testing.T) {
	e := anDataset(t)
	B := strconv.FormatInt(e.deptB.ID, 10)
	for _, tc := range []struct {
		as, query                 string
		issues, linked, penalties int64
	}{
		{"director@ana", "", 7, 1, 3},
		{"qa@ana", "", 7, 1, 3},
		{"supervisor@ana", "", 4, 1, 3},              // c1-c4 (c4: taken in A, answered by B), c7 linked
		{"supervisor@anb", "", 4, 0, 1},              // c4, c5, c6, c9
		{"supervisor@ana", "&dept_id=" + B, 1, 0, 1}, // only c4 is both A's and B's
		{"director@ana", "&dept_id=" + B, 4, 0, 1},
	} {
		t.Run(tc.as+tc.query, func(t *testing.T) {
			an := anGet(t, e.s.As(t, tc.as), anYear+tc.query)
			var pens int64
			for _, p := range an.Penalties {
				pens += p.Count
			}
			if an.Totals.Issues != tc.issues || an.Totals.Linked != tc.linked || pens != tc.penalties {
				t.Errorf("issues %d linked %d penalties %d, want %d %d %d", an.Totals.Issues, an.Totals.Linked, pens,
					tc.issues, tc.linked, tc.penalties)
			}
		})
	}
	// The time in each stage within a scope is read another way: same figures.
	all := anGet(t, e.s.As(t, "director@ana"), anYear).Stages
	if got := anGet(t, e.s.As(t, "supervisor@ana"), anYear).Stages; !slices.Equal(got, all) || len(all) != 2 {
		t.Errorf("stages of A's supervisor\n got %+v\nwant %+v", got, all)
	}
	if got := anGet(t, e.s.As(t, "supervisor@anb"), anYear).Stages; len(got) != 0 {
		t.Errorf("stages of B's supervisor: %+v, want none (every move is of A's complaints)", got)
	}
	apptest.Run(t, e.s, []apptest.Scenario{
		{Name: "agent", As: "agent@ana", Method: "GET", Path: anYear, Status: 403},
		{Name: "agent xlsx", As: "agent@ana", Method: "GET", Path: strings.Replace(anYear, "analysis", "analysis.xlsx", 1), Status: 403},
		{Name: "anonymous", Method: "GET", Path: anYear, Status: 401},
		{Name: "bad period", As: "director@ana", Method: "GET", Path: "/api/v1/complaints/analysis?from=2026-05-01&to=2026-04-01",
			Status: 422, Has: []string{`"to"`}},
		{Name: "too long", As: "director@ana", Method: "GET", Path: "/api/v1/complaints/analysis?from=2020-01-01&to=2026-01-01",
			Status: 422, Has: []string{`"to"`}},
		{Name: "bad date", As: "director@ana", Method: "GET", Path: "/api/v1/complaints/analysis?from=yesterday", Status: 400},
		{Name: "viewed", As: "director@ana", Method: "GET", Path: anYear, Status: 200, Audit: "complaint.analysis.view"},
	})
}

// TestAnalysisPeriods: the default period is this year in China time; a period of up to
// 62 days is trended by day.
func TestAnalysisPeriods(t *testing.T) {
	e := anDataset(t)
	c := e.s.As(t, "director@ana")
	an := anGet(t, c, "/api/v1/complaints/analysis")
	if !an.From.Equal(anAt(1, 1, 0)) || !an.To.Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, anChina)) || an.Totals.Issues != 7 {
		t.Errorf("default period %v - %v, %d issues", an.From, an.To, an.Totals.Issues)
	}
	an = anGet(t, c, "/api/v1/complaints/analysis?from=2026-03-01&to=2026-04-01")
	if an.Bucket != "day" || len(an.Trend) != 31 || an.Totals.Issues != 2 || an.Totals.Linked != 1 {
		t.Fatalf("march: bucket %q, %d points, %+v", an.Bucket, len(an.Trend), an.Totals)
	}
	for _, p := range an.Trend {
		want := int64(0)
		if p.Key == "2026-03-10" || p.Key == "2026-03-20" {
			want = 1
		}
		if p.Count != want {
			t.Errorf("%s: %d, want %d", p.Key, p.Count, want)
		}
	}
	// The 2025 complaint alone (by an RFC 3339 period).
	an = anGet(t, c, "/api/v1/complaints/analysis?from="+url.QueryEscape("2025-11-01T00:00:00+08:00")+"&to="+
		url.QueryEscape("2025-12-01T00:00:00+08:00"))
	if an.Totals.Issues != 1 || len(an.Pareto) != 1 || an.Pareto[0].Cumulative != 100 || len(an.Penalties) != 1 ||
		an.Penalties[0].Amount != 100000 {
		t.Errorf("november 2025: %+v %+v %+v", an.Totals, an.Pareto, an.Penalties)
	}
}

// TestAnalysisXLSX: the workbook holds a sheet per table with the same numbers as the
// JSON, and the export is audited.
func TestAnalysisXLSX(t *testing.T) {
	e := anDataset(t)
	c := e.s.As(t, "director@ana")
	an := anGet(t, c, anYear)
	before := e.s.AuditSeq(t)
	r := c.Do(t, "GET", strings.Replace(anYear, "analysis", "analysis.xlsx", 1), nil)
	if r.Status != 200 || !strings.Contains(r.Header.Get("Content-Disposition"), ".xlsx") {
		t.Fatalf("export: %d %v", r.Status, r.Header)
	}
	if !e.s.AuditSince(t, before, "complaint.analysis.export") {
		t.Error("export not audited")
	}
	f, err := excelize.OpenReader(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatalf("open xlsx: %v", err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) != 11 {
		t.Fatalf("sheets: %v", sheets)
	}
	rows := func(i int) [][]string {
		rs, err := f.GetRows(sheets[i], excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		return rs[1:] // after the header
	}
	num := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	summary := map[string]string{}
	for _, row := range rows(0) {
		summary[row[0]] = row[1]
	}
	cat := i18n.MustLoad()
	zh := func(key string) string { return cat.T(i18n.ZhCN, key, nil) }
	if sheets[0] != zh("complaint.analysis.sheet.summary") { // names and headers in the request's language
		t.Errorf("first sheet %q", sheets[0])
	}
	tt := an.Totals
	for key, want := range map[string]string{
		"issues": num(float64(tt.Issues)), "linked": num(float64(tt.Linked)), "valid_rate": num(tt.ValidRate),
		"rejected_rate": num(tt.RejectedRate), "first_on_time_rate": num(tt.FirstOnTimeRate),
		"result_on_time_rate": num(tt.ResultOnTimeRate), "satisfaction_average": num(an.Satisfaction.Average),
	} {
		if label := zh("complaint.analysis.fig." + key); summary[label] != want {
			t.Errorf("summary %s = %q, want %q", key, summary[label], want)
		}
	}
	var pareto []string
	for _, row := range rows(6) {
		pareto = append(pareto, strings.Join(row, "|"))
	}
	var wantPareto []string
	for _, p := range an.Pareto {
		wantPareto = append(wantPareto, fmt.Sprintf("%s|%d|%s|%s", p.Label, p.Count, num(p.Percent), num(p.Cumulative)))
	}
	if !slices.Equal(pareto, wantPareto) {
		t.Errorf("pareto sheet\n got %v\nwant %v", pareto, wantPareto)
	}
	var levels []string
	for _, row := range rows(2) {
		levels = append(levels, strings.Join(row, "|"))
	}
	var wantLevels []string
	for _, s := range an.ByLevel {
		wantLevels = append(wantLevels, fmt.Sprintf("%s|%d|%s", s.Label, s.Count, num(s.Share)))
	}
	if !slices.Equal(levels, wantLevels) {
		t.Errorf("level sheet\n got %v\nwant %v", levels, wantLevels)
	}
	var pens []string
	for _, row := range rows(10) {
		pens = append(pens, strings.Join(row, "|"))
	}
	var wantPens []string
	for _, p := range an.Penalties {
		wantPens = append(wantPens, fmt.Sprintf("%s|%d|%d|%s", p.Dept, p.Count, p.Fines, num(float64(p.Amount)/100)))
	}
	if !slices.Equal(pens, wantPens) {
		t.Errorf("penalties sheet\n got %v\nwant %v", pens, wantPens)
	}
	if got := len(rows(1)); got != len(an.Trend) {
		t.Errorf("trend sheet: %d rows, want %d", got, len(an.Trend))
	}
	// English headers for an English reader.
	c.Lang = "en"
	r = c.Do(t, "GET", strings.Replace(anYear, "analysis", "analysis.xlsx", 1), nil)
	c.Lang = ""
	f2, err := excelize.OpenReader(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatalf("open xlsx: %v", err)
	}
	defer f2.Close()
	if got := f2.GetSheetList(); got[0] != "Summary" || got[6] != "Pareto of causes" {
		t.Errorf("english sheets: %v", got)
	}
}

// TestAnalysisPage and the Pareto chart: the page draws the causes as SVG bars, highest
// first, with the cumulative line, and links the export of the same period.
func TestAnalysisParetoPage(t *testing.T) {
	e := anDataset(t)
	e.s.Staff(t, "an_director", "director", "ana")
	b := e.s.Browser(t, "an_director", apptest.Password)
	r := b.Do(t, "GET", "/complaints/analysis?from=2026-01-01&to=2026-12-31", nil)
	if r.Status != 200 {
		t.Fatalf("page: %d %s", r.Status, r.Body)
	}
	page := string(r.Body)
	for _, want := range []string{"<svg", "<polyline", `id="analysis-export"`, "analysis.xlsx?", "\u670d\u52a1\u6001\u5ea6",
		"Dept B", `id="t-issues">7<`, `id="t-linked">1<`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "<script>") {
		t.Error("the page must not carry inline script")
	}
	// Bars: three causes, heights in Pareto order.
	var heights []float64
	for _, part := range strings.Split(page, `class="pareto-bar"`)[1:] {
		i := strings.Index(part, `height="`)
		j := strings.Index(part[i+8:], `"`)
		h, err := strconv.ParseFloat(part[i+8:i+8+j], 64)
		if err != nil {
			t.Fatal(err)
		}
		heights = append(heights, h)
	}
	if len(heights) != 3 || !(heights[0] > heights[1] && heights[1] > heights[2] && heights[2] > 0) {
		t.Errorf("pareto bar heights %v", heights)
	}
	// A short period by day, a bad one refused on the page itself.
	if r := b.Do(t, "GET", "/complaints/analysis?from=2026-03-01&to=2026-03-31", nil); r.Status != 200 ||
		!bytes.Contains(r.Body, []byte("03-10")) {
		t.Errorf("march page: %d", r.Status)
	}
	if r := b.Do(t, "GET", "/complaints/analysis?from=2026-05-01&to=2026-04-01", nil); r.Status != 422 ||
		!bytes.Contains(r.Body, []byte(`id="err-to"`)) {
		t.Errorf("bad period page: %d", r.Status)
	}
	// An agent may not open it.
	e.s.Staff(t, "an_agent", "agent", "ana")
	if r := e.s.Browser(t, "an_agent", apptest.Password).Do(t, "GET", "/complaints/analysis", nil); r.Status != 403 {
		t.Errorf("agent page: %d", r.Status)
	}
}
