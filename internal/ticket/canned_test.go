package ticket

import (
	"strings"
	"testing"
)

func TestRenderCanned(t *testing.T) {
	vars := map[string]string{"customer_name": "Zhang San", "number": "KF20261123-0042", "agent_name": "Li",
		"title": "Leak", "due_at": "2026-11-25 18:00"}
	cases := []struct{ body, want string }{
		{"Dear {customer_name}, request {number} is with {agent_name}.", "Dear Zhang San, request KF20261123-0042 is with Li."},
		{"{title} due {due_at}", "Leak due 2026-11-25 18:00"},
		{"no placeholders", "no placeholders"},
		{"{unknown} stays {number}", "{unknown} stays KF20261123-0042"},
		{"{customer_name}{customer_name}", "Zhang SanZhang San"},
		{"{number", "{number"},
	}
	for _, tc := range cases {
		if got := RenderCanned(tc.body, vars); got != tc.want {
			t.Errorf("RenderCanned(%q) = %q, want %q", tc.body, got, tc.want)
		}
	}
	// A missing value leaves the placeholder visible rather than silently blank.
	if got := RenderCanned("{due_at}", map[string]string{}); got != "{due_at}" {
		t.Errorf("missing var: %q", got)
	}
}

func FuzzRenderCanned(f *testing.F) {
	f.Add("Dear {customer_name}, {number}", "Zhang {number}")
	f.Add("{", "")
	f.Fuzz(func(t *testing.T, body, name string) {
		out := RenderCanned(body, map[string]string{"customer_name": name})
		if !strings.Contains(body, "{customer_name}") && out != body {
			t.Fatalf("changed a body without placeholders: %q -> %q", body, out)
		}
	})
}
