package customer

// Merging duplicate customer files (SPEC §2.1: "a merge that keeps every linked record
// and is itself audited and reversible until purged").
//
// Merge(survivor, from) in one transaction:
//
//   - every row that references the merged file is re-pointed to the survivor: the
//     tables of LinkedTables (contacts, transactions, verifications, and whatever later
//     capabilities register with LinkTable, e.g. tickets);
//   - the survivor's empty fields are filled from the merged file (the fill rule):
//     a field group is copied when it is empty on the survivor and set on the merged
//     file; groups are copied whole so that related columns stay consistent: mobile,
//     phone, email, id_number, credit_code, address (province + city + district +
//     detail, only when the survivor has none of them), region, industry, source,
//     size_employees, annual_sales_fen, founded_on, relationship_since,
//     qualifications, service_region, credit_status, trading_terms,
//     cooperation_attitude, bank_account (bank name + account), notes, credit_facts
//     (when none is set on the survivor), owner (owner + department + team, when the
//     survivor has no owner) and territory. Tags are united (the survivor's first).
//     Name, kind, classification, verification and creation data are the survivor's.
//     Encrypted values are copied as stored (same column, same encryption context):
//     nothing is decrypted;
//   - the merged file becomes a tombstone: status "merged", merged_into = survivor,
//     merged_at; it keeps its data, leaves the search index and no longer counts for
//     duplicate refusal. GET /api/v1/customers/{id} still answers (200, status
//     "merged", merged_into) and the page redirects to the survivor;
//   - an open duplicate pair of the two becomes "merged";
//   - a snapshot goes into customer_merges (purge_after = now + 30 days): the merged
//     row and the survivor's row before the merge and the survivor's row after it, as
//     stored (encrypted values stay encrypted), the filled groups, the ids of every
//     re-pointed row per table and the pairs changed;
//   - audited "customer.merge"; the survivor is re-indexed.
//
// Undo(merge) within 30 days (409 after purge_after, once purged, or when undone
// already) restores exactly the snapshot's rows: the merged file's row as it was, the
// re-pointed rows back to it (rows that have left the survivor since are left alone),
// the pairs' statuses, and the survivor's filled groups. When the survivor has not
// changed since the merge its whole row (version included) is restored byte for byte;
// when it has, only the filled groups are put back and its version moves on. Records
// created on the survivor after the merge stay with the survivor. Undo is refused (409
// merge_conflict) when the conflict would lose data: a filled group was changed on the
// survivor after the merge, the survivor is no longer active, or the tombstone changed.
// Audited "customer.merge.undo".
//
// PurgeMerges (a daily job) empties snapshots after purge_after; the tombstone stays.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
	"github.com/kefu-cn/kefu/internal/platform/jobs"
	"github.com/kefu-cn/kefu/internal/platform/web"
)

// MergeUndoWindow is how long a merge can be undone (its snapshot is kept).
const MergeUndoWindow = 30 * 24 * time.Hour

// Job kinds of duplicate review (RegisterMergeJobs): a nightly scan and a daily purge
// of expired merge snapshots.
const (
	JobScanDuplicates = "customer.scan_duplicates"
	JobPurgeMerges    = "customer.purge_merges"
)

// LinkedTable is a table whose rows belong to a customer through Column. The table
// must have an integer primary key named id. A merge re-points its rows to the
// survivor; an undo puts the same rows back.
type LinkedTable struct {
	Table  string `json:"table"`
	Column string `json:"column"`
}

func (l LinkedTable) key() string { return l.Table + "." + l.Column }

// coreLinkedTables are the customer capability's own tables that reference customers
// (migration 00004). customer_dup_pairs and customer_merges are handled by the merge
// itself. A later capability whose table references customers (tickets.customer_id,
// complaints, visits, calls, consents ...) registers it at wiring time:
//
//	a.Customer.LinkTable("tickets", "customer_id")
//
// or, for tables of this package, adds it to this list.
var coreLinkedTables = []LinkedTable{
	{Table: "customer_contacts", Column: "customer_id"},
	{Table: "customer_transactions", Column: "customer_id"},
	{Table: "customer_verifications", Column: "customer_id"},
}

var identRe = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// LinkTable registers a table whose column references customers(id), so that merges
// re-point its rows. Call it at wiring time, before serving.
func (s *Service) LinkTable(table, column string) error {
	if !identRe.MatchString(table) || !identRe.MatchString(column) {
		return fmt.Errorf("customer: link table %q.%q: not a plain identifier", table, column)
	}
	l := LinkedTable{Table: table, Column: column}
	if slices.Contains(s.LinkedTables(), l) {
		return nil
	}
	s.links = append(s.links, l)
	return nil
}

// LinkedTables lists every table a merge re-points.
func (s *Service) LinkedTables() []LinkedTable {
	return append(slices.Clone(coreLinkedTables), s.links...)
}

// fillGroup is a group of customers columns that the merge copies together.
type fillGroup struct {
	name string
	cols func(r *custRow) []any // pointers: *string or *int64
}

var fillGroups = []fillGroup{
	{"mobile", func(r *custRow) []any { return []any{&r.MobileEnc, &r.MobileBidx, &r.MobileL4} }},
	{"phone", func(r *custRow) []any { return []any{&r.PhoneEnc, &r.PhoneBidx, &r.PhoneL4} }},
	{"email", func(r *custRow) []any { return []any{&r.Email} }},
	{"id_number", func(r *custRow) []any { return []any{&r.IDNumberEnc, &r.IDNumberBidx} }},
	{"credit_code", func(r *custRow) []any { return []any{&r.CreditCode} }},
	{"address", func(r *custRow) []any {
		return []any{&r.Province, &r.City, &r.District, &r.AddressEnc, &r.AddressBidx}
	}},
	{"region", func(r *custRow) []any { return []any{&r.Region} }},
	{"industry", func(r *custRow) []any { return []any{&r.Industry} }},
	{"source", func(r *custRow) []any { return []any{&r.Source} }},
	{"size_employees", func(r *custRow) []any { return []any{&r.SizeEmployees} }},
	{"annual_sales_fen", func(r *custRow) []any { return []any{&r.AnnualSalesFen} }},
	{"founded_on", func(r *custRow) []any { return []any{&r.FoundedOn} }},
	{"relationship_since", func(r *custRow) []any { return []any{&r.RelationshipSince} }},
	{"qualifications", func(r *custRow) []any { return []any{&r.Qualifications} }},
	{"service_region", func(r *custRow) []any { return []any{&r.ServiceRegion} }},
	{"credit_status", func(r *custRow) []any { return []any{&r.CreditStatus} }},
	{"trading_terms", func(r *custRow) []any { return []any{&r.TradingTerms} }},
	{"cooperation_attitude", func(r *custRow) []any { return []any{&r.CooperationAttitude} }},
	{"bank_account", func(r *custRow) []any { return []any{&r.BankName, &r.BankAccountEnc} }},
	{"notes", func(r *custRow) []any { return []any{&r.Notes} }},
	{"credit_facts", func(r *custRow) []any { return []any{&r.CreditFacts} }},
	{"owner", func(r *custRow) []any { return []any{&r.OwnerID, &r.DeptID, &r.TeamID} }},
	{"territory", func(r *custRow) []any { return []any{&r.TerritoryID} }},
	{"tags", func(r *custRow) []any { return []any{&r.Tags} }},
}

var zeroFactsJSON = toJSON(CreditFacts{})

func emptyCols(ptrs []any) bool {
	for _, p := range ptrs {
		switch v := p.(type) {
		case *string:
			if *v != "" && *v != "[]" && *v != "null" && *v != zeroFactsJSON {
				return false
			}
		case *int64:
			if *v != 0 {
				return false
			}
		}
	}
	return true
}

func colValues(ptrs []any) []any {
	out := make([]any, len(ptrs))
	for i, p := range ptrs {
		switch v := p.(type) {
		case *string:
			out[i] = *v
		case *int64:
			out[i] = *v
		}
	}
	return out
}

// clearValues are the values of g's columns of r with encrypted columns decrypted (an
// update re-encrypts a row with fresh nonces: compare what the ciphertexts say).
func (s *Service) clearValues(r *custRow, g fillGroup) ([]any, error) {
	aad := map[*string]string{&r.MobileEnc: aadMobile, &r.PhoneEnc: aadPhone, &r.IDNumberEnc: aadIDNumber,
		&r.AddressEnc: aadAddress, &r.BankAccountEnc: aadBankAccount}
	ptrs := g.cols(r)
	vals := colValues(ptrs)
	for i, p := range ptrs {
		if sp, ok := p.(*string); ok {
			if a, enc := aad[sp]; enc {
				v, err := s.prot.dec(*sp, a)
				if err != nil {
					return nil, err
				}
				vals[i] = v
			}
		}
	}
	return vals, nil
}

func copyCols(dst, src []any) {
	for i := range dst {
		switch d := dst[i].(type) {
		case *string:
			*d = *src[i].(*string)
		case *int64:
			*d = *src[i].(*int64)
		}
	}
}

func groupByName(name string) (fillGroup, bool) {
	for _, g := range fillGroups {
		if g.name == name {
			return g, true
		}
	}
	return fillGroup{}, false
}

// fillFrom fills the survivor row sv from the merged row md by the fill rule and names
// the groups it filled.
func fillFrom(sv *custRow, md *custRow) []string {
	var filled []string
	for _, g := range fillGroups {
		if g.name == "tags" {
			var st, mt []string
			_ = fromJSON(sv.Tags, &st)
			_ = fromJSON(md.Tags, &mt)
			union := slices.Clone(st)
			for _, t := range mt {
				if !slices.Contains(union, t) && len(union) < maxTags {
					union = append(union, t)
				}
			}
			if len(union) > len(st) {
				sv.Tags = toJSON(union)
				filled = append(filled, g.name)
			}
			continue
		}
		dst, src := g.cols(sv), g.cols(md)
		if emptyCols(dst) && !emptyCols(src) {
			copyCols(dst, src)
			filled = append(filled, g.name)
		}
	}
	return filled
}

// mergeSnapshot is what an undo needs, as stored in customer_merges.snapshot.
type mergeSnapshot struct {
	Format        int                `json:"format"`
	Survivor      custRow            `json:"survivor"`       // the survivor's row before the merge
	SurvivorAfter custRow            `json:"survivor_after"` // ... and right after it
	Merged        custRow            `json:"merged"`         // the merged row before the merge
	MergedVersion int64              `json:"merged_version"` // the tombstone's version after the merge
	Filled        []string           `json:"filled"`
	Moved         map[string][]int64 `json:"moved"` // "table.column" -> ids re-pointed
	Pairs         []dupPairRow       `json:"pairs"` // pairs as they were before the merge
}

// MergeInfo describes a merge.
type MergeInfo struct {
	ID           int64          `json:"id"`
	SurvivorID   int64          `json:"survivor_id"`
	MergedID     int64          `json:"merged_id"`
	SurvivorName string         `json:"survivor_name,omitempty"`
	MergedName   string         `json:"merged_name,omitempty"`
	Reason       string         `json:"reason"`
	MergedBy     int64          `json:"merged_by"`
	MergedAt     time.Time      `json:"merged_at"`
	UndoneBy     int64          `json:"undone_by"`
	UndoneAt     *time.Time     `json:"undone_at"`
	PurgeAfter   time.Time      `json:"purge_after"`
	PurgedAt     *time.Time     `json:"purged_at"`
	Filled       []string       `json:"filled"`
	Moved        map[string]int `json:"moved"`
	Undoable     bool           `json:"undoable"`
}

func (s *Service) mergeInfo(m mergeRow, snap *mergeSnapshot) MergeInfo {
	now := ms(s.now())
	mi := MergeInfo{ID: m.ID, SurvivorID: m.SurvivorID, MergedID: m.MergedID, SurvivorName: m.SurvivorName,
		MergedName: m.MergedName, Reason: m.Reason, MergedBy: m.MergedBy, MergedAt: fromMS(m.MergedAt), UndoneBy: m.UndoneBy,
		UndoneAt: timePtr(fromMS(m.UndoneAt)), PurgeAfter: fromMS(m.PurgeAfter), PurgedAt: timePtr(fromMS(m.PurgedAt)),
		Filled: []string{}, Moved: map[string]int{}, Undoable: m.UndoneAt == 0 && m.PurgedAt == 0 && now < m.PurgeAfter}
	if snap != nil {
		mi.Filled = nonNil(snap.Filled)
		for k, ids := range snap.Moved {
			mi.Moved[k] = len(ids)
		}
	}
	return mi
}

func mergeConflict(key, code string) *apperr.Error {
	return apperr.New(apperr.Conflict, key).WithCode(code)
}

// Merge merges customer from into survivor (see the comment at the top of merge.go).
// Both must be active, of the same kind, and within the actor's customer:merge scope
// (else not found); reason is required. Audited "customer.merge".
func (s *Service) Merge(ctx context.Context, survivorID, fromID int64, reason string) (MergeInfo, error) {
	actor, err := authz.Require(ctx, PermMerge)
	if err != nil {
		return MergeInfo{}, err
	}
	f := apperr.Fields{}
	reason = text(f, "reason", reason, maxReason, true, true)
	if fromID <= 0 {
		f.Add("from", "field.required")
	} else if fromID == survivorID {
		f.Add("from", "customer_merge.error.same")
	}
	if err := f.Err(); err != nil {
		return MergeInfo{}, err
	}
	var out MergeInfo
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		var rows [2]custRow
		for i, id := range []int64{survivorID, fromID} {
			r, err := s.store.Customer(ctx, id)
			if err != nil {
				return notFound(err)
			}
			if !actor.Reaches(PermMerge, authz.Record{DeptID: r.DeptID, TeamID: r.TeamID, OwnerID: r.OwnerID}) {
				return apperr.NotFoundf("thing.customer")
			}
			rows[i] = r
		}
		sv, md := rows[0], rows[1]
		if sv.Status != StatusActive || md.Status != StatusActive {
			return mergeConflict("customer_merge.error.not_active", "customer_not_active")
		}
		if sv.Kind != md.Kind {
			return apperr.InvalidField("from", "customer_merge.error.kind")
		}
		now := ms(s.now())
		after := sv
		filled := fillFrom(&after, &md)
		after.Ver, after.UpdatedAt = sv.Ver+1, now
		tomb := md
		tomb.Status, tomb.MergedInto, tomb.MergedAt, tomb.Ver, tomb.UpdatedAt = StatusMerged, sv.ID, now, md.Ver+1, now
		snap := mergeSnapshot{Format: 1, Survivor: sv, Merged: md, MergedVersion: tomb.Ver, Filled: filled,
			Moved: map[string][]int64{}}
		for _, l := range s.LinkedTables() {
			ids, err := s.store.LinkedIDs(ctx, l, md.ID)
			if err != nil {
				return err
			}
			if len(ids) == 0 {
				continue
			}
			if err := s.store.Repoint(ctx, l, md.ID, sv.ID); err != nil {
				return err
			}
			snap.Moved[l.key()] = ids
		}
		// The survivor now has the merged file's transactions and maybe more facts.
		if err := s.reclassifyRow(ctx, &after); err != nil {
			return err
		}
		for _, w := range []struct {
			r   *custRow
			old int64
		}{{&after, sv.Ver}, {&tomb, md.Ver}} {
			ok, err := s.store.UpdateCustomer(ctx, w.r, w.old)
			if err != nil {
				return err
			}
			if !ok {
				return apperr.StaleVersion(0)
			}
		}
		snap.SurvivorAfter = after
		if p, err := s.store.PairOf(ctx, sv.ID, md.ID); err == nil {
			if p.Status == PairOpen {
				if _, err := s.store.ResolvePair(ctx, p.ID, PairOpen, PairMerged, staffID(actor), now); err != nil {
					return err
				}
				snap.Pairs = append(snap.Pairs, p)
			}
		} else if !db.IsNoRows(err) {
			return fmt.Errorf("customer: merge pair: %w", err)
		}
		m := mergeRow{SurvivorID: sv.ID, MergedID: md.ID, Snapshot: toJSON(snap), Reason: reason, MergedBy: staffID(actor),
			MergedAt: now, PurgeAfter: now + MergeUndoWindow.Milliseconds(), SurvivorName: sv.Name, MergedName: md.Name}
		if m.ID, err = s.store.InsertMerge(ctx, &m); err != nil {
			return err
		}
		if err := s.index.Delete(ctx, md.ID); err != nil {
			return fmt.Errorf("customer: index: %w", err)
		}
		if err := s.reindexRow(ctx, after); err != nil {
			return err
		}
		out = s.mergeInfo(m, &snap)
		return s.record(ctx, "customer.merge", sv.ID, map[string]any{"merge_id": m.ID, "merged_id": md.ID,
			"reason": reason, "filled": nonNil(filled), "moved": out.Moved})
	})
	return out, err
}

// reclassifyRow re-evaluates the classification of r (its transactions as they are in
// ctx's transaction) and sets the result columns on r when they changed.
func (s *Service) reclassifyRow(ctx context.Context, r *custRow) error {
	c, err := s.fromRow(*r)
	if err != nil {
		return err
	}
	changed, err := s.reclassify(ctx, &c)
	if err != nil || !changed {
		return err
	}
	nr, err := s.toRow(&c)
	if err != nil {
		return err
	}
	r.Tier, r.TierReasons, r.ValueClass, r.ValueReasons = nr.Tier, nr.TierReasons, nr.ValueClass, nr.ValueReasons
	r.CreditGrade, r.CreditReasons, r.ClassifiedAt = nr.CreditGrade, nr.CreditReasons, nr.ClassifiedAt
	return nil
}

// reindexRow puts a stored customer (with its contacts' names) into the search index.
func (s *Service) reindexRow(ctx context.Context, r custRow) error {
	c, err := s.fromRow(r)
	if err != nil {
		return err
	}
	crows, err := s.store.Contacts(ctx, r.ID)
	if err != nil {
		return err
	}
	contacts := make([]Contact, len(crows))
	for i, cr := range crows {
		contacts[i] = Contact{ID: cr.ID, CustomerID: cr.CustomerID, Name: cr.Name, Title: cr.Title, Email: cr.Email}
	}
	return s.reindex(ctx, &c, contacts)
}

// mergeInScope loads a merge and checks that the actor's customer:merge scope reaches
// both of its files (else: not found).
func (s *Service) mergeInScope(ctx context.Context, actor *authz.Actor, id int64) (mergeRow, custRow, custRow, error) {
	var sv, md custRow
	m, err := s.store.Merge(ctx, id)
	if err != nil {
		if db.IsNoRows(err) {
			return m, sv, md, apperr.NotFoundf("thing.customer_merge")
		}
		return m, sv, md, err
	}
	for _, p := range []struct {
		id  int64
		dst *custRow
	}{{m.SurvivorID, &sv}, {m.MergedID, &md}} {
		r, err := s.store.Customer(ctx, p.id)
		if err != nil {
			return m, sv, md, notFound(err)
		}
		if !actor.Reaches(PermMerge, authz.Record{DeptID: r.DeptID, TeamID: r.TeamID, OwnerID: r.OwnerID}) {
			return m, sv, md, apperr.NotFoundf("thing.customer_merge")
		}
		*p.dst = r
	}
	m.SurvivorName, m.MergedName = sv.Name, md.Name
	return m, sv, md, nil
}

func parseLinkKey(k string) (LinkedTable, error) {
	t, c, ok := strings.Cut(k, ".")
	if !ok || !identRe.MatchString(t) || !identRe.MatchString(c) {
		return LinkedTable{}, fmt.Errorf("customer: merge snapshot: bad table %q", k)
	}
	return LinkedTable{Table: t, Column: c}, nil
}

// UndoMerge reverses a merge (see the comment at the top of merge.go). Audited
// "customer.merge.undo".
func (s *Service) UndoMerge(ctx context.Context, mergeID int64) (MergeInfo, error) {
	actor, err := authz.Require(ctx, PermMerge)
	if err != nil {
		return MergeInfo{}, err
	}
	var out MergeInfo
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		m, sv, md, err := s.mergeInScope(ctx, actor, mergeID)
		if err != nil {
			return err
		}
		now := ms(s.now())
		switch {
		case m.UndoneAt != 0:
			return mergeConflict("customer_merge.error.undone", "merge_undone")
		case m.PurgedAt != 0 || now >= m.PurgeAfter:
			return mergeConflict("customer_merge.error.expired", "merge_expired")
		}
		var snap mergeSnapshot
		if err := json.Unmarshal([]byte(m.Snapshot), &snap); err != nil || snap.Format != 1 {
			return errors.Join(fmt.Errorf("customer: merge %d: unreadable snapshot", m.ID), err)
		}
		if md.Status != StatusMerged || md.MergedInto != sv.ID || md.Ver != snap.MergedVersion || sv.Status != StatusActive {
			return mergeConflict("customer_merge.error.conflict", "merge_conflict")
		}
		var changed []string
		for _, name := range snap.Filled {
			g, ok := groupByName(name)
			if !ok {
				return fmt.Errorf("customer: merge %d: unknown group %q", m.ID, name)
			}
			now, err := s.clearValues(&sv, g)
			if err != nil {
				return err
			}
			then, err := s.clearValues(&snap.SurvivorAfter, g)
			if err != nil {
				return err
			}
			if !slices.Equal(now, then) {
				changed = append(changed, name)
			}
		}
		if len(changed) > 0 {
			e := mergeConflict("customer_merge.error.conflict", "merge_conflict")
			for _, name := range changed {
				e = e.WithField(name, "customer_merge.error.changed_since")
			}
			return e
		}
		back := map[string]int{}
		for k, ids := range snap.Moved {
			l, err := parseLinkKey(k)
			if err != nil {
				return err
			}
			n, err := s.store.RepointIDs(ctx, l, ids, sv.ID, md.ID)
			if err != nil {
				return err
			}
			back[k] = n
		}
		restored := snap.Survivor
		if sv.Ver != snap.SurvivorAfter.Ver {
			// Changed since the merge: put back the filled groups only, keep the rest,
			// and re-classify over the transactions it keeps.
			restored = sv
			for _, name := range snap.Filled {
				g, _ := groupByName(name)
				copyCols(g.cols(&restored), g.cols(&snap.Survivor))
			}
			restored.Ver, restored.UpdatedAt = sv.Ver+1, now
			if err := s.reclassifyRow(ctx, &restored); err != nil {
				return err
			}
		}
		for _, w := range []struct {
			r   *custRow
			old int64
		}{{&restored, sv.Ver}, {&snap.Merged, md.Ver}} {
			ok, err := s.store.UpdateCustomer(ctx, w.r, w.old)
			if err != nil {
				return err
			}
			if !ok {
				return apperr.StaleVersion(0)
			}
		}
		for _, p := range snap.Pairs {
			if err := s.store.RestorePair(ctx, p); err != nil {
				return err
			}
		}
		ok, err := s.store.MarkUndone(ctx, m.ID, staffID(actor), now)
		if err != nil {
			return err
		}
		if !ok {
			return mergeConflict("customer_merge.error.undone", "merge_undone")
		}
		m.UndoneBy, m.UndoneAt = staffID(actor), now
		if err := s.reindexRow(ctx, restored); err != nil {
			return err
		}
		if err := s.reindexRow(ctx, snap.Merged); err != nil {
			return err
		}
		out = s.mergeInfo(m, &snap)
		return s.record(ctx, "customer.merge.undo", sv.ID, map[string]any{"merge_id": m.ID, "merged_id": md.ID,
			"restored": back, "filled": nonNil(snap.Filled)})
	})
	return out, err
}

// ListMerges pages through the merges whose two files are within the actor's
// customer:merge scope, newest first. Audited ("customer.merge.list").
func (s *Service) ListMerges(ctx context.Context, limit int, cur string) (Page[MergeInfo], error) {
	actor, err := authz.Require(ctx, PermMerge)
	if err != nil {
		return Page[MergeInfo]{}, err
	}
	before, err := decodeCursor(cur)
	if err != nil {
		return Page[MergeInfo]{}, err
	}
	limit = pageLimit(limit)
	rows, err := s.store.ListMerges(ctx, mergeScope(actor), before, limit+1)
	if err != nil {
		return Page[MergeInfo]{}, err
	}
	var out Page[MergeInfo]
	if len(rows) > limit {
		rows = rows[:limit]
		out.NextCursor = httpx.EncodeCursor(cursor{ID: rows[len(rows)-1].ID})
	}
	var ids []int64
	for _, m := range rows {
		out.Items = append(out.Items, s.mergeInfo(m, nil))
		ids = append(ids, m.SurvivorID, m.MergedID)
	}
	if err := s.record(ctx, "customer.merge.list", 0, map[string]any{"customer_ids": nonNil(ids)}); err != nil {
		return Page[MergeInfo]{}, err
	}
	return out, nil
}

// PurgeMerges empties the snapshots of merges whose undo window has passed (the
// tombstones stay) and returns how many. Needs customer:merge (the system actor of a
// job has it). Audited ("customer.merge.purge") when it purged any.
func (s *Service) PurgeMerges(ctx context.Context) (int, error) {
	if _, err := authz.Require(ctx, PermMerge); err != nil {
		return 0, err
	}
	total := 0
	for {
		var n int
		err := s.db.WithTx(ctx, func(ctx context.Context) error {
			var err error
			n, err = s.store.PurgeMerges(ctx, ms(s.now()))
			return err
		})
		if err != nil {
			return total, err
		}
		total += n
		if n == 0 {
			break
		}
	}
	if total > 0 {
		if err := s.record(ctx, "customer.merge.purge", 0, map[string]any{"purged": total}); err != nil {
			return total, err
		}
	}
	return total, nil
}

// RegisterMergeJobs registers the duplicate-review jobs with the runner: the scan
// (JobScanDuplicates) daily at 03:00 China time and the purge of expired merge
// snapshots (JobPurgeMerges) daily at 03:30. Call it at wiring time, before Run.
func (s *Service) RegisterMergeJobs(r *jobs.Runner) {
	r.Register(JobScanDuplicates, s.ScanDuplicatesJob)
	r.Every(JobScanDuplicates, jobs.Daily(3, 0, s.zoneCN))
	r.Register(JobPurgeMerges, s.PurgeMergesJob)
	r.Every(JobPurgeMerges, jobs.Daily(3, 30, s.zoneCN))
}

// ScanDuplicatesJob is the jobs handler of JobScanDuplicates (nightly).
func (s *Service) ScanDuplicatesJob(ctx context.Context, _ jobs.Job) error {
	res, err := s.ScanDuplicates(ctx)
	if err == nil {
		s.log.Info("customer: duplicate scan", "customers", res.Customers, "pairs", res.Pairs, "new", res.New)
	}
	return err
}

// PurgeMergesJob is the jobs handler of JobPurgeMerges (daily).
func (s *Service) PurgeMergesJob(ctx context.Context, _ jobs.Job) error {
	_, err := s.PurgeMerges(ctx)
	return err
}

// ======================= HTTP =======================

// mergeRequest is POST /api/v1/customers/{id}/merge.
type mergeRequest struct {
	From   int64  `json:"from"`
	Reason string `json:"reason"`
}

// mergeResponse answers a merge: the merge and the survivor (masked).
type mergeResponse struct {
	Merge    MergeInfo `json:"merge"`
	Survivor View      `json:"survivor"`
}

func (a api) merge(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	var req mergeRequest
	if err := httpx.Decode(r, &req); err != nil {
		httpx.Error(w, r, err)
		return
	}
	mi, err := a.s.Merge(r.Context(), id, req.From, req.Reason)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	c, err := a.s.load(r.Context(), PermMerge, id)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, mergeResponse{Merge: mi, Survivor: c.ViewIn(r.Context(), true)})
}

func (a api) listMerges(w http.ResponseWriter, r *http.Request) {
	limit, cur, err := httpx.ListParams(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	p, err := a.s.ListMerges(r.Context(), limit, cur)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, httpx.Page[MergeInfo]{Items: nonNil(p.Items), NextCursor: p.NextCursor})
}

func (a api) undoMerge(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	mi, err := a.s.UndoMerge(r.Context(), id)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, mi)
}

// MergesPage is the model of /customers/merges.
type MergesPage struct {
	Rows    []MergeRow
	NextURL string
	Message string
}

// MergeRow is one merge on the page.
type MergeRow struct {
	MergeInfo
	MergedAtText   string
	PurgeAfterText string
	State          string
}

func (p pages) merges(w http.ResponseWriter, r *http.Request) {
	p.renderMerges(w, r, http.StatusOK, "")
}

func (p pages) renderMerges(w http.ResponseWriter, r *http.Request, status int, msg string) {
	list, err := p.s.ListMerges(r.Context(), httpx.DefaultLimit, r.URL.Query().Get("cursor"))
	if err != nil {
		p.fail(w, r, err)
		return
	}
	pg := MergesPage{Message: msg}
	for _, mi := range list.Items {
		state := "customer_merge.state.active"
		switch {
		case mi.UndoneAt != nil:
			state = "customer_merge.state.undone"
		case mi.PurgedAt != nil || !mi.Undoable:
			state = "customer_merge.state.final"
		}
		pg.Rows = append(pg.Rows, MergeRow{MergeInfo: mi, MergedAtText: mi.MergedAt.In(p.s.zoneCN).Format("2006-01-02 15:04"),
			PurgeAfterText: mi.PurgeAfter.In(p.s.zoneCN).Format("2006-01-02"), State: tr(r, state)})
	}
	if list.NextCursor != "" {
		pg.NextURL = "/customers/merges?" + url.Values{"cursor": {list.NextCursor}}.Encode()
	}
	web.Render(p.s.web, w, r, status, "customer/merges", "customer_merge.page.merges", pg)
}

func (p pages) undoMerge(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if _, err := p.s.UndoMerge(r.Context(), id); err != nil {
		if apperr.KindOf(err) == apperr.Conflict {
			msg := httpx.CatalogFrom(r.Context()).Msg(i18n.Lang(r.Context()), apperrMsg(err))
			p.renderMerges(w, r, http.StatusConflict, msg)
			return
		}
		p.fail(w, r, err)
		return
	}
	web.Redirect(w, r, "/customers/merges", "customer_merge.flash.undone")
}

func apperrMsg(err error) i18n.Msg {
	if ae, ok := apperr.As(err); ok {
		return ae.Msg
	}
	return i18n.M("error.internal")
}
