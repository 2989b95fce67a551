package calendar

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
	"github.com/kefu-cn/kefu/internal/platform/web"
)

// pages holds the HTML handlers.
type pages struct{ r *Registry }

func tr(r *http.Request, key string, kv ...any) string {
	return httpx.CatalogFrom(r.Context()).Msg(i18n.Lang(r.Context()), i18n.M(key, kv...))
}

func canManage(r *http.Request) bool {
	a := authz.From(r.Context())
	return a != nil && a.Can(PermManage)
}

func (p pages) fail(w http.ResponseWriter, r *http.Request, err error) { p.r.web.PageError(w, r, err) }

// ======================= calendars =======================

// ListPage is the model of /calendars.
type ListPage struct {
	Rows      []Def
	CanManage bool
	NewID     string
	Error     string
}

func (p pages) list(w http.ResponseWriter, r *http.Request) {
	if id := strings.TrimSpace(r.URL.Query().Get("create")); id != "" && canManage(r) {
		if ValidID(id) {
			http.Redirect(w, r, "/calendars/"+id, http.StatusSeeOther)
			return
		}
		defs, err := p.r.ListCalendars(r.Context())
		if err != nil {
			p.fail(w, r, err)
			return
		}
		web.Render(p.r.web, w, r, http.StatusUnprocessableEntity, "calendar/list", "calendar.page.list",
			ListPage{Rows: defs, CanManage: true, NewID: id, Error: tr(r, "calendar.invalid.id")})
		return
	}
	defs, err := p.r.ListCalendars(r.Context())
	if err != nil {
		p.fail(w, r, err)
		return
	}
	web.Render(p.r.web, w, r, http.StatusOK, "calendar/list", "calendar.page.list", ListPage{Rows: defs, CanManage: canManage(r)})
}

// DayHours is one weekday row of the edit form.
type DayHours struct {
	Key   string
	Label string
	Value string
	Error string
}

// EditPage is the model of /calendars/{id}.
type EditPage struct {
	ID        string
	New       bool
	Name      string
	TimeZone  string
	Days      []DayHours
	Errors    web.FormErrors
	Message   string
	CanManage bool
	// Preview of a due time (GET ?from=&duration=&mode=).
	From, Duration, Mode string
	Modes                []option
	DueAt                string
	PreviewError         string
}

type option struct {
	Value    string
	Label    string
	Selected bool
}

func (p pages) editPage(r *http.Request, def Def, isNew bool) EditPage {
	pg := EditPage{ID: def.ID, New: isNew, Name: def.Name, TimeZone: def.TimeZone, CanManage: canManage(r), Errors: web.FormErrors{}}
	for _, k := range Weekdays {
		pg.Days = append(pg.Days, DayHours{Key: k, Label: tr(r, "calendar.weekday."+k), Value: def.Hours[k]})
	}
	q := r.URL.Query()
	pg.From, pg.Duration, pg.Mode = q.Get("from"), q.Get("duration"), q.Get("mode")
	if pg.Mode == "" {
		pg.Mode = string(ModeBusinessHours)
	}
	for _, m := range Modes {
		pg.Modes = append(pg.Modes, option{Value: string(m), Label: tr(r, "calendar.mode."+string(m)), Selected: string(m) == pg.Mode})
	}
	return pg
}

func (p pages) edit(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	def, err := p.r.GetDef(r.Context(), id)
	isNew := false
	if apperr.KindOf(err) == apperr.NotFound && canManage(r) && ValidID(id) {
		def, err, isNew = Def{ID: id, TimeZone: DefaultZone, Hours: DefaultWeekHours()}, nil, true
	}
	if err != nil {
		p.fail(w, r, err)
		return
	}
	pg := p.editPage(r, def, isNew)
	if !isNew && pg.Duration != "" {
		due, err := p.r.Preview(r.Context(), id, pg.From, pg.Duration, pg.Mode)
		if err != nil {
			fe, msg, ok := p.r.web.FieldErrors(r.Context(), err)
			if !ok {
				p.fail(w, r, err)
				return
			}
			pg.PreviewError = joinErrors(msg, fe)
		} else {
			pg.DueAt = due.Format(time.RFC3339)
		}
	}
	web.Render(p.r.web, w, r, http.StatusOK, "calendar/edit", "calendar.page.edit", pg)
}

// joinErrors flattens field errors into one line ("from: ...; mode: ...").
func joinErrors(msg string, fe web.FormErrors) string {
	keys := make([]string, 0, len(fe))
	for k := range fe {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := []string{}
	for _, k := range keys {
		parts = append(parts, k+": "+fe[k])
	}
	if len(parts) == 0 {
		return msg
	}
	return strings.Join(parts, "; ")
}

func (p pages) save(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, apperr.New(apperr.Malformed, "error.malformed.empty").WithCause(err))
		return
	}
	in := DefInput{Name: r.PostForm.Get("name"), TimeZone: r.PostForm.Get("time_zone"), Hours: WeekHours{}}
	for _, k := range Weekdays {
		in.Hours[k] = strings.TrimSpace(r.PostForm.Get("hours_" + k))
	}
	_, created, err := p.r.PutCalendar(r.Context(), id, in)
	if err == nil {
		flash := "calendar.flash.saved"
		if created {
			flash = "calendar.flash.created"
		}
		web.Redirect(w, r, "/calendars/"+id, flash)
		return
	}
	fe, msg, ok := p.r.web.FieldErrors(r.Context(), err)
	if !ok {
		p.fail(w, r, err)
		return
	}
	_, gerr := p.r.store.get(r.Context(), id)
	pg := p.editPage(r, Def{ID: id, Name: in.Name, TimeZone: in.TimeZone, Hours: in.Hours}, gerr != nil)
	pg.Errors, pg.Message = fe, msg
	for i := range pg.Days {
		pg.Days[i].Error = fe["hours."+pg.Days[i].Key]
	}
	if e, ok := fe["hours"]; ok && len(pg.Days) > 0 {
		pg.Days[0].Error = e
	}
	web.Render(p.r.web, w, r, http.StatusUnprocessableEntity, "calendar/edit", "calendar.page.edit", pg)
}

// ======================= holiday years =======================

// YearsPage is the model of /holiday-years.
type YearsPage struct {
	Rows      []YearRow
	CanManage bool
	Data      string
	Errors    []string
}

// YearRow is one line of the years list.
type YearRow struct {
	Year     int
	Origin   string
	Source   string
	Holidays int
	Workdays int
}

func (p pages) yearsPage(r *http.Request) (YearsPage, error) {
	ys, err := p.r.ListYears(r.Context())
	if err != nil {
		return YearsPage{}, err
	}
	pg := YearsPage{CanManage: canManage(r)}
	for _, y := range ys {
		pg.Rows = append(pg.Rows, YearRow{Year: y.Year, Origin: tr(r, "calendar.origin."+y.Origin), Source: y.Source,
			Holidays: len(y.Holidays), Workdays: len(y.Workdays)})
	}
	return pg, nil
}

func (p pages) years(w http.ResponseWriter, r *http.Request) {
	pg, err := p.yearsPage(r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	web.Render(p.r.web, w, r, http.StatusOK, "calendar/years", "calendar.page.years", pg)
}

func (p pages) importYears(w http.ResponseWriter, r *http.Request) {
	var data []byte
	ct := r.Header.Get("Content-Type")
	if strings.HasPrefix(ct, "multipart/form-data") {
		if err := r.ParseMultipartForm(MaxImportBytes); err != nil {
			p.fail(w, r, apperr.New(apperr.TooLarge, "error.too_large", "limit", MaxImportBytes).WithCause(err))
			return
		}
		if f, _, err := r.FormFile("file"); err == nil {
			b, rerr := readAllLimited(f)
			f.Close()
			if rerr != nil {
				p.fail(w, r, rerr)
				return
			}
			data = b
		}
	} else if err := r.ParseForm(); err != nil {
		p.fail(w, r, apperr.New(apperr.Malformed, "error.malformed.empty").WithCause(err))
		return
	}
	text := r.FormValue("data")
	if len(strings.TrimSpace(string(data))) == 0 {
		data = []byte(text)
	}
	_, err := p.r.ImportYears(r.Context(), data)
	if err == nil {
		web.Redirect(w, r, "/holiday-years", "calendar.flash.imported")
		return
	}
	fe, msg, ok := p.r.web.FieldErrors(r.Context(), err)
	if !ok {
		p.fail(w, r, err)
		return
	}
	pg, lerr := p.yearsPage(r)
	if lerr != nil {
		p.fail(w, r, lerr)
		return
	}
	pg.Data = text
	pg.Errors = append([]string{msg}, fieldLines(fe)...)
	web.Render(p.r.web, w, r, http.StatusUnprocessableEntity, "calendar/years", "calendar.page.years", pg)
}

func fieldLines(fe web.FormErrors) []string {
	keys := make([]string, 0, len(fe))
	for k := range fe {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k + ": " + fe[k]
	}
	return out
}

// YearPage is the model of /holiday-years/{year}: the table as text, one holiday per
// line ("name start end") and the make-up working days.
type YearPage struct {
	Year      int
	Origin    string
	Source    string
	Holidays  []HolidayRange
	Text      string
	Workdays  string
	Errors    web.FormErrors
	Message   string
	CanManage bool
}

func (p pages) year(w http.ResponseWriter, r *http.Request) {
	y, err := strconv.Atoi(r.PathValue("year"))
	if err != nil || y < minYear || y >= maxYear {
		p.fail(w, r, apperr.NotFoundf("calendar.thing.year"))
		return
	}
	v, err := p.r.GetYear(r.Context(), y)
	if apperr.KindOf(err) == apperr.NotFound && canManage(r) {
		v, err = YearView{Year: y, Origin: OriginStored, Holidays: []HolidayRange{}, Workdays: []Date{}}, nil
	}
	if err != nil {
		p.fail(w, r, err)
		return
	}
	pg := YearPage{Year: y, Origin: tr(r, "calendar.origin."+v.Origin), Source: v.Source, Holidays: v.Holidays,
		CanManage: canManage(r), Errors: web.FormErrors{}}
	var lines, wds []string
	for _, h := range v.Holidays {
		lines = append(lines, fmt.Sprintf("%s %s %s", h.Name, h.Start, h.End))
	}
	for _, d := range v.Workdays {
		wds = append(wds, d.String())
	}
	pg.Text, pg.Workdays = strings.Join(lines, "\n"), strings.Join(wds, "\n")
	web.Render(p.r.web, w, r, http.StatusOK, "calendar/year", "calendar.page.year", pg)
}

// ParseHolidayLines reads the year form: one holiday per line, "name start [end]"
// (the name may contain spaces; end defaults to start), and make-up days separated by
// spaces, commas or new lines.
func ParseHolidayLines(year int, source, holidays, workdays string) YearInput {
	in := YearInput{Year: year, Source: source, Holidays: []HolidayInput{}, Workdays: []string{}}
	for _, line := range strings.Split(strings.ReplaceAll(holidays, "\r", ""), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		h := HolidayInput{}
		// the trailing one or two date-looking fields are the range
		n := len(f)
		dates := 0
		for dates < 2 && n-dates-1 >= 1 && looksLikeDate(f[n-dates-1]) {
			dates++
		}
		h.Name = strings.Join(f[:n-dates], " ")
		switch dates {
		case 2:
			h.Start, h.End = f[n-2], f[n-1]
		case 1:
			h.Start, h.End = f[n-1], f[n-1]
		}
		in.Holidays = append(in.Holidays, h)
	}
	for _, d := range strings.FieldsFunc(workdays, func(r rune) bool {
		return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' || r == ';'
	}) {
		in.Workdays = append(in.Workdays, d)
	}
	return in
}

var dateLike = regexp.MustCompile(`^\d{4}-\d{1,2}-\d{1,2}$`)

func looksLikeDate(s string) bool { return dateLike.MatchString(s) }

var indexed = regexp.MustCompile(`^(holidays|workdays)\[(\d+)\]`)

func (p pages) saveYear(w http.ResponseWriter, r *http.Request) {
	y, err := strconv.Atoi(r.PathValue("year"))
	if err != nil || y < minYear || y >= maxYear {
		p.fail(w, r, apperr.NotFoundf("calendar.thing.year"))
		return
	}
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, apperr.New(apperr.Malformed, "error.malformed.empty").WithCause(err))
		return
	}
	f := r.PostForm
	in := ParseHolidayLines(y, f.Get("source"), f.Get("holidays"), f.Get("workdays"))
	_, err = p.r.PutYear(r.Context(), y, in)
	if err == nil {
		web.Redirect(w, r, "/holiday-years/"+url.PathEscape(strconv.Itoa(y)), "calendar.flash.year_saved")
		return
	}
	fe, msg, ok := p.r.web.FieldErrors(r.Context(), err)
	if !ok {
		p.fail(w, r, err)
		return
	}
	// Errors of "holidays[2].end" become "holidays": "line 3: ..." (workdays by position).
	errs := web.FormErrors{}
	keys := make([]string, 0, len(fe))
	for k := range fe {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		field := k
		text := fe[k]
		if m := indexed.FindStringSubmatch(k); m != nil {
			n, _ := strconv.Atoi(m[2])
			field = m[1]
			text = tr(r, "calendar.error.line", "line", n+1, "problem", text)
		}
		if prev, ok := errs[field]; ok {
			text = prev + "; " + text
		}
		errs[field] = text
	}
	pg := YearPage{Year: y, Origin: tr(r, "calendar.origin."+OriginStored), Source: f.Get("source"), Text: f.Get("holidays"),
		Workdays: f.Get("workdays"), Errors: errs, Message: msg, CanManage: true}
	web.Render(p.r.web, w, r, http.StatusUnprocessableEntity, "calendar/year", "calendar.page.year", pg)
}
