package ticket

import (
	"bytes"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/events"
)

func TestDueState(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	var zero time.Time
	tests := []struct {
		name              string
		due, breach, warn time.Time
		open              bool
		want              string
	}{
		{"no due time", zero, zero, zero, true, ""},
		{"far away", now.Add(30 * time.Hour), zero, zero, true, ""},
		{"within the window", now.Add(BreachWindow - time.Minute), zero, zero, true, "warning"},
		{"warned by the SLA job", now.Add(30 * time.Hour), zero, now, true, "warning"},
		{"overdue", now.Add(-time.Minute), zero, zero, true, "breached"},
		{"breach recorded", now.Add(time.Hour), now, zero, true, "breached"},
		{"breach recorded on a closed request", now.Add(-time.Hour), now, zero, false, "breached"},
		{"overdue but done", now.Add(-time.Hour), zero, zero, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := dueState(tt.due, tt.breach, tt.warn, tt.open, now); got != tt.want {
				t.Errorf("dueState = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCategoryTree(t *testing.T) {
	cats := []Category{
		{ID: 1, Name: "家电", SortOrder: 2},
		{ID: 2, Name: "洗衣机", ParentID: 1},
		{ID: 3, Name: "账单", SortOrder: 1},
		{ID: 4, Name: "冰箱", ParentID: 1},
		{ID: 5, Name: "孤儿", ParentID: 99}, // parent gone: shown at the top
		{ID: 6, Name: "滚筒", ParentID: 2},
	}
	var got []string
	for _, r := range categoryTree(cats) {
		got = append(got, r.Indent+r.Name)
	}
	want := []string{"孤儿", "账单", "家电", "— 冰箱", "— 洗衣机", "— — 滚筒"}
	if len(got) != len(want) {
		t.Fatalf("tree = %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("tree = %q, want %q", got, want)
		}
	}
	// A cycle (corrupt data) neither loops nor repeats a node.
	if rows := categoryTree([]Category{{ID: 1, ParentID: 2}, {ID: 2, ParentID: 1}}); len(rows) > 2 {
		t.Errorf("cycle gave %d rows", len(rows))
	}
}

func TestQueueRows(t *testing.T) {
	tests := []struct {
		page string
		want string
		ok   bool
	}{
		{`<table><tbody id="queue-rows">
  <tr id="row-1"><td>a</td></tr>
</tbody></table>`, `<tr id="row-1"><td>a</td></tr>`, true},
		{`<tbody id="queue-rows"></tbody>`, ``, true},
		{`<tbody>`, ``, false},
		{`<tbody id="queue-rows"><tr>`, ``, false},
	}
	for _, tt := range tests {
		got, ok := queueRows([]byte(tt.page))
		if ok != tt.ok || string(got) != tt.want {
			t.Errorf("queueRows(%q) = %q, %v; want %q, %v", tt.page, got, ok, tt.want, tt.ok)
		}
	}
}

func FuzzQueueRows(f *testing.F) {
	f.Add([]byte(`<tbody id="queue-rows"><tr></tr></tbody>`))
	f.Add([]byte(`</tbody><tbody id="queue-rows">`))
	f.Fuzz(func(t *testing.T, page []byte) {
		rows, ok := queueRows(page)
		if ok && !bytes.Contains(page, rows) {
			t.Fatalf("rows %q not cut from the page", rows)
		}
	})
}

func TestWsInt(t *testing.T) {
	for in, want := range map[string]int64{"": 0, " 42 ": 42, "x": -1, "-3": -3, "99999999999999999999": -1} {
		if got := wsInt(in); got != want {
			t.Errorf("wsInt(%q) = %d, want %d", in, got, want)
		}
	}
}

func FuzzWsInt(f *testing.F) {
	for _, s := range []string{"", "1", "-1", " 7 ", "1e3", "0x10"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if n := wsInt(s); n < -1 && !bytes.ContainsRune([]byte(s), '-') {
			t.Fatalf("wsInt(%q) = %d", s, n)
		}
	})
}

func TestEventVisible(t *testing.T) {
	agent := &authz.Actor{ID: 7, Kind: authz.KindStaff, DeptID: 1, TeamID: 10}
	agent.Grant(PermRead, authz.ScopeTeam)
	sup := &authz.Actor{ID: 8, Kind: authz.KindStaff, DeptID: 1}
	sup.Grant(PermRead, authz.ScopeDept)
	none := &authz.Actor{ID: 9, Kind: authz.KindStaff, DeptID: 1}
	tests := []struct {
		name  string
		actor *authz.Actor
		scope events.Scope
		want  bool
	}{
		{"agent: own team", agent, events.Scope{DeptID: 1, TeamID: 10}, true},
		{"agent: assigned to them", agent, events.Scope{DeptID: 2, TeamID: 20, OwnerID: 7}, true},
		{"agent: other team", agent, events.Scope{DeptID: 1, TeamID: 11}, false},
		{"supervisor: own department", sup, events.Scope{DeptID: 1, TeamID: 11}, true},
		{"supervisor: other department", sup, events.Scope{DeptID: 2}, false},
		{"no permission", none, events.Scope{DeptID: 1, TeamID: 10}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := eventVisible(tt.actor, events.Event{Topic: TopicCreated, Scope: tt.scope}); got != tt.want {
				t.Errorf("eventVisible = %v, want %v", got, tt.want)
			}
		})
	}
}
