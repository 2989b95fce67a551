package audit

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/web"
)

// shanghai is the zone pages show times in (China has no daylight saving time, so the
// fixed +08:00 fallback is exact when the zone database is missing).
var shanghai = func() *time.Location {
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*3600)
}()

// cursor is the keyset position of a page: the seq of its last entry.
type cursor struct {
	Seq int64 `json:"seq"`
}

func decodeCursor(s string) (int64, error) {
	var c cursor
	if err := httpx.DecodeCursor(s, &c); err != nil {
		return 0, err
	}
	if s != "" && c.Seq <= 0 {
		return 0, apperr.New(apperr.Malformed, "error.malformed.cursor").OnField("cursor")
	}
	return c.Seq, nil
}

func encodeCursor(seq int64) string {
	if seq <= 0 {
		return ""
	}
	return httpx.EncodeCursor(cursor{Seq: seq})
}

// parseFilter reads the filters of a listing. The API takes RFC 3339 times only; pages
// also take the browser's datetime-local form ("2006-01-02T15:04") and plain dates,
// both read in Asia/Shanghai.
func parseFilter(q url.Values, page bool) (Filter, error) {
	var f Filter
	actor := q.Get("actor")
	if actor == "" {
		actor = q.Get("actor_id")
	}
	if actor != "" {
		n, err := strconv.ParseInt(actor, 10, 64)
		if err != nil || n < 0 {
			return f, apperr.New(apperr.Malformed, "audit.error.actor").OnField("actor")
		}
		f.ActorID = n
	}
	f.Action = q.Get("action")
	f.TargetType = q.Get("target_type")
	f.TargetID = q.Get("target_id")
	var err error
	if f.From, err = parseTime(q.Get("from"), "from", page); err != nil {
		return f, err
	}
	if f.To, err = parseTime(q.Get("to"), "to", page); err != nil {
		return f, err
	}
	return f, nil
}

func parseTime(s, name string, page bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if page {
		for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02"} {
			if t, err := time.ParseInLocation(layout, s, shanghai); err == nil {
				return t, nil
			}
		}
	}
	return time.Time{}, apperr.New(apperr.Malformed, "audit.error.time", "param", name).OnField(name)
}

// apiList serves GET /api/v1/audit.
func (l *Log) apiList(w http.ResponseWriter, r *http.Request) {
	limit, cur, err := httpx.ListParams(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	after, err := decodeCursor(cur)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	f, err := parseFilter(r.URL.Query(), false)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	items, next, err := l.List(r.Context(), f, limit, after)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, httpx.Page[Item]{Items: items, NextCursor: encodeCursor(next)})
}

// ListPage is the view model of the audit page.
type ListPage struct {
	Actor, Action, TargetType, TargetID, From, To string
	Items                                         []PageItem
	NextURL                                       string
	FirstURL                                      string // set when showing a later page
	Error                                         string
}

// PageItem is one row of the audit page.
type PageItem struct {
	Seq       int64
	Time      string // Asia/Shanghai
	Actor     string
	ActorID   int64
	Action    string
	Target    string
	IP        string
	RequestID string
	Detail    string
}

// pageList serves GET /audit: the same filters as the API in a GET form, newest first.
func (l *Log) pageList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	m := ListPage{Actor: q.Get("actor"), Action: q.Get("action"), TargetType: q.Get("target_type"),
		TargetID: q.Get("target_id"), From: q.Get("from"), To: q.Get("to")}
	status := http.StatusOK
	f, err := parseFilter(q, true)
	var after int64
	limit := httpx.DefaultLimit
	if err == nil {
		limit, _, err = httpx.ListParams(r)
	}
	if err == nil {
		after, err = decodeCursor(q.Get("cursor"))
	}
	if err == nil {
		var items []Item
		var next int64
		items, next, err = l.List(r.Context(), f, limit, after)
		if err != nil {
			l.web.PageError(w, r, err)
			return
		}
		for _, it := range items {
			target := it.TargetType
			if it.TargetID != "" {
				target += " #" + it.TargetID
			}
			m.Items = append(m.Items, PageItem{Seq: it.Seq, Time: it.Time.In(shanghai).Format("2006-01-02 15:04:05"),
				Actor: it.Actor, ActorID: it.ActorID, Action: it.Action, Target: target, IP: it.IP,
				RequestID: it.RequestID, Detail: string(it.Detail)})
		}
		if next > 0 {
			m.NextURL = pageURL(q, encodeCursor(next))
		}
		if after > 0 {
			m.FirstURL = pageURL(q, "")
		}
	} else {
		_, msg, ok := l.web.FieldErrors(r.Context(), err)
		if !ok {
			l.web.PageError(w, r, err)
			return
		}
		m.Error, status = msg, http.StatusBadRequest
	}
	web.Render(l.web, w, r, status, "audit/audit_list", "page.audit.title", m)
}

// pageURL is /audit with the current filters and the given cursor.
func pageURL(q url.Values, cur string) string {
	v := url.Values{}
	for _, k := range []string{"actor", "action", "target_type", "target_id", "from", "to", "limit"} {
		if s := q.Get(k); s != "" {
			v.Set(k, s)
		}
	}
	if cur != "" {
		v.Set("cursor", cur)
	}
	if len(v) == 0 {
		return "/audit"
	}
	return "/audit?" + v.Encode()
}
