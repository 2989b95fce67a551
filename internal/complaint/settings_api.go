package complaint

import (
	"context"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"net/http"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/audit"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
)

// Settings returns the complaint settings in force (complaint:read): the targets of
// each level and stage, the warning lead time, the fines, the duplicate window and the
// rejection template. Version is 0 while the defaults apply.
func (s *Service) Settings(ctx context.Context) (Settings, error) {
	if _, err := authz.RequireStaff(ctx, PermRead); err != nil {
		return Settings{}, err
	}
	return s.store.loadSettings(ctx)
}

// SaveSettings validates and stores st (complaint:manage) against the settings version
// the editor read (0 while the defaults apply): another one is refused with 409. It is
// audited as "complaint.settings" with the old and the new values. New targets apply to
// complaints received, and stages entered, from then on.
func (s *Service) SaveSettings(ctx context.Context, st Settings, version int64) (Settings, error) {
	if _, err := authz.RequireStaff(ctx, PermManage); err != nil {
		return Settings{}, err
	}
	if version < 0 {
		return Settings{}, apperr.InvalidField("version", "field.invalid")
	}
	f := apperr.Fields{}
	st.validate(f)
	if err := f.Err(); err != nil {
		return Settings{}, err
	}
	var out Settings
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		cur, err := s.store.loadSettings(ctx)
		if err != nil {
			return err
		}
		if version != cur.Version {
			return apperr.StaleVersion(cur.Version)
		}
		ok, err := s.store.saveSettings(ctx, st, cur.Version, s.now())
		if err != nil {
			return err
		}
		if !ok {
			return apperr.StaleVersion(cur.Version)
		}
		if out, err = s.store.loadSettings(ctx); err != nil {
			return err
		}
		if s.audit != nil {
			old, next := cur, out
			old.Version, next.Version = 0, 0
			if err := s.audit.Record(ctx, audit.Entry{Action: "complaint.settings", TargetType: "complaint_settings",
				TargetID: settingsName, Detail: map[string]any{"version": out.Version, "old": old, "new": next}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Settings{}, err
	}
	return out, nil
}

// settingsInput is the body of PUT /api/v1/complaint-settings: the whole settings, with
// the version they replace. Members left out take their default values.
type settingsInput struct {
	Levels         map[Level]LevelTargets `json:"levels"`
	Stages         map[Stage]Target       `json:"stages"`
	WarnBefore     string                 `json:"warn_before"`
	Fines          map[string]int64       `json:"fines"`
	DuplicateDays  int                    `json:"duplicate_days"`
	DuplicateScore float64                `json:"duplicate_score"`
	RejectTemplate string                 `json:"reject_template" text:"multiline"`
	Version        *int64                 `json:"version"`
}

func (in settingsInput) settings() Settings {
	return Settings{Levels: in.Levels, Stages: in.Stages, WarnBefore: in.WarnBefore, Fines: in.Fines,
		DuplicateDays: in.DuplicateDays, DuplicateScore: in.DuplicateScore, RejectTemplate: in.RejectTemplate}
}

func (s *Service) settingsRoutes() []httpx.Route {
	a := settingsAPI{s: s}
	return []httpx.Route{
		{Method: "GET", Path: "/api/v1/complaint-settings", Perm: PermRead, Handler: a.get},
		{Method: "PUT", Path: "/api/v1/complaint-settings", Perm: PermManage, Handler: a.put},
	}
}

type settingsAPI struct{ s *Service }

func (a settingsAPI) get(w http.ResponseWriter, r *http.Request) {
	st, err := a.s.Settings(r.Context())
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	if st.Version > 0 {
		httpx.SetETag(w, st.Version)
	}
	httpx.JSON(w, http.StatusOK, st)
}

// put replaces the settings. It names the version it replaces (the body's "version",
// 0 while the defaults apply, or If-Match): 428 without, 409 when stale.
func (a settingsAPI) put(w http.ResponseWriter, r *http.Request) {
	d := DefaultSettings()
	in := settingsInput{Levels: d.Levels, Stages: d.Stages, WarnBefore: d.WarnBefore, Fines: d.Fines,
		DuplicateDays: d.DuplicateDays, DuplicateScore: d.DuplicateScore}
	if err := httpx.Decode(r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	version, err := httpx.SettingsVersion(r, in.Version)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	st, err := a.s.SaveSettings(r.Context(), in.settings(), version)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.SetETag(w, st.Version)
	httpx.JSON(w, http.StatusOK, st)
}
