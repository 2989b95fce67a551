package revisit

import (
	"net/url"
	"reflect"
	"testing"
)

func TestWebAnswersOrder(t *testing.T) {
	for _, tc := range []struct {
		name    string
		script  []string
		answers map[string]string
		want    []WorkAnswerRow
	}{
		{"none", []string{"q1"}, nil, nil},
		{"script order", []string{"b", "a"}, map[string]string{"a": "1", "b": "2"},
			[]WorkAnswerRow{{"b", "2"}, {"a", "1"}}},
		{"question dropped from the script kept last, sorted", []string{"a"}, map[string]string{"z": "3", "a": "1", "m": "2"},
			[]WorkAnswerRow{{"a", "1"}, {"m", "2"}, {"z", "3"}}},
		{"repeated question once", []string{"a", "a"}, map[string]string{"a": "1"}, []WorkAnswerRow{{"a", "1"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := webAnswers(tc.script, tc.answers); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestWebSourceHref(t *testing.T) {
	for _, tc := range []struct {
		typ  string
		id   int64
		want string
	}{
		{SourceTicket, 7, "/tickets/7"}, {SourceComplaint, 7, "/complaints/7"}, {SourceActivity, 7, "/activities/7"},
		{SourceFieldVisit, 7, "/field-visits/7"}, {SourceCustomer, 7, "/customers/7"}, {SourceTask, 7, "/revisits/7"},
		{SourcePlan, 7, ""}, {SourceTicket, 0, ""}, {"unknown", 7, ""},
	} {
		if got := wsSourceHref(tc.typ, tc.id); got != tc.want {
			t.Errorf("%s %d: %q, want %q", tc.typ, tc.id, got, tc.want)
		}
	}
}

func TestWebQueryFilters(t *testing.T) {
	for _, tc := range []struct {
		q      string
		view   string
		status string
		due    string
		bad    []string
	}{
		{"", ViewMine, "", "", nil},
		{"view=overdue&status=open", ViewOverdue, StatusOpen, "", nil},
		{"view=all", ViewMine, "", "", []string{"view"}},
		{"status=lost&due_before=2026-10-08", ViewMine, "", "2026-10-08", []string{"status"}},
		{"due_before=10/08/2026", ViewMine, "", "", []string{"due_before"}},
	} {
		v, _ := url.ParseQuery(tc.q)
		wq, fe := wsParseQuery(v)
		if wq.View != tc.view || wq.Status != tc.status || wq.Due != tc.due || len(fe) != len(tc.bad) {
			t.Errorf("%q: %+v %v", tc.q, wq, fe)
		}
		for _, f := range tc.bad {
			if _, ok := fe[f]; !ok {
				t.Errorf("%q: %s not named in %v", tc.q, f, fe)
			}
		}
	}
}
