package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestSmoke runs every scenario at a tiny size so that the harness keeps working; the
// real measurements are run by hand (README.md).
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode")
	}
	for _, o := range []options{
		{Scenario: "create-customers", N: 200, C: 4, Body: "mixed"},
		{Scenario: "search-customers", Docs: 300, Runs: 2, C: 2},
		{Scenario: "import-customers", Rows: 100},
		{Scenario: "create-tickets", N: 100, C: 4, Rate: 1000, Customers: 20},
		{Scenario: "ticket-queue", Docs: 600, Runs: 2, C: 2, Customers: 20},
		{Scenario: "search-tickets", Docs: 600, Runs: 2, C: 2, Customers: 20},
	} {
		t.Run(o.Scenario, func(t *testing.T) {
			o.Dir, o.GroupCommit, o.Seed = t.TempDir(), true, 7
			var out bytes.Buffer
			if err := run(context.Background(), o, &out); err != nil {
				t.Fatalf("%v\n%s", err, out.String())
			}
			want := map[string]string{"create-customers": "creates/s sustained", "search-customers": "all queries",
				"import-customers": "imported 100 customers", "create-tickets": "creates/s sustained",
				"ticket-queue": "queue=team", "search-tickets": "all of the above"}[o.Scenario]
			if !strings.Contains(out.String(), want) {
				t.Fatalf("report lacks %q:\n%s", want, out.String())
			}
			t.Log("\n" + out.String())
		})
	}
}
