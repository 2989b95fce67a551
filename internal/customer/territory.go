package customer

// Territories (SPEC §2.1): regions and the routes inside them, each with a responsible
// staff member; customers are assigned to a territory by their address.
//
// # Matching
//
// A territory matches a place pattern: its own province/city/district plus any extra
// patterns in match_rules (a JSON array of {province, city, district}). In a pattern the
// province is required and an empty city or district is a wildcard (a district without
// a city suits municipalities, whose files often leave the city empty). Names are
// compared after trimming, folding case and dropping one trailing administrative suffix
// (province, city, district, county, banner, autonomous region or prefecture, special
// administrative region), so a pattern for the short name matches the full one.
//
// When several active territories match a customer, the most specific wins:
//  1. a route beats a region;
//  2. then the pattern's specificity: district (4) + city (2) + province (1), so a
//     district beats a city, which beats a province alone;
//  3. ties go to the lowest territory id.
//
// Inactive territories match nothing. A customer with no matching territory has none.
//
// # Assignment
//
// Every create and update of a customer recomputes its territory from its address (the
// territory is derived data) and stores it in the same transaction. To keep the create
// path free of extra queries the active territories live in an in-memory matcher cached
// by the service. A territory change on this node drops the cache after its commit; other
// nodes compare a cheap version (the count of territories and their newest updated_at)
// at most once a second and reload when it moved, and reload anyway every five minutes
// (responsible staff renamed). Until then another node may assign by the previous
// territories for up to a second; the reassign action repairs any such file.
//
// Creating, editing or deleting a territory re-assigns the customers in the same
// transaction when there are at most territoryInlineMax active customers. With more, the
// response says reassign.done=false and POST /api/v1/territories/{id}/reassign (or the
// button on /territories) recomputes every active customer in keyset batches of
// territoryBatch, each batch its own transaction.
//
// A territory that still has customers or routes cannot be deleted (409): deactivate it
// first (its customers move to the next best match), then delete it.

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/audit"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/web"
)

// Territory kinds.
const (
	TerritoryRegion = "region"
	TerritoryRoute  = "route"
)

// TerritoryKinds lists the kinds in display order.
var TerritoryKinds = []string{TerritoryRegion, TerritoryRoute}

const (
	territoryInlineMax = 2000 // customers re-assigned inside the territory's transaction
	territoryBatch     = 1000 // customers per batch of a reassign
	territoryMaxRules  = 50
	territoryMaxAll    = 10000 // territories loaded into the matcher
	territoryCheck     = time.Second
	territoryMaxAge    = 5 * time.Minute
	maxTerritoryCode   = 32
)

// TerritoryPlace is one place pattern: province required, city and district optional.
type TerritoryPlace struct {
	Province string `json:"province"`
	City     string `json:"city"`
	District string `json:"district"`
}

// Territory is a region or a route (a route belongs to a region).
type Territory struct {
	ID            int64
	Kind          string
	ParentID      int64
	Code          string
	Name          string
	Province      string
	City          string
	District      string
	Rules         []TerritoryPlace
	ResponsibleID int64
	DeptID        int64
	SortOrder     int64
	Active        bool
	CreatedAt     time.Time
	UpdatedAt     time.Time
	Version       int64
}

// Places are the territory's patterns: its own place, then its match rules.
func (t Territory) Places() []TerritoryPlace {
	return append([]TerritoryPlace{{Province: t.Province, City: t.City, District: t.District}}, t.Rules...)
}

// TerritoryInput creates a territory.
type TerritoryInput struct {
	Kind          string           `json:"kind"`
	ParentID      int64            `json:"parent_id"`
	Code          string           `json:"code"`
	Name          string           `json:"name"`
	Province      string           `json:"province"`
	City          string           `json:"city"`
	District      string           `json:"district"`
	MatchRules    []TerritoryPlace `json:"match_rules"`
	ResponsibleID int64            `json:"responsible_id"`
	DeptID        int64            `json:"dept_id"`
	SortOrder     int64            `json:"sort_order"`
	Active        *bool            `json:"active"` // default true
}

// TerritoryPatch changes a territory; nil fields stay as they are.
type TerritoryPatch struct {
	Kind          *string           `json:"kind"`
	ParentID      *int64            `json:"parent_id"`
	Code          *string           `json:"code"`
	Name          *string           `json:"name"`
	Province      *string           `json:"province"`
	City          *string           `json:"city"`
	District      *string           `json:"district"`
	MatchRules    *[]TerritoryPlace `json:"match_rules"`
	ResponsibleID *int64            `json:"responsible_id"`
	DeptID        *int64            `json:"dept_id"`
	SortOrder     *int64            `json:"sort_order"`
	Active        *bool             `json:"active"`
	// Version is the version the change was made against (required: 428 without, 409
	// when stale).
	Version *int64 `json:"version"`
}

func (in TerritoryInput) patch() TerritoryPatch {
	active := true
	if in.Active != nil {
		active = *in.Active
	}
	rules := in.MatchRules
	return TerritoryPatch{Kind: &in.Kind, ParentID: &in.ParentID, Code: &in.Code, Name: &in.Name, Province: &in.Province,
		City: &in.City, District: &in.District, MatchRules: &rules, ResponsibleID: &in.ResponsibleID, DeptID: &in.DeptID,
		SortOrder: &in.SortOrder, Active: &active}
}

// TerritoryStaff names a staff member in responses.
type TerritoryStaff struct {
	ID          int64  `json:"id"`
	DisplayName string `json:"display_name"`
}

// TerritoryRef is a customer's territory as responses show it.
type TerritoryRef struct {
	ID          int64           `json:"id"`
	Kind        string          `json:"kind"`
	Name        string          `json:"name"`
	ParentID    int64           `json:"parent_id"`
	Responsible *TerritoryStaff `json:"responsible"`
}

// TerritoryReassign reports a re-assignment of customers to territories. Done is false
// when there were too many customers to do it inline: run the reassign action.
type TerritoryReassign struct {
	Done    bool  `json:"done"`
	Scanned int64 `json:"scanned"`
	Changed int64 `json:"changed"`
}

// TerritoryView is the response form of a territory.
type TerritoryView struct {
	ID            int64              `json:"id"`
	Kind          string             `json:"kind"`
	ParentID      int64              `json:"parent_id"`
	Code          string             `json:"code"`
	Name          string             `json:"name"`
	Province      string             `json:"province"`
	City          string             `json:"city"`
	District      string             `json:"district"`
	MatchRules    []TerritoryPlace   `json:"match_rules"`
	ResponsibleID int64              `json:"responsible_id"`
	Responsible   *TerritoryStaff    `json:"responsible"`
	DeptID        int64              `json:"dept_id"`
	SortOrder     int64              `json:"sort_order"`
	Active        bool               `json:"active"`
	Customers     *int64             `json:"customers,omitempty"`
	CreatedAt     time.Time          `json:"created_at"`
	UpdatedAt     time.Time          `json:"updated_at"`
	Version       int64              `json:"version"`
	Reassign      *TerritoryReassign `json:"reassign,omitempty"`
}

// View maps the territory to its response form (responsible is filled by the caller).
func (t Territory) View() TerritoryView {
	return TerritoryView{ID: t.ID, Kind: t.Kind, ParentID: t.ParentID, Code: t.Code, Name: t.Name, Province: t.Province,
		City: t.City, District: t.District, MatchRules: nonNil(t.Rules), ResponsibleID: t.ResponsibleID, DeptID: t.DeptID,
		SortOrder: t.SortOrder, Active: t.Active, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt, Version: t.Version}
}

func territoryFromRow(r territoryRow) (Territory, error) {
	t := Territory{ID: r.ID, Kind: r.Kind, ParentID: r.ParentID, Code: r.Code, Name: r.Name, Province: r.Province,
		City: r.City, District: r.District, ResponsibleID: r.ResponsibleID, DeptID: r.DeptID, SortOrder: r.SortOrder,
		Active: r.Active, CreatedAt: fromMS(r.CreatedAt), UpdatedAt: fromMS(r.UpdatedAt), Version: r.Version}
	if err := fromJSON(r.MatchRules, &t.Rules); err != nil {
		return t, fmt.Errorf("customer: territory %d match_rules: %w", r.ID, err)
	}
	return t, nil
}

func (t *Territory) row() territoryRow {
	return territoryRow{ID: t.ID, Kind: t.Kind, ParentID: t.ParentID, Code: t.Code, Name: t.Name, Province: t.Province,
		City: t.City, District: t.District, MatchRules: toJSON(nonNil(t.Rules)), ResponsibleID: t.ResponsibleID,
		DeptID: t.DeptID, SortOrder: t.SortOrder, Active: t.Active, CreatedAt: ms(t.CreatedAt), UpdatedAt: ms(t.UpdatedAt),
		Version: t.Version}
}

// ======================= matcher =======================

// territorySuffixes are administrative suffixes dropped before comparing place names
// (longest first): special administrative region, autonomous region, autonomous
// prefecture, province, city, district, county, banner.
var territorySuffixes = []string{"\u7279\u522b\u884c\u653f\u533a", "\u81ea\u6cbb\u533a", "\u81ea\u6cbb\u5dde",
	"\u7701", "\u5e02", "\u533a", "\u53bf", "\u65d7"}

// PlaceKey normalizes a place name for matching: spaces trimmed and collapsed, case
// folded, one trailing administrative suffix dropped when at least two characters stay.
func PlaceKey(s string) string {
	s = strings.ToLower(strings.Join(strings.Fields(s), " "))
	for _, suf := range territorySuffixes {
		if t, ok := strings.CutSuffix(s, suf); ok && utf8.RuneCountInString(t) >= 2 {
			return t
		}
	}
	return s
}

type territoryPattern struct {
	id       int64
	route    bool
	score    int // district 4 + city 2 + province 1
	city     string
	district string
}

// better reports whether a ranks above b: routes first, then specificity, then lower id.
func (a territoryPattern) better(b territoryPattern) bool {
	if a.route != b.route {
		return a.route
	}
	if a.score != b.score {
		return a.score > b.score
	}
	return a.id < b.id
}

// Matcher assigns places to territories (see the package notes on territories). It is
// immutable and safe for concurrent use.
type Matcher struct {
	byProvince map[string][]territoryPattern
}

// NewMatcher builds a matcher over the active territories of ts.
func NewMatcher(ts []Territory) *Matcher {
	m := &Matcher{byProvince: map[string][]territoryPattern{}}
	for _, t := range ts {
		if !t.Active {
			continue
		}
		for _, p := range t.Places() {
			prov := PlaceKey(p.Province)
			if prov == "" {
				continue
			}
			tp := territoryPattern{id: t.ID, route: t.Kind == TerritoryRoute, score: 1, city: PlaceKey(p.City), district: PlaceKey(p.District)}
			if tp.city != "" {
				tp.score += 2
			}
			if tp.district != "" {
				tp.score += 4
			}
			m.byProvince[prov] = append(m.byProvince[prov], tp)
		}
	}
	return m
}

// Match returns the id of the most specific active territory matching the place, or 0.
func (m *Matcher) Match(province, city, district string) int64 {
	if m == nil {
		return 0
	}
	cands := m.byProvince[PlaceKey(province)]
	if len(cands) == 0 {
		return 0
	}
	c, d := PlaceKey(city), PlaceKey(district)
	var best territoryPattern
	found := false
	for _, p := range cands {
		if (p.city != "" && p.city != c) || (p.district != "" && p.district != d) {
			continue
		}
		if !found || p.better(best) {
			best, found = p, true
		}
	}
	if !found {
		return 0
	}
	return best.id
}

// ======================= cache =======================

// territoryCache holds the matcher and the territories' display data; its zero value is
// empty and ready.
type territoryCache struct {
	mu   sync.Mutex
	snap atomic.Pointer[territorySnapshot]
}

type territorySnapshot struct {
	m       *Matcher
	refs    map[int64]TerritoryRef
	ver     territoryVersion
	loaded  time.Time
	checked atomic.Int64 // monotonic nanoseconds since loaded
}

func (sn *territorySnapshot) fresh() bool {
	return time.Since(sn.loaded)-time.Duration(sn.checked.Load()) < territoryCheck
}

func (sn *territorySnapshot) ref(id int64) *TerritoryRef {
	if id == 0 {
		return nil
	}
	if r, ok := sn.refs[id]; ok {
		return &r
	}
	return &TerritoryRef{ID: id}
}

// invalidateTerritories drops the cache after ctx's transaction commits and loads it
// again at once, so this node assigns by the new territories from then on.
func (s *Service) invalidateTerritories(ctx context.Context) {
	s.db.AfterCommit(ctx, func() {
		s.terr.snap.Store(nil)
		if _, err := s.territorySnap(context.Background()); err != nil {
			s.log.Warn("customer: reload territories", "err", err)
		}
	})
}

// territorySnap returns the cached territories, checking the table's version at most
// once a second. While one caller checks or reloads, the others go on with the current
// snapshot instead of waiting (a caller inside a transaction must not wait for a second
// connection held up by others); only an empty cache makes callers wait. Loads run
// outside any transaction in ctx, so the cache never holds uncommitted territories.
func (s *Service) territorySnap(ctx context.Context) (*territorySnapshot, error) {
	c := &s.terr
	sn := c.snap.Load()
	if sn != nil && sn.fresh() {
		return sn, nil
	}
	if sn == nil {
		c.mu.Lock()
	} else if !c.mu.TryLock() {
		return sn, nil
	}
	defer c.mu.Unlock()
	if sn = c.snap.Load(); sn != nil && sn.fresh() {
		return sn, nil
	}
	lctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	nsn, err := s.refreshTerritories(lctx, sn)
	if err != nil {
		if sn != nil {
			s.log.Warn("customer: territory check failed; keeping the cached territories", "err", err)
			sn.checked.Store(int64(time.Since(sn.loaded)))
			return sn, nil
		}
		return nil, err
	}
	c.snap.Store(nsn)
	return nsn, nil
}

// refreshTerritories returns sn when the table's version did not move (and sn is not
// too old), else a freshly loaded snapshot.
func (s *Service) refreshTerritories(ctx context.Context, sn *territorySnapshot) (*territorySnapshot, error) {
	ver, err := s.store.TerritoryVersion(ctx)
	if err != nil {
		return nil, err
	}
	if sn != nil && sn.ver == ver && time.Since(sn.loaded) < territoryMaxAge {
		sn.checked.Store(int64(time.Since(sn.loaded)))
		return sn, nil
	}
	ts, err := s.loadTerritories(ctx)
	if err != nil {
		return nil, err
	}
	names := map[int64]string{}
	nsn := &territorySnapshot{m: NewMatcher(ts), refs: make(map[int64]TerritoryRef, len(ts)), ver: ver, loaded: time.Now()}
	for _, t := range ts {
		nsn.refs[t.ID] = TerritoryRef{ID: t.ID, Kind: t.Kind, Name: t.Name, ParentID: t.ParentID,
			Responsible: s.territoryStaff(ctx, names, t.ResponsibleID)}
	}
	return nsn, nil
}

func (s *Service) loadTerritories(ctx context.Context) ([]Territory, error) {
	rows, err := s.store.AllTerritories(ctx, territoryMaxAll)
	if err != nil {
		return nil, err
	}
	out := make([]Territory, 0, len(rows))
	for _, r := range rows {
		t, err := territoryFromRow(r)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// territoryStaff names a responsible staff member (cached in names); a disabled or
// missing one keeps the id with an empty name.
func (s *Service) territoryStaff(ctx context.Context, names map[int64]string, id int64) *TerritoryStaff {
	if id == 0 {
		return nil
	}
	n, ok := names[id]
	if !ok && s.staff != nil {
		if a, err := s.staff.LoadActor(ctx, id); err == nil {
			n = a.DisplayName
		}
		names[id] = n
	}
	return &TerritoryStaff{ID: id, DisplayName: n}
}

// assignTerritory sets c's territory from its address (the create and update paths
// call it before writing the row).
func (s *Service) assignTerritory(ctx context.Context, c *Customer) error {
	sn, err := s.territorySnap(ctx)
	if err != nil {
		return err
	}
	c.TerritoryID = sn.m.Match(c.Province, c.City, c.District)
	c.Territory = sn.ref(c.TerritoryID)
	return nil
}

// territoryRef describes a customer's territory for responses from the cache (rows
// decoded by fromRow). When the cache cannot load, only the id is given.
func (s *Service) territoryRef(id int64) *TerritoryRef {
	if id == 0 {
		return nil
	}
	sn, err := s.territorySnap(context.Background())
	if err != nil {
		s.log.Warn("customer: territories unavailable", "err", err)
		return &TerritoryRef{ID: id}
	}
	return sn.ref(id)
}

// ======================= service =======================

func (s *Service) recordTerritory(ctx context.Context, action string, id int64, detail any) error {
	if s.audit == nil {
		return nil
	}
	if err := s.audit.Record(ctx, audit.Entry{Action: action, TargetType: "territory", TargetID: strconv.FormatInt(id, 10),
		Detail: detail}); err != nil {
		return fmt.Errorf("customer: audit %s: %w", action, err)
	}
	return nil
}

func territoryNotFound(err error) error {
	if db.IsNoRows(err) {
		return apperr.NotFoundf("thing.territory")
	}
	return fmt.Errorf("customer: load territory: %w", err)
}

// GetTerritory returns one territory with the number of its customers.
func (s *Service) GetTerritory(ctx context.Context, id int64) (Territory, int64, error) {
	if _, err := authz.Require(ctx, PermRead); err != nil {
		return Territory{}, 0, err
	}
	r, err := s.store.Territory(ctx, id)
	if err != nil {
		return Territory{}, 0, territoryNotFound(err)
	}
	t, err := territoryFromRow(r)
	if err != nil {
		return Territory{}, 0, err
	}
	n, err := s.store.TerritoryCustomers(ctx, id)
	return t, n, err
}

// ListTerritories pages through the territories by id.
func (s *Service) ListTerritories(ctx context.Context, limit int, cur string) (Page[Territory], error) {
	if _, err := authz.Require(ctx, PermRead); err != nil {
		return Page[Territory]{}, err
	}
	after, err := decodeCursor(cur)
	if err != nil {
		return Page[Territory]{}, err
	}
	limit = pageLimit(limit)
	rows, err := s.store.TerritoryPage(ctx, after, limit+1)
	if err != nil {
		return Page[Territory]{}, err
	}
	var p Page[Territory]
	for i, r := range rows {
		if i == limit {
			p.NextCursor = httpx.EncodeCursor(cursor{ID: rows[limit-1].ID})
			break
		}
		t, err := territoryFromRow(r)
		if err != nil {
			return Page[Territory]{}, err
		}
		p.Items = append(p.Items, t)
	}
	return p, nil
}

// TerritoryTree returns every territory as a tree in display order: each region (by
// sort order, name, id) followed by its routes; routes whose region is gone come last.
func (s *Service) TerritoryTree(ctx context.Context) ([]Territory, error) {
	if _, err := authz.Require(ctx, PermRead); err != nil {
		return nil, err
	}
	ts, err := s.loadTerritories(ctx)
	if err != nil {
		return nil, err
	}
	order := func(a, b Territory) int {
		return cmp.Or(cmp.Compare(a.SortOrder, b.SortOrder), strings.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	}
	slices.SortFunc(ts, order)
	children := map[int64][]Territory{}
	regions := map[int64]bool{}
	for _, t := range ts {
		if t.Kind == TerritoryRegion {
			regions[t.ID] = true
		}
	}
	var out, orphans []Territory
	for _, t := range ts {
		switch {
		case t.Kind == TerritoryRoute && regions[t.ParentID]:
			children[t.ParentID] = append(children[t.ParentID], t)
		case t.Kind == TerritoryRoute:
			orphans = append(orphans, t)
		}
	}
	for _, t := range ts {
		if t.Kind == TerritoryRegion {
			out = append(out, t)
			out = append(out, children[t.ID]...)
		}
	}
	return append(out, orphans...), nil
}

// deptChecker is implemented by the org service: it tells whether a department exists.
type deptChecker interface {
	DepartmentName(ctx context.Context, id int64) (string, error)
}

// applyTerritory validates p onto t. The checks that need the database (parent,
// responsible, department, code) follow in checkTerritory.
func applyTerritory(t *Territory, p TerritoryPatch, f apperr.Fields) {
	if p.Kind != nil {
		t.Kind = choice(f, "kind", *p.Kind, TerritoryKinds, true)
	}
	if p.Name != nil {
		t.Name = text(f, "name", *p.Name, maxShort, true, false)
	}
	if p.Code != nil {
		t.Code = strings.TrimSpace(*p.Code)
		if len(t.Code) > maxTerritoryCode || strings.ContainsFunc(t.Code, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.')
		}) {
			f.Add("code", "territory.invalid.code", "max", maxTerritoryCode)
		}
	}
	if p.Province != nil {
		t.Province = text(f, "province", *p.Province, maxShort, true, false)
	}
	if p.City != nil {
		t.City = text(f, "city", *p.City, maxShort, false, false)
	}
	if p.District != nil {
		t.District = text(f, "district", *p.District, maxShort, false, false)
	}
	if p.MatchRules != nil {
		rules := *p.MatchRules
		if len(rules) > territoryMaxRules {
			f.Add("match_rules", "customer.invalid.too_many", "max", territoryMaxRules)
			rules = rules[:territoryMaxRules]
		}
		t.Rules = make([]TerritoryPlace, 0, len(rules))
		for i, r := range rules {
			pre := "match_rules[" + strconv.Itoa(i) + "]."
			pl := TerritoryPlace{Province: text(f, pre+"province", r.Province, maxShort, true, false),
				City: text(f, pre+"city", r.City, maxShort, false, false), District: text(f, pre+"district", r.District, maxShort, false, false)}
			t.Rules = append(t.Rules, pl)
		}
	}
	if p.ParentID != nil {
		t.ParentID = *p.ParentID
	}
	if p.ResponsibleID != nil {
		t.ResponsibleID = *p.ResponsibleID
	}
	if p.DeptID != nil {
		t.DeptID = *p.DeptID
	}
	if p.SortOrder != nil {
		t.SortOrder = *p.SortOrder
		if t.SortOrder < -1_000_000 || t.SortOrder > 1_000_000 {
			f.Add("sort_order", "territory.invalid.sort_order")
		}
	}
	if p.Active != nil {
		t.Active = *p.Active
	}
}

// checkTerritory runs the checks of t against the database (inside the write's
// transaction).
func (s *Service) checkTerritory(ctx context.Context, t *Territory, f apperr.Fields) error {
	switch {
	case t.Kind == TerritoryRoute && t.ParentID <= 0:
		f.Add("parent_id", "territory.invalid.parent")
	case t.Kind == TerritoryRoute:
		pr, err := s.store.Territory(ctx, t.ParentID)
		if err != nil && !db.IsNoRows(err) {
			return fmt.Errorf("customer: load parent territory: %w", err)
		}
		if err != nil || pr.Kind != TerritoryRegion || pr.ID == t.ID {
			f.Add("parent_id", "territory.invalid.parent")
		}
	case t.Kind == TerritoryRegion && t.ParentID != 0:
		f.Add("parent_id", "territory.invalid.region_parent")
	}
	if t.ResponsibleID <= 0 {
		f.Add("responsible_id", "field.required")
	} else if s.staff == nil {
		f.Add("responsible_id", "territory.invalid.responsible")
	} else if a, err := s.staff.LoadActor(ctx, t.ResponsibleID); err != nil {
		if k := apperr.KindOf(err); k != apperr.NotFound && k != apperr.Forbidden {
			return fmt.Errorf("customer: load responsible: %w", err)
		}
		f.Add("responsible_id", "territory.invalid.responsible")
	} else if t.DeptID == 0 {
		t.DeptID = a.DeptID
	}
	if t.DeptID < 0 {
		f.Add("dept_id", "territory.invalid.dept")
	} else if dc, ok := s.staff.(deptChecker); ok && t.DeptID > 0 {
		if _, err := dc.DepartmentName(ctx, t.DeptID); err != nil {
			if apperr.KindOf(err) != apperr.NotFound {
				return fmt.Errorf("customer: load department: %w", err)
			}
			f.Add("dept_id", "territory.invalid.dept")
		}
	}
	if t.Code != "" {
		taken, err := s.store.TerritoryCodeTaken(ctx, t.Code, t.ID)
		if err != nil {
			return err
		}
		if taken {
			f.Add("code", "territory.invalid.code_taken")
		}
	}
	return nil
}

// CreateTerritory validates and stores a territory, then re-assigns the customers in the
// same transaction when there are few enough (see TerritoryReassign.Done).
func (s *Service) CreateTerritory(ctx context.Context, in TerritoryInput) (Territory, TerritoryReassign, error) {
	return s.createTerritory(ctx, in, apperr.Fields{})
}

// createTerritory is CreateTerritory reporting its field errors together with those
// already in f (a form's parse errors).
func (s *Service) createTerritory(ctx context.Context, in TerritoryInput, f apperr.Fields) (Territory, TerritoryReassign, error) {
	if _, err := authz.Require(ctx, PermTerritory); err != nil {
		return Territory{}, TerritoryReassign{}, err
	}
	now := s.now()
	t := Territory{CreatedAt: now, UpdatedAt: now, Version: 1}
	applyTerritory(&t, in.patch(), f)
	var rep TerritoryReassign
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		if err := s.checkTerritory(ctx, &t, f); err != nil {
			return err
		}
		if err := f.Err(); err != nil {
			return err
		}
		row := t.row()
		id, err := s.store.InsertTerritory(ctx, &row)
		if err != nil {
			return err
		}
		t.ID = id
		if rep, err = s.reassignInline(ctx); err != nil {
			return err
		}
		s.invalidateTerritories(ctx)
		return s.recordTerritory(ctx, "territory.create", id, map[string]any{"kind": t.Kind, "name": t.Name,
			"parent_id": t.ParentID, "places": t.Places(), "responsible_id": t.ResponsibleID, "dept_id": t.DeptID,
			"active": t.Active, "reassign": rep})
	})
	if err != nil {
		return Territory{}, TerritoryReassign{}, err
	}
	return t, rep, nil
}

// UpdateTerritory changes a territory and re-assigns the customers like CreateTerritory.
func (s *Service) UpdateTerritory(ctx context.Context, id int64, p TerritoryPatch) (Territory, TerritoryReassign, error) {
	return s.updateTerritory(ctx, id, p, apperr.Fields{})
}

// updateTerritory is UpdateTerritory reporting its field errors together with those
// already in f.
func (s *Service) updateTerritory(ctx context.Context, id int64, p TerritoryPatch, f apperr.Fields) (Territory, TerritoryReassign, error) {
	if _, err := authz.Require(ctx, PermTerritory); err != nil {
		return Territory{}, TerritoryReassign{}, err
	}
	if p.Version == nil {
		return Territory{}, TerritoryReassign{}, apperr.VersionRequired()
	}
	var out Territory
	var rep TerritoryReassign
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		r, err := s.store.Territory(ctx, id)
		if err != nil {
			return territoryNotFound(err)
		}
		t, err := territoryFromRow(r)
		if err != nil {
			return err
		}
		if *p.Version != t.Version {
			return apperr.StaleVersion(t.Version)
		}
		old := t
		applyTerritory(&t, p, f)
		if old.Kind == TerritoryRegion && t.Kind != TerritoryRegion {
			n, err := s.store.TerritoryRoutes(ctx, id)
			if err != nil {
				return err
			}
			if n > 0 {
				f.Add("kind", "territory.invalid.has_routes", "count", n)
			}
		}
		if err := s.checkTerritory(ctx, &t, f); err != nil {
			return err
		}
		if err := f.Err(); err != nil {
			return err
		}
		changed := territoryChanges(old, t)
		if len(changed) == 0 {
			out = t
			rep = TerritoryReassign{Done: true}
			return nil
		}
		// updated_at always moves forward so other nodes' caches see the change.
		t.UpdatedAt = s.now()
		if !t.UpdatedAt.After(old.UpdatedAt) {
			t.UpdatedAt = old.UpdatedAt.Add(time.Millisecond)
		}
		row := t.row()
		ok, err := s.store.UpdateTerritory(ctx, &row)
		if err != nil {
			return err
		}
		if !ok {
			return apperr.StaleVersion(0)
		}
		t.Version++
		if rep, err = s.reassignInline(ctx); err != nil {
			return err
		}
		s.invalidateTerritories(ctx)
		out = t
		return s.recordTerritory(ctx, "territory.update", id, map[string]any{"changed": changed, "reassign": rep})
	})
	if err != nil {
		return Territory{}, TerritoryReassign{}, err
	}
	return out, rep, nil
}

func territoryChanges(a, b Territory) []string {
	var out []string
	add := func(name string, same bool) {
		if !same {
			out = append(out, name)
		}
	}
	add("kind", a.Kind == b.Kind)
	add("parent_id", a.ParentID == b.ParentID)
	add("code", a.Code == b.Code)
	add("name", a.Name == b.Name)
	add("province", a.Province == b.Province)
	add("city", a.City == b.City)
	add("district", a.District == b.District)
	add("match_rules", slices.Equal(a.Rules, b.Rules))
	add("responsible_id", a.ResponsibleID == b.ResponsibleID)
	add("dept_id", a.DeptID == b.DeptID)
	add("sort_order", a.SortOrder == b.SortOrder)
	add("active", a.Active == b.Active)
	return out
}

// DeleteTerritory removes a territory that has neither customers nor routes (409
// otherwise).
func (s *Service) DeleteTerritory(ctx context.Context, id int64) error {
	if _, err := authz.Require(ctx, PermTerritory); err != nil {
		return err
	}
	return s.db.WithTx(ctx, func(ctx context.Context) error {
		r, err := s.store.Territory(ctx, id)
		if err != nil {
			return territoryNotFound(err)
		}
		routes, err := s.store.TerritoryRoutes(ctx, id)
		if err != nil {
			return err
		}
		if routes > 0 {
			return apperr.New(apperr.Conflict, "territory.has_routes", "count", routes).WithCode("territory_has_routes").
				With("routes", routes)
		}
		n, err := s.store.TerritoryCustomers(ctx, id)
		if err != nil {
			return err
		}
		if n > 0 {
			return apperr.New(apperr.Conflict, "territory.in_use", "count", n).WithCode("territory_in_use").With("customers", n)
		}
		if err := s.store.DeleteTerritory(ctx, id); err != nil {
			return err
		}
		s.invalidateTerritories(ctx)
		return s.recordTerritory(ctx, "territory.delete", id, map[string]any{"kind": r.Kind, "name": r.Name})
	})
}

// reassignInline re-assigns every active customer inside ctx's transaction when there
// are at most territoryInlineMax of them, by the territories as this transaction sees
// them; otherwise it reports Done=false.
func (s *Service) reassignInline(ctx context.Context) (TerritoryReassign, error) {
	n, err := s.store.ActiveCustomersUpTo(ctx, territoryInlineMax+1)
	if err != nil {
		return TerritoryReassign{}, err
	}
	if n > territoryInlineMax {
		return TerritoryReassign{Done: false}, nil
	}
	ts, err := s.loadTerritories(ctx)
	if err != nil {
		return TerritoryReassign{}, err
	}
	m := NewMatcher(ts)
	rep := TerritoryReassign{Done: true}
	for after := int64(0); ; {
		done, last, err := s.reassignBatch(ctx, m, after, &rep)
		if err != nil || done {
			return rep, err
		}
		after = last
	}
}

// reassignBatch re-assigns the next batch of active customers after the id after; it
// reports whether the customers are exhausted and the last id seen.
func (s *Service) reassignBatch(ctx context.Context, m *Matcher, after int64, rep *TerritoryReassign) (bool, int64, error) {
	places, err := s.store.CustomerPlaces(ctx, after, territoryBatch)
	if err != nil {
		return false, after, err
	}
	for _, p := range places {
		rep.Scanned++
		if t := m.Match(p.Province, p.City, p.District); t != p.TerritoryID {
			if err := s.store.SetCustomerTerritory(ctx, p.ID, t); err != nil {
				return false, after, err
			}
			rep.Changed++
		}
	}
	if len(places) < territoryBatch {
		return true, after, nil
	}
	return false, places[len(places)-1].ID, nil
}

// ReassignTerritories recomputes the territory of every active customer by the current
// territories, in keyset batches of territoryBatch customers, each batch its own
// transaction (the run may take a while on a large database; it is safe to repeat). id,
// when not 0, names the territory whose edit prompted the run (it must exist).
func (s *Service) ReassignTerritories(ctx context.Context, id int64) (TerritoryReassign, error) {
	if _, err := authz.Require(ctx, PermTerritory); err != nil {
		return TerritoryReassign{}, err
	}
	if id != 0 {
		if _, err := s.store.Territory(ctx, id); err != nil {
			return TerritoryReassign{}, territoryNotFound(err)
		}
	}
	ts, err := s.loadTerritories(ctx)
	if err != nil {
		return TerritoryReassign{}, err
	}
	m := NewMatcher(ts)
	rep := TerritoryReassign{}
	for after := int64(0); ; {
		var done bool
		err := s.db.WithTx(ctx, func(ctx context.Context) error {
			var err error
			done, after, err = s.reassignBatch(ctx, m, after, &rep)
			return err
		})
		if err != nil {
			return rep, err
		}
		if done {
			break
		}
		if err := ctx.Err(); err != nil {
			return rep, err
		}
	}
	rep.Done = true
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		return s.recordTerritory(ctx, "territory.reassign", id, map[string]any{"scanned": rep.Scanned, "changed": rep.Changed})
	})
	return rep, err
}

// ======================= JSON API =======================

// territoryViews maps territories to views with their responsible staff named.
func (s *Service) territoryViews(ctx context.Context, ts []Territory) []TerritoryView {
	names := map[int64]string{}
	out := make([]TerritoryView, len(ts))
	for i, t := range ts {
		out[i] = t.View()
		out[i].Responsible = s.territoryStaff(ctx, names, t.ResponsibleID)
	}
	return out
}

func territoryURL(id int64) string { return "/api/v1/territories/" + strconv.FormatInt(id, 10) }

func (a api) listTerritories(w http.ResponseWriter, r *http.Request) {
	limit, cur, err := httpx.ListParams(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	p, err := a.s.ListTerritories(r.Context(), limit, cur)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, httpx.Page[TerritoryView]{Items: a.s.territoryViews(r.Context(), p.Items), NextCursor: p.NextCursor})
}

func (a api) getTerritory(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	t, n, err := a.s.GetTerritory(r.Context(), id)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	v := a.s.territoryViews(r.Context(), []Territory{t})[0]
	v.Customers = &n
	httpx.JSON(w, http.StatusOK, v)
}

func (a api) createTerritory(w http.ResponseWriter, r *http.Request) {
	var in TerritoryInput
	if err := httpx.Decode(r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	t, rep, err := a.s.CreateTerritory(r.Context(), in)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	v := a.s.territoryViews(r.Context(), []Territory{t})[0]
	v.Reassign = &rep
	httpx.Created(w, territoryURL(t.ID), v)
}

func (a api) updateTerritory(w http.ResponseWriter, r *http.Request) {
	httpx.PatchByID(func(p *TerritoryPatch) **int64 { return &p.Version },
		func(ctx context.Context, id int64, p TerritoryPatch) (any, int64, error) {
			t, rep, err := a.s.UpdateTerritory(ctx, id, p)
			if err != nil {
				return nil, 0, err
			}
			v := a.s.territoryViews(ctx, []Territory{t})[0]
			v.Reassign = &rep
			return v, t.Version, nil
		})(w, r)
}

func (a api) deleteTerritory(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err == nil {
		if err = a.s.DeleteTerritory(r.Context(), id); err == nil {
			httpx.NoContent(w)
			return
		}
	}
	httpx.Error(w, r, err)
}

func (a api) reassignTerritory(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	rep, err := a.s.ReassignTerritories(r.Context(), id)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, rep)
}

// ======================= pages =======================

// TerritoriesPage is the model of /territories.
type TerritoriesPage struct {
	Rows      []TerritoryRow
	CanManage bool
	Error     string
}

// TerritoryRow is one line of the territory tree.
type TerritoryRow struct {
	ID          int64
	IsRoute     bool
	Kind        string
	Code        string
	Name        string
	Places      []string
	Responsible string
	Customers   int64
	Active      bool
}

func placeText(p TerritoryPlace) string {
	parts := []string{p.Province}
	if p.City != "" {
		parts = append(parts, p.City)
	}
	if p.District != "" {
		parts = append(parts, p.District)
	}
	return strings.Join(parts, " / ")
}

func (p pages) territoriesPage(r *http.Request) (TerritoriesPage, error) {
	ctx := r.Context()
	ts, err := p.s.TerritoryTree(ctx)
	if err != nil {
		return TerritoriesPage{}, err
	}
	counts, err := p.s.store.TerritoryCounts(ctx)
	if err != nil {
		return TerritoriesPage{}, err
	}
	pg := TerritoriesPage{CanManage: authz.From(ctx).Can(PermTerritory)}
	names := map[int64]string{}
	for _, t := range ts {
		row := TerritoryRow{ID: t.ID, IsRoute: t.Kind == TerritoryRoute, Kind: label(r, "territory.kind.", t.Kind), Code: t.Code,
			Name: t.Name, Customers: counts[t.ID], Active: t.Active}
		for _, pl := range t.Places() {
			row.Places = append(row.Places, placeText(pl))
		}
		if st := p.s.territoryStaff(ctx, names, t.ResponsibleID); st != nil {
			row.Responsible = st.DisplayName
			if row.Responsible == "" {
				row.Responsible = "#" + itoa(st.ID)
			}
		}
		pg.Rows = append(pg.Rows, row)
	}
	return pg, nil
}

func (p pages) territories(w http.ResponseWriter, r *http.Request) {
	pg, err := p.territoriesPage(r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	web.Render(p.s.web, w, r, http.StatusOK, "customer/territories", "page.territories.title", pg)
}

// TerritoryFormPage is the model of /territories/new and /territories/{id}/edit.
type TerritoryFormPage struct {
	New     bool
	ID      int64
	V       map[string]string
	Kinds   []option
	Parents []option
	Active  bool
	Errors  web.FormErrors
	Message string
}

// territoryFormFields are the text inputs of the form.
var territoryFormFields = []string{"code", "name", "province", "city", "district", "match_rules", "responsible_id", "dept_id", "sort_order",
	"version"}

func (p pages) territoryForm(r *http.Request, pg TerritoryFormPage, kind string, parent int64) (TerritoryFormPage, error) {
	ts, err := p.s.TerritoryTree(r.Context())
	if err != nil {
		return pg, err
	}
	pg.Kinds = options(r, "territory.kind.", TerritoryKinds, kind, "")
	pg.Parents = []option{{Value: "", Label: tr(r, "territory.parent.none"), Selected: parent == 0}}
	for _, t := range ts {
		if t.Kind == TerritoryRegion && t.ID != pg.ID {
			pg.Parents = append(pg.Parents, option{Value: itoa(t.ID), Label: t.Name, Selected: t.ID == parent})
		}
	}
	return pg, nil
}

func (p pages) renderTerritoryForm(w http.ResponseWriter, r *http.Request, status int, pg TerritoryFormPage, kind string, parent int64) {
	pg, err := p.territoryForm(r, pg, kind, parent)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	title := "page.territory_edit.title"
	if pg.New {
		title = "page.territory_new.title"
	}
	web.Render(p.s.web, w, r, status, "customer/territory_form", title, pg)
}

func (p pages) newTerritory(w http.ResponseWriter, r *http.Request) {
	kind, parent := TerritoryRegion, int64(0)
	if id, err := strconv.ParseInt(r.URL.Query().Get("parent"), 10, 64); err == nil && id > 0 {
		kind, parent = TerritoryRoute, id
	}
	p.renderTerritoryForm(w, r, http.StatusOK, TerritoryFormPage{New: true, V: map[string]string{}, Active: true}, kind, parent)
}

// rulesText shows match rules one place per line ("province / city / district").
func rulesText(rules []TerritoryPlace) string {
	lines := make([]string, len(rules))
	for i, pl := range rules {
		lines[i] = placeText(pl)
	}
	return strings.Join(lines, "\n")
}

// parseRules reads the match-rules text area: one place per line, parts separated by
// "/"; a line of more than three parts is refused.
func parseRules(s string, f apperr.Fields) []TerritoryPlace {
	var out []TerritoryPlace
	for i, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		parts := strings.Split(line, "/")
		if len(parts) > 3 {
			f.Add("match_rules", "territory.invalid.rule_line", "line", i+1)
			continue
		}
		for len(parts) < 3 {
			parts = append(parts, "")
		}
		out = append(out, TerritoryPlace{Province: strings.TrimSpace(parts[0]), City: strings.TrimSpace(parts[1]),
			District: strings.TrimSpace(parts[2])})
	}
	return out
}

func (p pages) editTerritory(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	t, _, err := p.s.GetTerritory(r.Context(), id)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	v := map[string]string{"code": t.Code, "name": t.Name, "province": t.Province, "city": t.City, "district": t.District,
		"match_rules": rulesText(t.Rules), "responsible_id": itoa(t.ResponsibleID), "sort_order": itoa(t.SortOrder),
		"version": itoa(t.Version)}
	if t.DeptID != 0 {
		v["dept_id"] = itoa(t.DeptID)
	}
	if t.ResponsibleID == 0 {
		v["responsible_id"] = ""
	}
	p.renderTerritoryForm(w, r, http.StatusOK, TerritoryFormPage{ID: id, V: v, Active: t.Active}, t.Kind, t.ParentID)
}

// territoryFormPatch reads the posted form; malformed numbers become -1 (refused).
func territoryFormPatch(r *http.Request, f apperr.Fields) TerritoryPatch {
	str := func(k string) *string { v := r.PostFormValue(k); return &v }
	num := func(k string) *int64 { n := formInt(r.PostFormValue(k)); return &n }
	rules := parseRules(r.PostFormValue("match_rules"), f)
	active := r.PostFormValue("active") != ""
	return TerritoryPatch{Kind: str("kind"), ParentID: num("parent_id"), Code: str("code"), Name: str("name"),
		Province: str("province"), City: str("city"), District: str("district"), MatchRules: &rules,
		ResponsibleID: num("responsible_id"), DeptID: num("dept_id"), SortOrder: num("sort_order"), Active: &active,
		Version: formVersion(r)}
}

// territoryFormError re-renders the form with the errors of err next to their fields.
func (p pages) territoryFormError(w http.ResponseWriter, r *http.Request, pg TerritoryFormPage, err error) {
	fe, msg, ok := p.s.web.FieldErrors(r.Context(), err)
	if !ok {
		p.fail(w, r, err)
		return
	}
	pg.Errors, pg.Message = fe, msg
	for k := range fe { // a match rule's part errors belong to the text area
		if strings.HasPrefix(k, "match_rules[") {
			pg.Errors["match_rules"] = fe[k]
		}
	}
	pg.V = map[string]string{}
	for _, k := range territoryFormFields {
		pg.V[k] = r.PostFormValue(k)
	}
	pg.Active = r.PostFormValue("active") != ""
	parent := formInt(r.PostFormValue("parent_id"))
	p.renderTerritoryForm(w, r, httpx.Status(apperr.KindOf(err)), pg, r.PostFormValue("kind"), parent)
}

func reassignFlash(rep TerritoryReassign, ok string) string {
	if !rep.Done {
		return "territory.flash.reassign_pending"
	}
	return ok
}

func (p pages) createTerritory(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, apperr.New(apperr.Malformed, "error.malformed", "detail", "form"))
		return
	}
	f := apperr.Fields{}
	patch := territoryFormPatch(r, f)
	in := TerritoryInput{Kind: *patch.Kind, ParentID: *patch.ParentID, Code: *patch.Code, Name: *patch.Name,
		Province: *patch.Province, City: *patch.City, District: *patch.District, MatchRules: *patch.MatchRules,
		ResponsibleID: *patch.ResponsibleID, DeptID: *patch.DeptID, SortOrder: *patch.SortOrder, Active: patch.Active}
	_, rep, err := p.s.createTerritory(r.Context(), in, f)
	if err == nil {
		web.Redirect(w, r, "/territories", reassignFlash(rep, "territory.flash.created"))
		return
	}
	p.territoryFormError(w, r, TerritoryFormPage{New: true}, err)
}

func (p pages) updateTerritory(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, apperr.New(apperr.Malformed, "error.malformed", "detail", "form"))
		return
	}
	f := apperr.Fields{}
	patch := territoryFormPatch(r, f)
	_, rep, err := p.s.updateTerritory(r.Context(), id, patch, f)
	if err == nil {
		web.Redirect(w, r, "/territories", reassignFlash(rep, "territory.flash.saved"))
		return
	}
	p.territoryFormError(w, r, TerritoryFormPage{ID: id}, err)
}

func (p pages) deleteTerritory(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	err = p.s.DeleteTerritory(r.Context(), id)
	if err == nil {
		web.Redirect(w, r, "/territories", "territory.flash.deleted")
		return
	}
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Kind != apperr.Conflict {
		p.fail(w, r, err)
		return
	}
	pg, perr := p.territoriesPage(r)
	if perr != nil {
		p.fail(w, r, perr)
		return
	}
	_, pg.Error, _ = p.s.web.FieldErrors(r.Context(), err)
	web.Render(p.s.web, w, r, http.StatusConflict, "customer/territories", "page.territories.title", pg)
}

func (p pages) reassignTerritory(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if _, err := p.s.ReassignTerritories(r.Context(), id); err != nil {
		p.fail(w, r, err)
		return
	}
	web.Redirect(w, r, "/territories", "territory.flash.reassigned")
}
