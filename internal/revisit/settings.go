package revisit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"net/http"
	"slices"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
)

// Settings keys (table settings).
const (
	settingsKey = "revisit.settings"
	secretKey   = "revisit.secret"
)

// Settings are the engine's editable settings (GET/PUT /api/v1/revisit-settings).
type Settings struct {
	// DND are the do-not-disturb windows, "HH:MM-HH:MM" in the customer's time zone; a
	// window whose end is not after its start runs past midnight ("21:00-09:00").
	DND []string `json:"dnd"`
	// TimeZone is the customers' time zone (IANA name).
	TimeZone string `json:"time_zone"`
	// CenterTeamID is the revisit center's team, for rules with the "center" policy
	// that name no team of their own (0 = none: such tasks go to the source's team).
	CenterTeamID int64 `json:"center_team_id"`
	Version      int64 `json:"version"`
}

// DefaultSettings: 12:00-14:00 and 21:00-09:00 in Asia/Shanghai.
func DefaultSettings() Settings {
	return Settings{DND: []string{"12:00-14:00", "21:00-09:00"}, TimeZone: "Asia/Shanghai"}
}

// dndWindow is a parsed window in minutes of the day.
type dndWindow struct{ start, end int }

// compiled are settings ready for scheduling.
type compiled struct {
	Settings
	loc *time.Location
	dnd []dndWindow
}

func parseClock(s string) (int, bool) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || len(h) == 0 || len(h) > 2 || len(m) != 2 {
		return 0, false
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || hh > 24 || mm < 0 || mm > 59 || hh == 24 && mm != 0 {
		return 0, false
	}
	return hh*60 + mm, true
}

// ParseDND parses one window "HH:MM-HH:MM".
func ParseDND(s string) (start, end int, ok bool) {
	a, b, cut := strings.Cut(s, "-")
	if !cut {
		return 0, 0, false
	}
	start, ok1 := parseClock(a)
	end, ok2 := parseClock(b)
	if !ok1 || !ok2 || start == end || start == 24*60 {
		return 0, 0, false
	}
	return start, end, true
}

// compile validates st; field errors name "dnd.<i>" and "time_zone".
func (st Settings) compile() (*compiled, error) {
	f := apperr.Fields{}
	c := &compiled{Settings: st}
	if len(st.DND) > 12 {
		f.Add("dnd", "revisit.invalid.too_many", "max", 12)
	}
	for i, w := range st.DND {
		s, e, ok := ParseDND(w)
		if !ok {
			f.Add("dnd."+strconv.Itoa(i), "revisit.invalid.dnd")
			continue
		}
		c.dnd = append(c.dnd, dndWindow{s, e})
	}
	var covered [24 * 60]bool
	for _, w := range c.dnd {
		span := w.end - w.start
		if span <= 0 {
			span += 24 * 60
		}
		for i := 0; i < span; i++ {
			covered[(w.start+i)%(24*60)] = true
		}
	}
	if len(c.dnd) > 0 && !slices.Contains(covered[:], false) {
		f.Add("dnd", "revisit.invalid.dnd_all_day")
	}
	tz := st.TimeZone
	if tz == "" {
		tz = "Asia/Shanghai"
	}
	loc, err := time.LoadLocation(tz)
	if err != nil || tz == "Local" {
		f.Add("time_zone", "revisit.invalid.time_zone")
	} else {
		c.loc, c.TimeZone = loc, tz
	}
	if st.CenterTeamID < 0 {
		f.Add("center_team_id", "field.invalid")
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	if c.DND == nil {
		c.DND = []string{}
	}
	return c, nil
}

// settingsCache keeps the compiled settings and the sampling secret for a short while.
type settingsCache struct {
	mu     sync.Mutex
	at     time.Time
	set    *compiled
	secret []byte
}

const settingsTTL = 5 * time.Second

// settings returns the compiled settings (cached for a few seconds).
func (s *Service) settings(ctx context.Context) (*compiled, error) {
	s.cache.mu.Lock()
	if s.cache.set != nil && time.Since(s.cache.at) < settingsTTL {
		c := s.cache.set
		s.cache.mu.Unlock()
		return c, nil
	}
	s.cache.mu.Unlock()
	st := DefaultSettings()
	raw, ok, err := s.store.setting(ctx, settingsKey)
	if err != nil {
		return nil, err
	}
	if ok {
		if err := json.Unmarshal([]byte(raw), &st); err != nil {
			return nil, fmt.Errorf("revisit: settings: %w", err)
		}
	}
	c, err := st.compile()
	if err != nil {
		s.d.Log.Warn("revisit: stored settings invalid, using defaults", "err", err)
		if c, err = DefaultSettings().compile(); err != nil {
			return nil, err
		}
	}
	s.cache.mu.Lock()
	s.cache.set, s.cache.at = c, time.Now()
	s.cache.mu.Unlock()
	return c, nil
}

// Secret returns the per-install sampling key, creating it on first use. The keyed hash
// of (rule, subject) is reproducible by anyone holding it (auditors), and nobody else
// can predict which events will be sampled.
func (s *Service) Secret(ctx context.Context) ([]byte, error) {
	s.cache.mu.Lock()
	if s.cache.secret != nil {
		k := s.cache.secret
		s.cache.mu.Unlock()
		return k, nil
	}
	s.cache.mu.Unlock()
	raw, ok, err := s.store.setting(ctx, secretKey)
	if err != nil {
		return nil, err
	}
	if !ok {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return nil, fmt.Errorf("revisit: secret: %w", err)
		}
		if err := s.d.DB.WithTx(ctx, func(ctx context.Context) error {
			return s.store.putSetting(ctx, secretKey, hex.EncodeToString(b), s.now(), true)
		}); err != nil {
			return nil, err
		}
		if raw, _, err = s.store.setting(ctx, secretKey); err != nil {
			return nil, err
		}
	}
	key, err := hex.DecodeString(raw)
	if err != nil || len(key) < 16 {
		return nil, fmt.Errorf("revisit: stored secret is not a hex key of 16 bytes or more")
	}
	s.cache.mu.Lock()
	s.cache.secret = key
	s.cache.mu.Unlock()
	return key, nil
}

// SetSecret replaces the sampling key (tests and restores; hex, at least 16 bytes).
func (s *Service) SetSecret(ctx context.Context, hexKey string) error {
	if b, err := hex.DecodeString(hexKey); err != nil || len(b) < 16 {
		return apperr.InvalidField("secret", "field.invalid")
	}
	if err := s.d.DB.WithTx(ctx, func(ctx context.Context) error {
		return s.store.putSetting(ctx, secretKey, hexKey, s.now(), false)
	}); err != nil {
		return err
	}
	s.cache.mu.Lock()
	s.cache.secret = nil
	s.cache.mu.Unlock()
	return nil
}

// GetSettings returns the settings (revisit:read).
func (s *Service) GetSettings(ctx context.Context) (Settings, error) {
	if _, err := authz.Require(ctx, PermRead); err != nil {
		return Settings{}, err
	}
	c, err := s.settings(ctx)
	if err != nil {
		return Settings{}, err
	}
	return c.Settings, nil
}

// PutSettings replaces the settings at version (revisit:manage; 409 when stale).
func (s *Service) PutSettings(ctx context.Context, in Settings) (Settings, error) {
	if _, err := authz.Require(ctx, PermManage); err != nil {
		return Settings{}, err
	}
	c, err := in.compile()
	if err != nil {
		return Settings{}, err
	}
	var out Settings
	err = s.d.DB.WithTx(ctx, func(ctx context.Context) error {
		cur := DefaultSettings()
		raw, ok, err := s.store.setting(ctx, settingsKey)
		if err != nil {
			return err
		}
		if ok {
			if err := json.Unmarshal([]byte(raw), &cur); err != nil {
				return fmt.Errorf("revisit: settings: %w", err)
			}
		}
		if in.Version != cur.Version {
			return apperr.StaleVersion(cur.Version)
		}
		out = c.Settings
		out.Version = cur.Version + 1
		if err := s.store.putSetting(ctx, settingsKey, mustJSON(out), s.now(), false); err != nil {
			return err
		}
		return s.record(ctx, "revisit.settings.update", "revisit_settings", 0, map[string]any{"dnd": out.DND,
			"time_zone": out.TimeZone, "center_team_id": out.CenterTeamID, "version": out.Version})
	})
	if err != nil {
		return Settings{}, err
	}
	s.cache.mu.Lock()
	s.cache.set = nil
	s.cache.mu.Unlock()
	return out, nil
}

// settingsRoutes are the settings API.
func (s *Service) settingsRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Path: "/api/v1/revisit-settings", Perm: PermRead, Handler: func(w http.ResponseWriter, r *http.Request) {
			st, err := s.GetSettings(r.Context())
			if err != nil {
				httpx.Error(w, r, err)
				return
			}
			httpx.SetETag(w, st.Version)
			httpx.JSON(w, 200, st)
		}},
		{Method: "PUT", Path: "/api/v1/revisit-settings", Perm: PermManage, Handler: func(w http.ResponseWriter, r *http.Request) {
			var in Settings
			if err := httpx.Decode(r, &in); err != nil {
				httpx.Error(w, r, err)
				return
			}
			st, err := s.PutSettings(r.Context(), in)
			if err != nil {
				httpx.Error(w, r, err)
				return
			}
			httpx.SetETag(w, st.Version)
			httpx.JSON(w, 200, st)
		}},
	}
}
