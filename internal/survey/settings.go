package survey

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"slices"
	"strings"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/calendar"
)

// Settings are the sending rules of surveys (GET/PUT /api/v1/survey-settings).
type Settings struct {
	// AfterResolve sends a survey when a request is resolved; AfterRevisit when a return
	// visit reached the customer.
	AfterResolve bool `json:"after_resolve"`
	AfterRevisit bool `json:"after_revisit"`
	// SendDelay is how long after the event the invitation goes out ("2h"); SendWindow
	// is how long after the event it may still go out (the seed: within 3 days, "72h").
	SendDelay  string `json:"send_delay"`
	SendWindow string `json:"send_window"`
	// LinkTTL is how long a sent link can be answered ("7d").
	LinkTTL string `json:"link_ttl"`
	// Channels are tried in order for automatic invitations: the first one the customer
	// can be reached on (email, sms, portal).
	Channels []Channel `json:"channels"`
	// TemplateID is the template of automatic invitations (0 = the default template).
	TemplateID int64 `json:"template_id"`
	Version    int64 `json:"version"`
}

// DefaultSettings are the settings before anyone changed them.
func DefaultSettings() Settings {
	return Settings{AfterResolve: true, AfterRevisit: true, SendDelay: "2h", SendWindow: "72h", LinkTTL: "7d",
		Channels: []Channel{ChannelEmail, ChannelSMS, ChannelPortal}}
}

// Bounds of the durations.
const (
	maxDelay    = 30 * 24 * time.Hour
	minWindow   = time.Hour
	maxWindow   = 30 * 24 * time.Hour
	minLinkTTL  = time.Hour
	maxLinkTTL  = 90 * 24 * time.Hour
	settingName = "survey.settings"
)

// durations are the parsed durations of valid settings.
type durations struct{ delay, window, ttl time.Duration }

func (st Settings) durations() durations {
	d, _ := calendar.ParseDuration(st.SendDelay)
	w, _ := calendar.ParseDuration(st.SendWindow)
	t, _ := calendar.ParseDuration(st.LinkTTL)
	return durations{delay: d, window: w, ttl: t}
}

// validate checks st into field errors and normalises it.
func (s *Service) validateSettings(ctx context.Context, st *Settings) error {
	f := apperr.Fields{}
	parse := func(field, v string, lo, hi time.Duration) time.Duration {
		d, err := calendar.ParseDuration(strings.TrimSpace(v))
		if err != nil || d < lo || d > hi {
			f.Add(field, "survey.invalid.duration", "min", lo.String(), "max", hi.String())
		}
		return d
	}
	delay := parse("send_delay", st.SendDelay, 0, maxDelay)
	window := parse("send_window", st.SendWindow, minWindow, maxWindow)
	parse("link_ttl", st.LinkTTL, minLinkTTL, maxLinkTTL)
	if delay > window && f["send_delay"].Key == "" && f["send_window"].Key == "" {
		f.Add("send_delay", "survey.invalid.delay_after_window")
	}
	if len(st.Channels) == 0 {
		f.Add("channels", "field.required")
	}
	var chans []Channel
	for _, c := range st.Channels {
		if c == ChannelPhone || !slices.Contains(Channels, c) || slices.Contains(chans, c) {
			f.Add("channels", "survey.invalid.channels")
			break
		}
		chans = append(chans, c)
	}
	if st.TemplateID < 0 {
		f.Add("template_id", "survey.invalid.template_unknown")
	} else if st.TemplateID > 0 {
		if t, err := s.store.Template(ctx, st.TemplateID); err != nil || !t.Active {
			f.Add("template_id", "survey.invalid.template_unknown")
		}
	}
	st.SendDelay, st.SendWindow, st.LinkTTL = strings.TrimSpace(st.SendDelay), strings.TrimSpace(st.SendWindow),
		strings.TrimSpace(st.LinkTTL)
	return f.Err()
}

// loadSettings reads the settings (the defaults when never saved).
func (s *Service) loadSettings(ctx context.Context) (Settings, error) {
	st := DefaultSettings()
	v, version, ok, err := s.store.Setting(ctx, settingName)
	if err != nil || !ok {
		return st, err
	}
	if err := json.Unmarshal([]byte(v), &st); err != nil {
		return DefaultSettings(), fmt.Errorf("survey: settings: %w", err)
	}
	st.Version = version
	return st, nil
}

// GetSettings returns the sending settings (survey:manage).
func (s *Service) GetSettings(ctx context.Context) (Settings, error) {
	if _, err := authz.RequireStaff(ctx, PermManage); err != nil {
		return Settings{}, err
	}
	return s.loadSettings(ctx)
}

// SettingsInput replaces the settings; Version must be the current one (0 before the
// first save).
type SettingsInput struct {
	AfterResolve *bool     `json:"after_resolve"`
	AfterRevisit *bool     `json:"after_revisit"`
	SendDelay    *string   `json:"send_delay"`
	SendWindow   *string   `json:"send_window"`
	LinkTTL      *string   `json:"link_ttl"`
	Channels     []Channel `json:"channels"`
	TemplateID   *int64    `json:"template_id"`
	Version      *int64    `json:"version"`
}

// UpdateSettings changes the settings (survey:manage; fields not sent stay).
func (s *Service) UpdateSettings(ctx context.Context, in SettingsInput) (Settings, error) {
	if _, err := authz.RequireStaff(ctx, PermManage); err != nil {
		return Settings{}, err
	}
	if in.Version == nil {
		return Settings{}, apperr.VersionRequired()
	}
	var out Settings
	err := s.d.DB.WithTx(ctx, func(ctx context.Context) error {
		st, err := s.loadSettings(ctx)
		if err != nil {
			return err
		}
		if *in.Version != st.Version {
			return apperr.StaleVersion(st.Version)
		}
		prev := st.Version
		if in.AfterResolve != nil {
			st.AfterResolve = *in.AfterResolve
		}
		if in.AfterRevisit != nil {
			st.AfterRevisit = *in.AfterRevisit
		}
		if in.SendDelay != nil {
			st.SendDelay = *in.SendDelay
		}
		if in.SendWindow != nil {
			st.SendWindow = *in.SendWindow
		}
		if in.LinkTTL != nil {
			st.LinkTTL = *in.LinkTTL
		}
		if in.Channels != nil {
			st.Channels = in.Channels
		}
		if in.TemplateID != nil {
			st.TemplateID = *in.TemplateID
		}
		if err := s.validateSettings(ctx, &st); err != nil {
			return err
		}
		st.Version = 0
		raw, err := json.Marshal(st)
		if err != nil {
			return err
		}
		if ok, err := s.store.SaveSetting(ctx, settingName, string(raw), prev, s.now()); err != nil {
			return err
		} else if !ok {
			return apperr.StaleVersion(prev)
		}
		st.Version = prev + 1
		if err := s.record(ctx, "survey.settings.update", "survey_settings", 0, st); err != nil {
			return err
		}
		out = st
		return nil
	})
	return out, err
}
