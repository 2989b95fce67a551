package ticket

import (
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
)

func TestFilterFrom(t *testing.T) {
	r := httptest.NewRequest("GET", "/api/v1/tickets?status=new&queue=team&team_id=3&unassigned=1&open=false&q=%E9%80%80%E6%AC%BE", nil)
	f, err := filterFrom(r)
	if err != nil {
		t.Fatal(err)
	}
	if f.Status != StatusNew || f.Queue != QueueTeam || f.TeamID != 3 || !f.Unassigned || f.Open == nil || *f.Open || f.Q != "退款" {
		t.Fatalf("filter = %+v", f)
	}
	for _, bad := range []string{"team_id=x", "open=maybe", "unassigned=2x"} {
		if _, err := filterFrom(httptest.NewRequest("GET", "/x?"+bad, nil)); apperr.KindOf(err) != apperr.Malformed {
			t.Errorf("%s: %v", bad, err)
		}
	}
	if err := checkFilter(&Filter{Queue: "everything"}); apperr.KindOf(err) != apperr.Invalid {
		t.Errorf("bad queue: %v", err)
	}
}

func FuzzFilterFrom(f *testing.F) {
	f.Add("status=new&queue=team&team_id=3&open=true&q=abc")
	f.Add("cursor=eyJpIjozfQ&limit=5")
	f.Fuzz(func(t *testing.T, raw string) {
		r := httptest.NewRequest("GET", "/api/v1/tickets", nil)
		r.URL.RawQuery = url.Values(mustParse(raw)).Encode()
		fl, err := filterFrom(r)
		if err == nil {
			err = checkFilter(&fl)
		}
		if err != nil && apperr.KindOf(err) == apperr.Internal {
			t.Fatalf("internal error: %v", err)
		}
		if _, err := decodeCursor(r.URL.Query().Get("cursor")); err != nil && apperr.KindOf(err) != apperr.Malformed {
			t.Fatalf("cursor error kind: %v", err)
		}
	})
}

func mustParse(raw string) url.Values {
	v, _ := url.ParseQuery(raw)
	return v
}
