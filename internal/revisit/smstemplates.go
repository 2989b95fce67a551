package revisit

// SMS revisit message templates. The seed's rule (xinxi guifan): a message starts with
// the respectful greeting "zunjing de guibin" or "{name} xiansheng/nvshi ninhao" and ends
// with the booking line and the consultant's name ("... yuyue dianhua ... zhiye guwen
// {consultant}"). A template that does not is refused.

import (
	"context"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
)

// The fixed parts of a template (Chinese, written as escapes: no Han in Go source).
const (
	smsGreetingVIP   = "\u5c0a\u656c\u7684\u8d35\u5bbe"              // zunjing de guibin
	smsGreetingNamed = "{name}\u5148\u751f/\u5973\u58eb\u60a8\u597d" // {name} xiansheng/nvshi ninhao
	smsBookingLabel  = "\u9884\u7ea6\u7535\u8bdd"                    // yuyue dianhua
	smsConsultLabel  = "\u7f6e\u4e1a\u987e\u95ee"                    // zhiye guwen
	smsConsultant    = "{consultant}"
	maxSMSBody       = 500
)

// SMSPlaceholders are the placeholders a template may use.
var SMSPlaceholders = []string{"name", "consultant", "booking_phone", "project", "date"}

var smsPlaceholderRe = regexp.MustCompile(`\{([^{}]*)\}`)

// CheckSMSTemplate validates body against the greeting and closing rule and the known
// placeholders; problems are added to f under field.
func CheckSMSTemplate(f apperr.Fields, field, body string) {
	b := strings.TrimSpace(body)
	if b == "" {
		f.Add(field, "field.required")
		return
	}
	if len([]rune(b)) > maxSMSBody {
		f.Add(field, "field.too_long", "max", maxSMSBody)
		return
	}
	for _, m := range smsPlaceholderRe.FindAllStringSubmatch(b, -1) {
		known := false
		for _, p := range SMSPlaceholders {
			known = known || m[1] == p
		}
		if !known {
			f.Add(field, "revisit.work.invalid.sms_placeholder", "allowed", "{"+strings.Join(SMSPlaceholders, "}, {")+"}")
			return
		}
	}
	if strings.Count(b, "{") != strings.Count(b, "}") {
		f.Add(field, "revisit.work.invalid.sms_placeholder", "allowed", "{"+strings.Join(SMSPlaceholders, "}, {")+"}")
		return
	}
	if !strings.HasPrefix(b, smsGreetingVIP) && !strings.HasPrefix(b, smsGreetingNamed) {
		f.Add(field, "revisit.work.invalid.sms_greeting")
		return
	}
	rest, ok := strings.CutSuffix(b, smsConsultant)
	if !ok {
		f.Add(field, "revisit.work.invalid.sms_closing")
		return
	}
	rest = strings.TrimRight(rest, " :\u3000\uff1a")
	if !strings.HasSuffix(rest, smsConsultLabel) {
		f.Add(field, "revisit.work.invalid.sms_closing")
		return
	}
	// The booking line comes after the greeting and before the consultant.
	bi := strings.LastIndex(rest, smsBookingLabel)
	if bi < 0 {
		f.Add(field, "revisit.work.invalid.sms_closing")
	}
}

// RenderSMS fills a template's placeholders (unknown ones stay as they are).
func RenderSMS(body string, vars map[string]string) string {
	return smsPlaceholderRe.ReplaceAllStringFunc(body, func(m string) string {
		if v, ok := vars[m[1:len(m)-1]]; ok {
			return v
		}
		return m
	})
}

// SMSTemplateInput creates a template.
type SMSTemplateInput struct {
	Name   string `json:"name"`
	Body   string `json:"body" text:"multiline"`
	Active *bool  `json:"active"`
}

// SMSTemplatePatch changes a template; version is required.
type SMSTemplatePatch struct {
	Name    *string `json:"name"`
	Body    *string `json:"body" text:"multiline"`
	Active  *bool   `json:"active"`
	Version *int64  `json:"version"`
}

// SMSTemplateView is the JSON form of a template.
type SMSTemplateView struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Body      string    `json:"body"`
	Active    bool      `json:"active"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func smsView(t SMSTemplate) SMSTemplateView {
	return SMSTemplateView{ID: t.ID, Name: t.Name, Body: t.Body, Active: t.Active, Version: t.Version,
		CreatedAt: t.CreatedAt.UTC(), UpdatedAt: t.UpdatedAt.UTC()}
}

// SMSTemplates lists the templates (revisit:manage).
func (s *Service) SMSTemplates(ctx context.Context) ([]SMSTemplateView, error) {
	if _, err := authz.RequireStaff(ctx, workPermManage); err != nil {
		return nil, err
	}
	list, err := s.work().SMSTemplates(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]SMSTemplateView, len(list))
	for i, t := range list {
		out[i] = smsView(t)
	}
	return out, nil
}

// CreateSMSTemplate adds a template after checking the greeting and closing rule.
func (s *Service) CreateSMSTemplate(ctx context.Context, in SMSTemplateInput) (SMSTemplateView, error) {
	if _, err := authz.RequireStaff(ctx, workPermManage); err != nil {
		return SMSTemplateView{}, err
	}
	f := apperr.Fields{}
	t := SMSTemplate{Active: true, Version: 1}
	t.Name = wText(f, "name", in.Name, workMaxShort, true)
	t.Body = strings.TrimSpace(in.Body)
	CheckSMSTemplate(f, "body", t.Body)
	if in.Active != nil {
		t.Active = *in.Active
	}
	if err := f.Err(); err != nil {
		return SMSTemplateView{}, err
	}
	err := s.d.DB.WithTx(ctx, func(ctx context.Context) error {
		t.CreatedAt, t.UpdatedAt = s.now(), s.now()
		if err := s.work().InsertSMSTemplate(ctx, &t); err != nil {
			if db.IsUniqueViolation(err) {
				return apperr.New(apperr.Conflict, "revisit.work.error.sms_name_taken").OnField("name")
			}
			return err
		}
		return s.record(ctx, "revisit.sms_template.create", "revisit_sms_template", t.ID,
			map[string]any{"name": t.Name, "body": t.Body, "active": t.Active})
	})
	if err != nil {
		return SMSTemplateView{}, err
	}
	return smsView(t), nil
}

// UpdateSMSTemplate changes a template (the same rule applies to a new body).
func (s *Service) UpdateSMSTemplate(ctx context.Context, id int64, p SMSTemplatePatch) (SMSTemplateView, error) {
	if _, err := authz.RequireStaff(ctx, workPermManage); err != nil {
		return SMSTemplateView{}, err
	}
	if p.Version == nil {
		return SMSTemplateView{}, apperr.VersionRequired()
	}
	var t SMSTemplate
	err := s.d.DB.WithTx(ctx, func(ctx context.Context) error {
		var err error
		if t, err = s.work().SMSTemplate(ctx, id); err != nil {
			return wNotFound(err, "thing.revisit_sms_template")
		}
		if *p.Version != t.Version {
			return apperr.StaleVersion(t.Version)
		}
		f := apperr.Fields{}
		if p.Name != nil {
			t.Name = wText(f, "name", *p.Name, workMaxShort, true)
		}
		if p.Body != nil {
			t.Body = strings.TrimSpace(*p.Body)
			CheckSMSTemplate(f, "body", t.Body)
		}
		if p.Active != nil {
			t.Active = *p.Active
		}
		if err := f.Err(); err != nil {
			return err
		}
		prev := t.Version
		t.Version, t.UpdatedAt = t.Version+1, s.now()
		if ok, err := s.work().UpdateSMSTemplate(ctx, &t, prev); err != nil {
			if db.IsUniqueViolation(err) {
				return apperr.New(apperr.Conflict, "revisit.work.error.sms_name_taken").OnField("name")
			}
			return err
		} else if !ok {
			return apperr.StaleVersion(t.Version)
		}
		return s.record(ctx, "revisit.sms_template.update", "revisit_sms_template", t.ID,
			map[string]any{"name": t.Name, "body": t.Body, "active": t.Active})
	})
	if err != nil {
		return SMSTemplateView{}, err
	}
	return smsView(t), nil
}

// smsRoutes are the template routes.
func (s *Service) smsRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: http.MethodGet, Path: "/api/v1/revisit-sms-templates", Perm: workPermManage, Handler: func(w http.ResponseWriter, r *http.Request) {
			list, err := s.SMSTemplates(r.Context())
			if err != nil {
				httpx.Error(w, r, err)
				return
			}
			httpx.JSON(w, http.StatusOK, httpx.Page[SMSTemplateView]{Items: list})
		}},
		{Method: http.MethodPost, Path: "/api/v1/revisit-sms-templates", Perm: workPermManage, Handler: func(w http.ResponseWriter, r *http.Request) {
			var in SMSTemplateInput
			if err := httpx.Decode(r, &in); err != nil {
				httpx.Error(w, r, err)
				return
			}
			v, err := s.CreateSMSTemplate(r.Context(), in)
			if err != nil {
				httpx.Error(w, r, err)
				return
			}
			httpx.Created(w, "/api/v1/revisit-sms-templates/"+strconv.FormatInt(v.ID, 10), v)
		}},
		{Method: http.MethodPatch, Path: "/api/v1/revisit-sms-templates/{id}", Perm: workPermManage,
			Handler: httpx.PatchByID(func(p *SMSTemplatePatch) **int64 { return &p.Version },
				func(ctx context.Context, id int64, p SMSTemplatePatch) (any, int64, error) {
					v, err := s.UpdateSMSTemplate(ctx, id, p)
					return v, v.Version, err
				})},
	}
}
