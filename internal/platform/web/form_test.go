package web

import (
	"net/http/httptest"
	"testing"

	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
)

func TestFormInt(t *testing.T) {
	for in, want := range map[string]int64{"": 0, " 42 ": 42, "x": -1, "9999999999999999999": -1} {
		if got := FormInt(in); got != want {
			t.Errorf("FormInt(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestChoicesAndLabels(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	ctx := i18n.WithLang(httpx.WithCatalog(r.Context(), i18n.MustLoad()), "en")
	r = r.WithContext(ctx)
	got := Choices(r, "ticket.severity.", []string{"general", "unknown"}, "unknown", "ticket_web.filter.none")
	if len(got) != 3 || got[0].Value != "" || !got[2].Selected || got[2].Label != "unknown" || got[1].Label == "general" {
		t.Fatalf("choices: %+v", got)
	}
	if Label(r, "ticket.severity.", "") != "" {
		t.Error("empty label")
	}
}
