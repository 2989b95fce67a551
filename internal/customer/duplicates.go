package customer

// Duplicate review (SPEC §2.1): likely pairs of customer files, found
//
//   - on create/update, when a holder of customer:force_duplicate stores a file whose
//     mobile, phone, ID number or credit code an active file has already (service.go
//     records the pair with those fields as its reasons and score 100), and
//   - by ScanDuplicates (POST /api/v1/customers/duplicates/scan and a nightly job).
//
// A pair is likely when the two files
//
//  1. share an identifier: the same mobile or phone number (any of the two against any
//     of the two: one blind-index purpose holds every phone number), the same resident
//     ID number (blind index) or the same unified social credit code; score 100; or
//  2. are of the same kind and have very similar names at the same place:
//     - the names are "very similar" when their core names are equal or when the
//       Jaccard similarity of the core names' character bigrams is at least 0.8. The
//       core name is the name normalized like name_key (lower case, full-width folded,
//       letters and digits only), without a leading province/city/district of the file
//       itself and, for organisations, without legal-form suffixes such as "Co., Ltd."
//       (lists in data/names.txt);
//     - "the same place" is the same whole address (address blind index) or, for two
//       organisations, the same province + city + district;
//     score 90 for equal core names, 80..89 for similar ones, +5 for the same address.
//
// The scan never compares all customers with each other. Identifier and address
// candidates come from indexed equality self-joins on the blind-index columns, one id
// range of customers at a time. Similar organisation names are compared only within a
// block: the same district and the same first character of the core name, ordered by
// bigram count so that only names whose sizes allow a Jaccard of 0.8 are compared.
// Persons are never paired by name and district alone (common names would flood the
// review), only by name and whole address.
//
// Each pair is stored once (a_id < b_id) in customer_dup_pairs with its reasons (a
// JSON array of reason codes) and score. Status: open (listed), dismissed ("not a
// duplicate", remembered: a later scan leaves it alone) or merged.

import (
	"context"
	_ "embed"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/web"
)

// Duplicate pair statuses.
const (
	PairOpen      = "open"
	PairDismissed = "dismissed"
	PairMerged    = "merged"
)

// Reason codes of a duplicate pair.
const (
	ReasonMobile      = "mobile"
	ReasonPhone       = "phone"
	ReasonIDNumber    = "id_number"
	ReasonCreditCode  = "credit_code"
	ReasonName        = "name"
	ReasonNameSimilar = "name_similar"
	ReasonAddress     = "address"
	ReasonDistrict    = "district"
)

// Tuning of duplicate detection.
const (
	minNameJaccard  = 0.8
	scanIDRange     = 5000  // customers per identifier-join batch
	maxJoinPairs    = 50000 // candidate pairs per batch (a value shared by very many files is cut off)
	maxBlock        = 3000  // names per (district, first character) block compared pairwise
	pairFlushSize   = 500   // pairs written per transaction
	scoreIdentifier = 100
	scoreNameEqual  = 90
	scoreNameFloor  = 80
	scoreSameAddr   = 5
)

//go:embed data/names.txt
var namesData string

// nameRules are the normalization lists of data/names.txt.
type nameRules struct {
	orgSuffixes   []string // normalized, longest first
	placeSuffixes []string
}

// loadNameRules parses the sectioned list format of data/names.txt.
func loadNameRules(data string) nameRules {
	var nr nameRules
	var cur *[]string
	for _, line := range strings.Split(data, "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		switch {
		case line == "":
		case line == "[org_suffix]":
			cur = &nr.orgSuffixes
		case line == "[place_suffix]":
			cur = &nr.placeSuffixes
		case cur != nil:
			if k := nameKey(line); k != "" && !slices.Contains(*cur, k) {
				*cur = append(*cur, k)
			}
		}
	}
	for _, l := range []*[]string{&nr.orgSuffixes, &nr.placeSuffixes} {
		sort.SliceStable(*l, func(i, j int) bool { return len((*l)[i]) > len((*l)[j]) })
	}
	return nr
}

var defaultNameRules = sync.OnceValue(func() nameRules { return loadNameRules(namesData) })

// coreName is the part of a name that duplicate detection compares (see the package
// comment above). It never returns "" for a name that has letters or digits.
func (nr nameRules) coreName(kind, name, province, city, district string) string {
	k := nameKey(name)
	if k == "" {
		return ""
	}
	// Leading place names of the file itself, outermost first.
	for _, place := range []string{province, city, district} {
		p := nameKey(place)
		if p == "" {
			continue
		}
		forms := []string{p}
		for _, suf := range nr.placeSuffixes {
			if b, ok := strings.CutSuffix(p, suf); ok && b != "" {
				forms = append(forms, b)
			}
		}
		for _, f := range forms {
			if rest, ok := strings.CutPrefix(k, f); ok && rest != "" {
				k = rest
				break
			}
		}
	}
	if kind != KindOrg {
		return k
	}
	for changed := true; changed; {
		changed = false
		for _, suf := range nr.orgSuffixes {
			if rest, ok := strings.CutSuffix(k, suf); ok && rest != "" {
				k, changed = rest, true
				break
			}
		}
	}
	return k
}

// bigrams is the set of character bigrams of s (s itself when shorter than 2).
func bigrams(s string) map[string]struct{} {
	rs := []rune(s)
	out := make(map[string]struct{}, len(rs))
	if len(rs) < 2 {
		if s != "" {
			out[s] = struct{}{}
		}
		return out
	}
	for i := 0; i+1 < len(rs); i++ {
		out[string(rs[i:i+2])] = struct{}{}
	}
	return out
}

func jaccard(a, b map[string]struct{}) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	inter := 0
	for k := range a {
		if _, ok := b[k]; ok {
			inter++
		}
	}
	return float64(inter) / float64(len(a)+len(b)-inter)
}

// dupFacts are the columns of a customer that duplicate detection compares: blind
// indexes and public data, never a clear personal value.
type dupFacts struct {
	ID                                          int64
	Kind, Name                                  string
	MobileBidx, PhoneBidx, IDNumberBidx, Credit string
	Province, City, District, AddressBidx       string

	core  string
	grams map[string]struct{}
}

func (f *dupFacts) prepare(nr nameRules) {
	f.core = nr.coreName(f.Kind, f.Name, f.Province, f.City, f.District)
	f.grams = bigrams(f.core)
}

// dupMatch is why two customers look like duplicates.
type dupMatch struct {
	Reasons []string
	Score   int
}

// matchPair decides whether a and b (prepared) are a likely pair.
func matchPair(a, b *dupFacts) (dupMatch, bool) {
	var m dupMatch
	eq := func(x, y string) bool { return x != "" && x == y }
	if eq(a.MobileBidx, b.MobileBidx) {
		m.Reasons = append(m.Reasons, ReasonMobile)
	}
	if eq(a.PhoneBidx, b.PhoneBidx) || eq(a.MobileBidx, b.PhoneBidx) || eq(a.PhoneBidx, b.MobileBidx) {
		m.Reasons = append(m.Reasons, ReasonPhone)
	}
	if eq(a.IDNumberBidx, b.IDNumberBidx) {
		m.Reasons = append(m.Reasons, ReasonIDNumber)
	}
	if eq(a.Credit, b.Credit) {
		m.Reasons = append(m.Reasons, ReasonCreditCode)
	}
	ident := len(m.Reasons) > 0
	nameScore, nameReason := 0, ""
	if a.Kind == b.Kind && a.core != "" {
		if a.core == b.core {
			nameScore, nameReason = scoreNameEqual, ReasonName
		} else if j := jaccard(a.grams, b.grams); j >= minNameJaccard {
			nameScore, nameReason = scoreNameFloor+int((j-minNameJaccard)*50), ReasonNameSimilar
		}
	}
	sameAddr := eq(a.AddressBidx, b.AddressBidx)
	sameDistrict := a.District != "" && a.Province == b.Province && a.City == b.City && a.District == b.District
	if nameReason != "" {
		m.Reasons = append(m.Reasons, nameReason)
	}
	if sameAddr {
		m.Reasons = append(m.Reasons, ReasonAddress)
	} else if sameDistrict {
		m.Reasons = append(m.Reasons, ReasonDistrict)
	}
	switch {
	case ident:
		m.Score = scoreIdentifier
	case nameReason != "" && sameAddr:
		m.Score = min(nameScore+scoreSameAddr, scoreIdentifier-1)
	case nameReason != "" && sameDistrict && a.Kind == KindOrg:
		m.Score = nameScore
	default:
		return dupMatch{}, false
	}
	return m, true
}

// ScanResult counts what a duplicate scan did.
type ScanResult struct {
	Customers  int `json:"customers"`  // active customers looked at
	Candidates int `json:"candidates"` // pairs compared after blocking
	Pairs      int `json:"pairs"`      // likely pairs found (new or already known)
	New        int `json:"new"`        // pairs recorded for the first time
}

// pairKey is an ordered pair of customer ids (A < B).
type pairKey struct{ A, B int64 }

func orderedPair(a, b int64) pairKey {
	if a > b {
		a, b = b, a
	}
	return pairKey{a, b}
}

// ScanDuplicates looks for likely duplicate pairs among all active customers and
// records them for review (customer_dup_pairs), in batches, each in its own
// transaction. Dismissed and merged pairs stay as they are. Needs customer:merge.
func (s *Service) ScanDuplicates(ctx context.Context) (ScanResult, error) {
	if _, err := authz.Require(ctx, PermMerge); err != nil {
		return ScanResult{}, err
	}
	var res ScanResult
	nr := defaultNameRules()
	now := ms(s.now())
	pending := map[pairKey]dupMatch{}
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		keys := make([]pairKey, 0, len(pending))
		for k := range pending {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i].A < keys[j].A || keys[i].A == keys[j].A && keys[i].B < keys[j].B })
		err := s.db.WithTx(ctx, func(ctx context.Context) error {
			for _, k := range keys {
				m := pending[k]
				created, err := s.store.UpsertDupPair(ctx, k.A, k.B, toJSON(m.Reasons), m.Score, now)
				if err != nil {
					return err
				}
				if created {
					res.New++
				}
			}
			return nil
		})
		clear(pending)
		return err
	}
	add := func(a, b *dupFacts) error {
		res.Candidates++
		if m, ok := matchPair(a, b); ok {
			k := orderedPair(a.ID, b.ID)
			if _, seen := pending[k]; !seen {
				res.Pairs++
			}
			pending[k] = m
			if len(pending) >= pairFlushSize {
				return flush()
			}
		}
		return nil
	}

	// 1. Identifiers and whole addresses: indexed self-joins, one id range at a time.
	maxID, err := s.store.MaxCustomerID(ctx)
	if err != nil {
		return res, err
	}
	seen := map[pairKey]bool{}
	for lo := int64(0); lo < maxID; lo += scanIDRange {
		pairs, err := s.store.JoinCandidates(ctx, lo, lo+scanIDRange, maxJoinPairs)
		if err != nil {
			return res, err
		}
		if len(pairs) >= maxJoinPairs {
			s.log.Warn("customer: duplicate scan cut off a batch", "from_id", lo, "pairs", len(pairs))
		}
		ids := make([]int64, 0, 2*len(pairs))
		for _, p := range pairs {
			ids = append(ids, p.A, p.B)
		}
		facts, err := s.store.DupFacts(ctx, ids)
		if err != nil {
			return res, err
		}
		for _, f := range facts {
			f.prepare(nr)
		}
		for _, p := range pairs {
			k := orderedPair(p.A, p.B)
			a, b := facts[k.A], facts[k.B]
			if a == nil || b == nil || seen[k] {
				continue
			}
			seen[k] = true
			if err := add(a, b); err != nil {
				return res, err
			}
		}
		clear(seen)
	}
	if err := flush(); err != nil {
		return res, err
	}

	// 2. Similar organisation names: blocks of one district and one first character.
	places, err := s.store.OrgDistricts(ctx)
	if err != nil {
		return res, err
	}
	for _, pl := range places {
		facts, err := s.store.OrgFactsIn(ctx, pl)
		if err != nil {
			return res, err
		}
		blocks := map[rune][]*dupFacts{}
		for _, f := range facts {
			f.prepare(nr)
			if f.core == "" {
				continue
			}
			r, _ := utf8.DecodeRuneInString(f.core)
			blocks[r] = append(blocks[r], f)
		}
		for first, bl := range blocks {
			if len(bl) > maxBlock {
				s.log.Warn("customer: duplicate scan skipped a large name block", "district", pl.District,
					"first", string(first), "size", len(bl))
				continue
			}
			sort.Slice(bl, func(i, j int) bool { return len(bl[i].grams) < len(bl[j].grams) })
			for i := range bl {
				for j := i + 1; j < len(bl); j++ {
					// Jaccard <= |small| / |large|: stop when the sizes alone rule it out.
					if float64(len(bl[i].grams)) < minNameJaccard*float64(len(bl[j].grams)) {
						break
					}
					if bl[i].core != bl[j].core && jaccard(bl[i].grams, bl[j].grams) < minNameJaccard {
						continue
					}
					if err := add(bl[i], bl[j]); err != nil {
						return res, err
					}
				}
			}
		}
	}
	if err := flush(); err != nil {
		return res, err
	}
	if res.Customers, err = s.store.CountActive(ctx); err != nil {
		return res, err
	}
	if err := s.record(ctx, "customer.duplicate.scan", 0, res); err != nil {
		return res, err
	}
	return res, nil
}

// DupPair is a likely pair for review, both sides loaded (with personal data in clear:
// show them masked, DupPairView).
type DupPair struct {
	ID         int64
	Reasons    []string
	Score      int
	Status     string
	DetectedAt int64
	Left       Customer // the older file (a_id)
	Right      Customer
}

// DupPairView is the response form of a pair: both files masked.
type DupPairView struct {
	ID         int64    `json:"id"`
	Reasons    []string `json:"reasons"`
	Score      int      `json:"score"`
	Status     string   `json:"status"`
	DetectedAt string   `json:"detected_at"`
	Left       View     `json:"left"`
	Right      View     `json:"right"`
}

// View masks the pair, with classification reasons in ctx's language.
func (p DupPair) View(ctx context.Context) DupPairView {
	return DupPairView{ID: p.ID, Reasons: nonNil(p.Reasons), Score: p.Score, Status: p.Status,
		DetectedAt: fromMS(p.DetectedAt).UTC().Format("2006-01-02T15:04:05.000Z"), Left: p.Left.ViewIn(ctx, true), Right: p.Right.ViewIn(ctx, true)}
}

// scopeOf is the actor's customer:merge scope in store terms.
func mergeScope(a *authz.Actor) scope {
	return scope{Scope: a.ScopeOf(PermMerge), DeptID: a.DeptID, TeamID: a.TeamID, SelfID: a.ID}
}

// ListDuplicates pages through the open pairs whose two files are active and within
// the actor's customer:merge scope, newest first. The read is audited
// ("customer.duplicate.list" with the customer ids shown).
func (s *Service) ListDuplicates(ctx context.Context, limit int, cur string) (Page[DupPair], error) {
	actor, err := authz.Require(ctx, PermMerge)
	if err != nil {
		return Page[DupPair]{}, err
	}
	before, err := decodeCursor(cur)
	if err != nil {
		return Page[DupPair]{}, err
	}
	limit = pageLimit(limit)
	rows, err := s.store.OpenPairs(ctx, mergeScope(actor), before, limit+1)
	if err != nil {
		return Page[DupPair]{}, err
	}
	var out Page[DupPair]
	if len(rows) > limit {
		rows = rows[:limit]
		out.NextCursor = httpx.EncodeCursor(cursor{ID: rows[len(rows)-1].ID})
	}
	var ids []int64
	for _, p := range rows {
		ids = append(ids, p.A, p.B)
	}
	custs, err := s.store.CustomersByID(ctx, ids)
	if err != nil {
		return Page[DupPair]{}, err
	}
	loaded := map[int64]Customer{}
	for _, r := range custs {
		c, err := s.fromRow(r)
		if err != nil {
			return Page[DupPair]{}, err
		}
		loaded[r.ID] = c
	}
	for _, p := range rows {
		dp := DupPair{ID: p.ID, Score: p.Score, Status: p.Status, DetectedAt: p.DetectedAt, Left: loaded[p.A], Right: loaded[p.B]}
		_ = fromJSON(p.Reasons, &dp.Reasons)
		out.Items = append(out.Items, dp)
	}
	if err := s.record(ctx, "customer.duplicate.list", 0, map[string]any{"customer_ids": ids}); err != nil {
		return Page[DupPair]{}, err
	}
	return out, nil
}

// pairInScope loads a pair and checks that the actor's customer:merge scope reaches
// both files (else: not found).
func (s *Service) pairInScope(ctx context.Context, actor *authz.Actor, id int64) (dupPairRow, error) {
	p, err := s.store.DupPair(ctx, id)
	if err != nil {
		if db.IsNoRows(err) {
			return p, apperr.NotFoundf("thing.customer_dup_pair")
		}
		return p, err
	}
	for _, cid := range []int64{p.A, p.B} {
		r, err := s.store.Customer(ctx, cid)
		if err != nil {
			return p, notFound(err)
		}
		if !actor.Reaches(PermMerge, authz.Record{DeptID: r.DeptID, TeamID: r.TeamID, OwnerID: r.OwnerID}) {
			return p, apperr.NotFoundf("thing.customer_dup_pair")
		}
	}
	return p, nil
}

// DismissDuplicate marks a pair "not a duplicate": it is no longer listed and later
// scans leave it alone. Audited ("customer.duplicate.dismiss").
func (s *Service) DismissDuplicate(ctx context.Context, pairID int64) error {
	actor, err := authz.Require(ctx, PermMerge)
	if err != nil {
		return err
	}
	return s.db.WithTx(ctx, func(ctx context.Context) error {
		p, err := s.pairInScope(ctx, actor, pairID)
		if err != nil {
			return err
		}
		ok, err := s.store.ResolvePair(ctx, pairID, PairOpen, PairDismissed, staffID(actor), ms(s.now()))
		if err != nil {
			return err
		}
		if !ok {
			return apperr.New(apperr.Conflict, "customer_merge.error.pair_closed").WithCode("pair_closed")
		}
		return s.record(ctx, "customer.duplicate.dismiss", p.A, map[string]any{"pair_id": pairID, "a_id": p.A, "b_id": p.B})
	})
}

func staffID(a *authz.Actor) int64 {
	if a != nil && a.Kind == authz.KindStaff {
		return a.ID
	}
	return 0
}

// ======================= HTTP =======================

func (a api) listDuplicates(w http.ResponseWriter, r *http.Request) {
	limit, cur, err := httpx.ListParams(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	p, err := a.s.ListDuplicates(r.Context(), limit, cur)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	out := httpx.Page[DupPairView]{Items: make([]DupPairView, len(p.Items)), NextCursor: p.NextCursor}
	for i, dp := range p.Items {
		out.Items[i] = dp.View(r.Context())
	}
	httpx.JSON(w, http.StatusOK, out)
}

func (a api) scanDuplicates(w http.ResponseWriter, r *http.Request) {
	res, err := a.s.ScanDuplicates(r.Context())
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, res)
}

func (a api) dismissDuplicate(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err == nil {
		err = a.s.DismissDuplicate(r.Context(), id)
	}
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.NoContent(w)
}

// DupListPage is the model of /customers/duplicates.
type DupListPage struct {
	Rows    []DupRow
	NextURL string
	Message string
}

// DupRow is one pair, side by side (masked).
type DupRow struct {
	ID      int64
	Score   int
	Reasons []string
	Left    DupSide
	Right   DupSide
}

// DupSide is one file of a pair as the review page shows it.
type DupSide struct {
	ID         int64
	Name       string
	Kind       string
	Mobile     string
	Phone      string
	IDNumber   string
	CreditCode string
	Place      string
	Created    string
}

func dupSide(r *http.Request, c Customer) DupSide {
	v := c.View(true)
	return DupSide{ID: c.ID, Name: c.Name, Kind: label(r, "customer.kind.", c.Kind), Mobile: v.Mobile, Phone: v.Phone,
		IDNumber: v.IDNumber, CreditCode: v.CreditCode, Place: v.AddressDisplay, Created: c.CreatedAt.Format("2006-01-02")}
}

func (p pages) duplicates(w http.ResponseWriter, r *http.Request) {
	p.renderDuplicates(w, r, http.StatusOK, "")
}

func (p pages) renderDuplicates(w http.ResponseWriter, r *http.Request, status int, msg string) {
	list, err := p.s.ListDuplicates(r.Context(), httpx.DefaultLimit, r.URL.Query().Get("cursor"))
	if err != nil {
		p.fail(w, r, err)
		return
	}
	pg := DupListPage{Message: msg}
	for _, dp := range list.Items {
		row := DupRow{ID: dp.ID, Score: dp.Score, Left: dupSide(r, dp.Left), Right: dupSide(r, dp.Right)}
		for _, code := range dp.Reasons {
			row.Reasons = append(row.Reasons, tr(r, "customer_merge.reason."+code))
		}
		pg.Rows = append(pg.Rows, row)
	}
	if list.NextCursor != "" {
		pg.NextURL = "/customers/duplicates?" + url.Values{"cursor": {list.NextCursor}}.Encode()
	}
	web.Render(p.s.web, w, r, status, "customer/duplicates", "customer_merge.page.duplicates", pg)
}

func (p pages) scanDuplicates(w http.ResponseWriter, r *http.Request) {
	if _, err := p.s.ScanDuplicates(r.Context()); err != nil {
		p.fail(w, r, err)
		return
	}
	web.Redirect(w, r, "/customers/duplicates", "customer_merge.flash.scanned")
}

func (p pages) dismissDuplicate(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err == nil {
		err = p.s.DismissDuplicate(r.Context(), id)
	}
	if err != nil {
		p.fail(w, r, err)
		return
	}
	web.Redirect(w, r, "/customers/duplicates", "customer_merge.flash.dismissed")
}

// mergePair merges the two files of a pair from the review page: into=left keeps the
// left (older) file, into=right the right one.
func (p pages) mergePair(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := httpx.PathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, apperr.New(apperr.Malformed, "error.malformed", "detail", "form"))
		return
	}
	actor := authz.From(ctx)
	pair, err := p.s.pairInScope(ctx, actor, id)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	survivor, from := pair.A, pair.B
	switch r.PostFormValue("into") {
	case "left":
	case "right":
		survivor, from = pair.B, pair.A
	default:
		p.fail(w, r, apperr.New(apperr.Malformed, "error.malformed.param", "param", "into").OnField("into"))
		return
	}
	if _, err := p.s.Merge(ctx, survivor, from, r.PostFormValue("reason")); err != nil {
		if _, msg, ok := p.s.web.FieldErrors(ctx, err); ok {
			p.renderDuplicates(w, r, httpx.Status(apperr.KindOf(err)), fieldMessage(ctx, p.s, err, msg))
			return
		}
		p.fail(w, r, err)
		return
	}
	web.Redirect(w, r, "/customers/merges", "customer_merge.flash.merged")
}

// fieldMessage is msg followed by the first field error (for a one-line notice).
func fieldMessage(ctx context.Context, s *Service, err error, msg string) string {
	fe, _, _ := s.web.FieldErrors(ctx, err)
	keys := make([]string, 0, len(fe))
	for k := range fe {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		return fmt.Sprintf("%s %s: %s", msg, k, fe[k])
	}
	return msg
}
