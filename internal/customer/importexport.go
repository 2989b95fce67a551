package customer

// Import and export of customer files (SPEC §2.1, issue item 8) as .xlsx and .csv with
// Chinese headers, through internal/platform/tabular.
//
// Import reads the file twice. The first pass validates every row with the rules of
// CreateCustomer (apply, placement, scope) and checks duplicates within the file (by
// normalized value) and against the database (by blind index, in batches of
// importBatch rows); it keeps only the duplicate maps and the problems, never the rows,
// so memory stays bounded whatever the file's size. If the first pass finds no problem
// and the run is not a dry run, the second pass reads the file again inside ONE write
// transaction, validates each batch again (the database may have changed meanwhile),
// and inserts it with a statement prepared once for the transaction, indexing each
// batch for search. Any problem in the second pass rolls everything back: an import is
// all or nothing. Each run is recorded in customer_imports (with its problems, from
// which the .xlsx report is rendered in the reader's language) and audited once as
// "customer.import" with its counts, never per row.
//
// Export streams the customers the actor's customer:export scope reaches, in keyset
// batches, masked unless the actor holds customer:export_clear (and did not ask for a
// masked file); each export is audited as "customer.export" with its count and whether
// it was clear.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
	"github.com/kefu-cn/kefu/internal/platform/search"
	"github.com/kefu-cn/kefu/internal/platform/tabular"
	"github.com/kefu-cn/kefu/internal/platform/web"
)

// Limits of imports.
const (
	// MaxImportBytes is the largest file an import accepts (the upload routes' body limit).
	MaxImportBytes = 64 << 20
	// maxImportErrors bounds the problems kept per run (response, report, record).
	maxImportErrors = 10_000
	// importBatch is the number of rows validated against the database, inserted and
	// indexed together.
	importBatch = 500
	// exportBatch is the number of customers read per keyset step of an export.
	exportBatch = 500
)

// Statuses of a customer_imports row.
const (
	importDone    = "done"
	importChecked = "checked" // dry run without problems
	importFailed  = "failed"
)

// ioCol is one column of the customer spreadsheet. Its header is the catalog key
// "customer.col.<key>"; optional keys "customer.col.<key>.aliases" (alternative headers
// separated by "|", in every language) and "customer.col.<key>.example" (template).
type ioCol struct {
	key        string
	required   bool
	exportOnly bool // written by exports, accepted and ignored by imports
	width      float64
}

// ioColumns is the column table in file order.
var ioColumns = []ioCol{
	{key: "id", exportOnly: true, width: 10},
	{key: "kind", required: true, width: 8},
	{key: "name", required: true, width: 30},
	{key: "mobile", width: 14},
	{key: "phone", width: 16},
	{key: "email", width: 24},
	{key: "id_number", width: 22},
	{key: "credit_code", width: 22},
	{key: "province", width: 10},
	{key: "city", width: 10},
	{key: "district", width: 12},
	{key: "address", width: 30},
	{key: "industry", width: 14},
	{key: "owner", width: 12},
	{key: "tags", width: 20},
	{key: "notes", width: 30},
	{key: "relationship_since", width: 14},
	{key: "region"},
	{key: "source"},
	{key: "tier"},
	{key: "value_class"},
	{key: "credit_grade"},
	{key: "size_employees"},
	{key: "annual_sales", width: 16},
	{key: "founded_on"},
	{key: "qualifications", width: 20},
	{key: "service_region"},
	{key: "credit_status", width: 20},
	{key: "trading_terms", width: 20},
	{key: "cooperation_attitude"},
	{key: "bank_name", width: 16},
	{key: "bank_account", width: 22},
	{key: "created_at", exportOnly: true, width: 18},
}

// fieldColumn maps a validation field (apply's names) to its column key.
func fieldColumn(field string) string {
	switch field {
	case "annual_sales_fen":
		return "annual_sales"
	case "owner_id":
		return "owner"
	}
	return field
}

func colHeaderKey(key string) string { return "customer.col." + key }

// tabularColumns describes the columns for tabular (header matching, templates).
// Export-only columns are left out of templates.
func tabularColumns(cat *i18n.Catalog, template bool) []tabular.Column {
	out := make([]tabular.Column, 0, len(ioColumns))
	for _, c := range ioColumns {
		if template && c.exportOnly {
			continue
		}
		tc := tabular.Column{Key: c.key, Header: colHeaderKey(c.key), Required: c.required, Width: c.width}
		if k := colHeaderKey(c.key) + ".aliases"; cat.Has(k) {
			for _, lang := range i18n.Languages {
				for _, a := range strings.Split(cat.T(lang, k, nil), "|") {
					if a = strings.TrimSpace(a); a != "" && !slices.Contains(tc.Aliases, a) {
						tc.Aliases = append(tc.Aliases, a)
					}
				}
			}
		}
		if k := colHeaderKey(c.key) + ".example"; cat.Has(k) {
			tc.Example = k
		}
		out = append(out, tc)
	}
	return out
}

// choices maps the labels of a choice field, in every language, to its codes: the
// codes themselves, "<prefix><code>" of each prefix.
type choices map[string]string

func newChoices(cat *i18n.Catalog, codes []string, prefixes ...string) choices {
	m := choices{}
	for _, code := range codes {
		m[tabular.NormalizeHeader(code)] = code
		for _, p := range prefixes {
			for _, lang := range i18n.Languages {
				if l := cat.T(lang, p+code, nil); l != p+code {
					m[tabular.NormalizeHeader(l)] = code
				}
			}
		}
	}
	return m
}

// code returns the code of a label; an unknown label is returned as is (validation
// then refuses it as an invalid choice).
func (c choices) code(v string) string {
	if v == "" {
		return ""
	}
	if code, ok := c[tabular.NormalizeHeader(v)]; ok {
		return code
	}
	return v
}

// ImportOptions tune an import.
type ImportOptions struct {
	// DryRun validates every row and writes no customer.
	DryRun bool
	// FileName is recorded with the run (default "upload.<format>").
	FileName string
}

// ImportResult is the outcome of an import.
type ImportResult struct {
	// ID is the customer_imports record of the run (its report).
	ID int64
	// Rows is the number of data rows read; Created the customers written (0 on a dry
	// run or when any row failed); Failed the rows with at least one problem.
	Rows    int
	Created int
	Failed  int
	DryRun  bool
	// Errors are the problems (row, column header, message), at most maxImportErrors
	// of them plus one line counting the rest.
	Errors []tabular.RowError
}

// OK reports whether every row passed.
func (r ImportResult) OK() bool { return len(r.Errors) == 0 }

// ownerInfo is a resolved owner username (or the problem with it).
type ownerInfo struct {
	id, dept, team int64
	problem        *i18n.Msg
}

// importer holds the state of one import run.
type importer struct {
	s      *Service
	actor  *authz.Actor
	cat    *i18n.Catalog
	today  time.Time
	now    time.Time
	header []string
	m      tabular.Mapping

	kinds, tiers, values, attitudes choices
	owners                          map[string]ownerInfo

	// Within-file duplicates: normalized value -> first row number.
	phones, idNumbers, creditCodes map[string]int32

	errs      []tabular.RowError
	dropped   int
	rows      int
	failed    int
	rowFailed bool
}

// pendingRow is a validated row waiting for its batch's database checks.
type pendingRow struct {
	number int
	c      Customer
	row    custRow
}

func (im *importer) columnText(key string) string {
	if i, ok := im.m.ByKey[key]; ok && i < len(im.header) {
		return im.header[i]
	}
	return im.cat.T(i18n.ZhCN, colHeaderKey(key), nil)
}

// fail records a problem of the current row.
func (im *importer) fail(row int, key string, msg i18n.Msg) {
	im.rowFailed = true
	if len(im.errs) >= maxImportErrors {
		im.dropped++
		return
	}
	col := ""
	if key != "" {
		col = im.columnText(key)
	}
	im.errs = append(im.errs, tabular.RowError{Row: row, Column: col, Msg: msg})
}

func (im *importer) errors() []tabular.RowError {
	out := im.errs
	if im.dropped > 0 {
		out = append(slices.Clip(out), tabular.RowError{Msg: i18n.M("customer.io.too_many_errors", "count", im.dropped)})
	}
	return out
}

// parseInt reads a whole number cell ("12", "12.0", "1,200").
func parseInt(v string) (int64, bool) {
	v = strings.ReplaceAll(strings.ReplaceAll(v, ",", ""), "\uff0c", "")
	if v == "" {
		return 0, true
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return n, n >= 0
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 && f == float64(int64(f)) && f < 1<<53 {
		return int64(f), true
	}
	return 0, false
}

// parseYuan reads an amount in yuan with at most two decimals into fen.
func parseYuan(v string) (int64, bool) {
	v = strings.NewReplacer(",", "", "\uff0c", "", "\u00a5", "", "\uffe5", "", " ", "").Replace(v)
	if v == "" {
		return 0, true
	}
	whole, frac, _ := strings.Cut(v, ".")
	if whole == "" || len(frac) > 2 || strings.Trim(whole, "0123456789") != "" || strings.Trim(frac, "0123456789") != "" ||
		len(whole) > 15 {
		return 0, false
	}
	for len(frac) < 2 {
		frac += "0"
	}
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	return n, err == nil
}

// formatYuan writes fen as yuan ("1234.5" -> "1234.50"; whole amounts without decimals).
func formatYuan(fen int64) string {
	if fen%100 == 0 {
		return strconv.FormatInt(fen/100, 10)
	}
	return fmt.Sprintf("%d.%02d", fen/100, fen%100)
}

// owner resolves an owner username (cached per run).
func (im *importer) owner(ctx context.Context, username string) (ownerInfo, error) {
	key := strings.ToLower(username)
	if o, ok := im.owners[key]; ok {
		return o, nil
	}
	unknown := i18n.M("customer.io.owner_unknown", "username", username)
	o := ownerInfo{problem: &unknown}
	finder, ok := im.s.staff.(interface {
		FindLogin(ctx context.Context, username string) (int64, bool, error)
	})
	if ok {
		id, active, err := finder.FindLogin(ctx, key)
		switch {
		case err == nil && active:
			a, err := im.s.staff.LoadActor(ctx, id)
			if err == nil {
				o = ownerInfo{id: a.ID, dept: a.DeptID, team: a.TeamID}
			} else if k := apperr.KindOf(err); k != apperr.NotFound && k != apperr.Forbidden {
				return o, fmt.Errorf("customer: import: load owner: %w", err)
			}
		case err != nil && apperr.KindOf(err) != apperr.NotFound:
			return o, fmt.Errorf("customer: import: find owner: %w", err)
		}
	}
	im.owners[key] = o
	return o, nil
}

// validate turns one row into a customer ready to store, recording its problems.
// It reports false when the row failed.
func (im *importer) validate(ctx context.Context, r tabular.Row, p *pendingRow) (bool, error) {
	get := func(key string) string { return im.m.Get(r, key) }
	im.rowFailed = false
	f := apperr.Fields{}
	in := Input{Kind: im.kinds.code(get("kind")), Name: get("name"), Mobile: get("mobile"), Phone: get("phone"),
		Email: get("email"), IDNumber: get("id_number"), CreditCode: get("credit_code"), Province: get("province"),
		City: get("city"), District: get("district"), Address: get("address"), Region: get("region"),
		Industry: get("industry"), Source: get("source"), Tier: im.tiers.code(get("tier")),
		ValueClass: im.values.code(get("value_class")), CreditGrade: get("credit_grade"), FoundedOn: get("founded_on"),
		RelationshipSince: get("relationship_since"), ServiceRegion: get("service_region"),
		CreditStatus: get("credit_status"), TradingTerms: get("trading_terms"),
		CooperationAttitude: im.attitudes.code(get("cooperation_attitude")), BankName: get("bank_name"),
		BankAccount: get("bank_account"), Notes: get("notes")}
	if v := get("tags"); v != "" {
		in.Tags = SplitList(v)
	}
	if v := get("qualifications"); v != "" {
		in.Qualifications = SplitList(v)
	}
	var ok bool
	if in.SizeEmployees, ok = parseInt(get("size_employees")); !ok {
		f.Add("size_employees", "customer.io.invalid_integer")
	}
	if in.AnnualSalesFen, ok = parseYuan(get("annual_sales")); !ok {
		f.Add("annual_sales_fen", "customer.io.invalid_money")
	}
	c := Customer{Status: StatusActive, Version: 1, CreatedAt: im.now, UpdatedAt: im.now}
	if im.actor.Kind == authz.KindStaff {
		c.CreatedBy = im.actor.ID
	}
	apply(&c, in.patch(), im.today, f)
	// The owner: a username in the file, else the importing staff member.
	if name := get("owner"); name != "" {
		o, err := im.owner(ctx, name)
		if err != nil {
			return false, err
		}
		if o.problem != nil {
			if _, dup := f["owner_id"]; !dup {
				f["owner_id"] = *o.problem
			}
		} else {
			c.OwnerID, c.DeptID, c.TeamID = o.id, o.dept, o.team
		}
	} else if im.actor.Kind == authz.KindStaff {
		c.OwnerID, c.DeptID, c.TeamID = im.actor.ID, im.actor.DeptID, im.actor.TeamID
	}
	if _, bad := f["owner_id"]; !bad && !im.actor.Reaches(PermImport, c.Record()) {
		// An owner outside the importer's reach reads as no such staff member (existence
		// is not told apart from scope); without a username it is the importer's own
		// placement that is out of reach.
		if name := get("owner"); name != "" {
			f["owner_id"] = i18n.M("customer.io.owner_unknown", "username", name)
		} else {
			f.Add("owner_id", "customer.io.owner_scope")
		}
	}
	for _, col := range ioColumns { // report in column order
		field := col.key
		switch col.key {
		case "annual_sales":
			field = "annual_sales_fen"
		case "owner":
			field = "owner_id"
		}
		if msg, bad := f[field]; bad {
			im.fail(r.Number, col.key, msg)
		}
	}
	for field, msg := range f { // anything not tied to a column (none today)
		if !slices.ContainsFunc(ioColumns, func(c ioCol) bool { return c.key == fieldColumn(field) }) {
			im.fail(r.Number, "", msg)
		}
	}
	// Duplicates within the file: only for values that are valid.
	seen := func(m map[string]int32, key, col string) {
		if key == "" {
			return
		}
		if _, bad := f[col]; bad {
			return
		}
		if first, dup := m[key]; dup {
			im.fail(r.Number, fieldColumn(col), i18n.M("customer.io.dup_in_file", "row", int(first)))
			return
		}
		m[key] = int32(r.Number)
	}
	if c.Mobile != "" {
		seen(im.phones, phoneKey(c.Mobile), "mobile")
	}
	if c.Phone != "" && (c.Mobile == "" || phoneKey(c.Phone) != phoneKey(c.Mobile)) {
		seen(im.phones, phoneKey(c.Phone), "phone")
	}
	seen(im.idNumbers, c.IDNumber, "id_number")
	seen(im.creditCodes, c.CreditCode, "credit_code")
	if im.rowFailed {
		return false, nil
	}
	// The same derived data as a single create: territory by address and the
	// classification (pure computation: an imported customer has no transactions yet).
	if err := im.s.assignTerritory(ctx, &c); err != nil {
		return false, err
	}
	if err := im.s.classifyNew(ctx, &c); err != nil {
		return false, err
	}
	row, err := im.s.toRow(&c)
	if err != nil {
		return false, err
	}
	*p = pendingRow{number: r.Number, c: c, row: row}
	return true, nil
}

// checkExisting refuses the rows of a batch whose identifying values an active
// customer has already. It reports whether the whole batch passed.
func (im *importer) checkExisting(ctx context.Context, batch []pendingRow) (bool, error) {
	var probe existingProbe
	for _, p := range batch {
		for _, b := range []string{p.row.MobileBidx, p.row.PhoneBidx} {
			if b != "" {
				probe.phones = append(probe.phones, b)
			}
		}
		if p.row.IDNumberBidx != "" {
			probe.idNumbers = append(probe.idNumbers, p.row.IDNumberBidx)
		}
		if p.row.CreditCode != "" {
			probe.creditCodes = append(probe.creditCodes, p.row.CreditCode)
		}
	}
	hits, err := im.s.store.existingIdentifiers(ctx, probe)
	if err != nil {
		return false, err
	}
	if hits.empty() {
		return true, nil
	}
	ok := true
	for _, p := range batch {
		im.rowFailed = false
		check := func(m map[string]int64, v, col string) {
			if id, dup := m[v]; v != "" && dup {
				im.fail(p.number, col, i18n.M("customer.io.dup_existing", "id", id))
			}
		}
		check(hits.phones, p.row.MobileBidx, "mobile")
		if p.row.PhoneBidx != p.row.MobileBidx {
			check(hits.phones, p.row.PhoneBidx, "phone")
		}
		check(hits.idNumbers, p.row.IDNumberBidx, "id_number")
		check(hits.creditCodes, p.row.CreditCode, "credit_code")
		if im.rowFailed {
			im.failed++
			ok = false
		}
	}
	return ok, nil
}

// headerProblems turns header mapping errors into report lines on the header row.
func (im *importer) headerProblems(headerRow int, err error) error {
	e, ok := apperr.As(err)
	if !ok || e.Kind != apperr.Invalid {
		return err
	}
	switch {
	case e.Code == "missing_columns":
		keys := make([]string, 0, len(e.Fields))
		for k := range e.Fields {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b string) int {
			return slices.IndexFunc(ioColumns, func(c ioCol) bool { return c.key == a }) -
				slices.IndexFunc(ioColumns, func(c ioCol) bool { return c.key == b })
		})
		for _, k := range keys {
			im.fail(headerRow, k, i18n.M("customer.io.column_missing"))
		}
	case e.Code == "duplicate_column":
		col, _ := e.Extra["column"].(string)
		im.errs = append(im.errs, tabular.RowError{Row: headerRow, Column: col, Msg: i18n.M("customer.io.column_duplicate")})
	default:
		im.errs = append(im.errs, tabular.RowError{Row: headerRow, Msg: e.Msg})
	}
	return nil
}

// open starts reading the file and maps its header; header problems are recorded.
func (im *importer) open(r io.ReaderAt, size int64, format tabular.Format) (*tabular.Reader, bool, error) {
	rd, err := tabular.NewReader(r, size, format, tabular.Options{})
	if err != nil {
		return nil, false, err
	}
	im.header = rd.Header()
	const headerRow = 1 // blank lines above the header are rare; the reader does not say
	m, err := tabular.MapHeader(im.header, tabularColumns(im.cat, false), im.cat, i18n.ZhCN)
	if err != nil {
		_ = rd.Close()
		if err := im.headerProblems(headerRow, err); err != nil {
			return nil, false, err
		}
		return nil, false, nil
	}
	im.m = m
	for _, u := range m.Unknown {
		im.errs = append(im.errs, tabular.RowError{Row: headerRow, Column: u, Msg: i18n.M("customer.io.column_unknown")})
	}
	if len(m.Unknown) > 0 {
		_ = rd.Close()
		return nil, false, nil
	}
	return rd, true, nil
}

// pass reads every row; onBatch gets each batch of rows that passed validation.
func (im *importer) pass(ctx context.Context, rd *tabular.Reader, onBatch func([]pendingRow) error) error {
	batch := make([]pendingRow, 0, importBatch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := onBatch(batch)
		clear(batch)
		batch = batch[:0]
		return err
	}
	for {
		r, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		im.rows++
		var p pendingRow
		ok, err := im.validate(ctx, r, &p)
		if err != nil {
			return err
		}
		if !ok {
			im.failed++
			continue
		}
		batch = append(batch, p)
		if len(batch) == importBatch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

func (s *Service) newImporter(ctx context.Context, actor *authz.Actor) *importer {
	cat := httpx.CatalogFrom(ctx)
	return &importer{s: s, actor: actor, cat: cat, today: s.today(), now: s.now(),
		kinds:     newChoices(cat, Kinds, "customer.kind.", "customer.io.kind."),
		tiers:     newChoices(cat, Tiers, "customer.tier."),
		values:    newChoices(cat, ValueClasses, "customer.value."),
		attitudes: newChoices(cat, Attitudes, "customer.attitude."),
		owners:    map[string]ownerInfo{}, phones: map[string]int32{}, idNumbers: map[string]int32{},
		creditCodes: map[string]int32{}}
}

// errRollback aborts the write transaction of an import whose second pass found a
// problem (the result carries the problems).
var errRollback = errors.New("customer: import: rows failed")

// ImportCustomers validates every row of a customer spreadsheet and, unless
// opts.DryRun or any row fails, creates all of them in one transaction. Problems
// with the file itself (not a spreadsheet, too large, too many rows) are returned as
// errors; problems with the header or the rows are returned in the result. Needs
// customer:import; each owner must lie within the actor's customer:import scope.
func (s *Service) ImportCustomers(ctx context.Context, r io.ReaderAt, size int64, format tabular.Format, opts ImportOptions) (ImportResult, error) {
	actor, err := authz.Require(ctx, PermImport)
	if err != nil {
		return ImportResult{}, err
	}
	if size > MaxImportBytes {
		return ImportResult{}, apperr.New(apperr.TooLarge, tabular.KeyFileTooLarge, "max", MaxImportBytes).WithCode("file_too_large")
	}
	if opts.FileName == "" {
		opts.FileName = "upload." + format.String()
	}
	res := ImportResult{DryRun: opts.DryRun}
	// check is the first pass: validate every row, write nothing.
	check := func(ctx context.Context) (*importer, error) {
		im := s.newImporter(ctx, actor)
		rd, ok, err := im.open(r, size, format)
		if err != nil || !ok {
			return im, err
		}
		defer rd.Close()
		return im, im.pass(ctx, rd, func(b []pendingRow) error {
			_, err := im.checkExisting(ctx, b)
			return err
		})
	}
	failed := func(im *importer) error { // record a run that wrote no customer
		res.Rows, res.Failed, res.Errors, res.Created = im.rows, im.failed, im.errors(), 0
		status := importChecked
		if !res.OK() {
			status = importFailed
		}
		return s.db.WithTx(ctx, func(ctx context.Context) error {
			return s.recordImport(ctx, actor, &res, opts, format, status)
		})
	}
	if opts.DryRun { // no write transaction: other writers go on meanwhile
		im, err := check(ctx)
		if err != nil {
			return ImportResult{}, err
		}
		return res, failed(im)
	}
	// A real import runs both passes in ONE write transaction: what the first pass
	// checked against the database still holds when the second writes (on SQLite no
	// other write can interleave; on PostgreSQL the window is the same as for
	// CreateCustomer's check-then-insert), so the second pass does not query again.
	var first *importer
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		im, err := check(ctx)
		first = im
		if err != nil {
			return err
		}
		if len(im.errs) > 0 || im.failed > 0 {
			return errRollback
		}
		im2 := s.newImporter(ctx, actor)
		first = im2
		rd, ok, err := im2.open(r, size, format)
		if err != nil {
			return err
		}
		if !ok {
			return errRollback
		}
		defer rd.Close()
		ins, err := s.store.newBulkInserter(ctx)
		if err != nil {
			return err
		}
		defer ins.close()
		created := 0
		err = im2.pass(ctx, rd, func(b []pendingRow) error {
			if im2.failed > 0 {
				return nil // the file changed under us: finish the report, write nothing
			}
			docs := make([]search.Doc, len(b))
			for i := range b {
				id, err := ins.insert(ctx, &b[i].row)
				if err != nil {
					return err
				}
				b[i].c.ID = id
				docs[i] = search.Doc{ID: id, Text: searchText(&b[i].c, nil)}
			}
			created += len(b)
			if err := s.index.Put(ctx, docs...); err != nil {
				return fmt.Errorf("customer: import: index: %w", err)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if im2.failed > 0 || len(im2.errs) > 0 {
			return errRollback
		}
		res.Rows, res.Created = im2.rows, created
		return s.recordImport(ctx, actor, &res, opts, format, importDone)
	})
	if errors.Is(err, errRollback) {
		if len(first.errs) == 0 && first.dropped == 0 { // cannot happen: a rollback always has a reason
			first.errs = []tabular.RowError{{Msg: i18n.M("error.internal")}}
		}
		return res, failed(first)
	}
	if err != nil {
		return ImportResult{}, err
	}
	return res, nil
}

// storedError is a problem as kept in customer_imports.report.
type storedError struct {
	Row    int            `json:"row,omitempty"`
	Column string         `json:"column,omitempty"`
	Key    string         `json:"key"`
	Args   map[string]any `json:"args,omitempty"`
}

func (s *Service) recordImport(ctx context.Context, actor *authz.Actor, res *ImportResult, opts ImportOptions,
	format tabular.Format, status string) error {
	report := make([]storedError, len(res.Errors))
	for i, e := range res.Errors {
		report[i] = storedError{Row: e.Row, Column: e.Column, Key: e.Msg.Key, Args: e.Msg.Args}
	}
	var by int64
	if actor.Kind == authz.KindStaff {
		by = actor.ID
	}
	now := ms(s.now())
	rec := importRecord{FileName: trimName(opts.FileName), Format: format.String(), DryRun: opts.DryRun, Status: status,
		Rows: res.Rows, OK: res.Rows - res.Failed, Failed: res.Failed, Report: toJSON(report), CreatedBy: by,
		CreatedAt: now, FinishedAt: now}
	if status == importDone {
		rec.OK = res.Created
	}
	id, err := s.store.insertImport(ctx, &rec)
	if err != nil {
		return err
	}
	res.ID = id
	return s.record(ctx, "customer.import", 0, map[string]any{"import_id": id, "file": rec.FileName,
		"format": rec.Format, "dry_run": opts.DryRun, "status": status, "rows": res.Rows, "created": res.Created,
		"failed": res.Failed})
}

func trimName(n string) string {
	n = strings.TrimSpace(n)
	if i := strings.LastIndexAny(n, `/\`); i >= 0 {
		n = n[i+1:]
	}
	if r := []rune(n); len(r) > 200 {
		n = string(r[:200])
	}
	if badText(n, false) {
		return "upload"
	}
	return n
}

// ImportReport writes the problems of an import run as an .xlsx report in lang. The
// run must be the actor's own, or the actor's customer:import scope must be "all".
func (s *Service) ImportReport(ctx context.Context, id int64, w io.Writer, lang string) error {
	actor, err := authz.Require(ctx, PermImport)
	if err != nil {
		return err
	}
	rec, err := s.store.importByID(ctx, id)
	if err != nil {
		if isNoRows(err) {
			return apperr.NotFoundf("thing.customer_import")
		}
		return err
	}
	if actor.ScopeOf(PermImport) != authz.ScopeAll && (actor.Kind != authz.KindStaff || rec.CreatedBy != actor.ID) {
		return apperr.NotFoundf("thing.customer_import")
	}
	errs, err := decodeReport(rec.Report)
	if err != nil {
		return err
	}
	return tabular.WriteErrorReport(w, lang, errs, httpx.CatalogFrom(ctx))
}

func decodeReport(s string) ([]tabular.RowError, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber() // ids stay integers, not 1.2e+07
	var stored []storedError
	if err := dec.Decode(&stored); err != nil {
		return nil, fmt.Errorf("customer: import report: %w", err)
	}
	out := make([]tabular.RowError, len(stored))
	for i, e := range stored {
		out[i] = tabular.RowError{Row: e.Row, Column: e.Column, Msg: i18n.Msg{Key: e.Key, Args: e.Args}}
	}
	return out, nil
}

// WriteImportTemplate writes an empty import file (headers in lang, one example row).
func (s *Service) WriteImportTemplate(ctx context.Context, w io.Writer, format tabular.Format, lang string) error {
	if _, err := authz.Require(ctx, PermImport); err != nil {
		return err
	}
	cat := httpx.CatalogFrom(ctx)
	return tabular.WriteTemplate(w, format, tabularColumns(cat, true), cat, lang)
}

// ======================= export =======================

// ExportOptions tune an export.
type ExportOptions struct {
	// Masked asks for a masked file even when the actor may export clear values.
	Masked bool
	// Lang is the language of the headers and labels (default zh-CN).
	Lang string
}

// ExportResult says what an export wrote.
type ExportResult struct {
	Count int
	Clear bool
}

// ExportCustomers writes every customer the actor's customer:export scope reaches and
// f selects (newest first) as a spreadsheet. Personal data is masked unless the actor
// holds customer:export_clear and opts.Masked is false. Audited ("customer.export").
func (s *Service) ExportCustomers(ctx context.Context, w io.Writer, format tabular.Format, f Filter, opts ExportOptions) (ExportResult, error) {
	actor, err := authz.Require(ctx, PermExport)
	if err != nil {
		return ExportResult{}, err
	}
	if err := checkFilter(&f); err != nil {
		return ExportResult{}, err
	}
	lang := opts.Lang
	if lang == "" {
		lang = i18n.ZhCN
	}
	res := ExportResult{Clear: actor.Can(PermExportClear) && !opts.Masked}
	cat := httpx.CatalogFrom(ctx)
	wr, err := tabular.NewWriter(w, format, cat.T(lang, "customer.io.sheet", nil))
	if err != nil {
		return res, err
	}
	werr := s.writeExport(ctx, wr, actor, f, lang, cat, &res)
	if werr != nil {
		_ = wr.Close()
	} else {
		werr = wr.Close()
	}
	detail := map[string]any{"count": res.Count, "clear": res.Clear, "format": format.String(), "complete": werr == nil}
	if fd := filterDetail(f); len(fd) > 0 {
		detail["filter"] = fd
	}
	if err := s.record(ctx, "customer.export", 0, detail); err != nil {
		return res, errors.Join(werr, err)
	}
	return res, werr
}

func filterDetail(f Filter) map[string]any {
	m := map[string]any{}
	add := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	add("q", auditQuery(f.Q))
	add("kind", f.Kind)
	add("status", f.Status)
	add("tier", f.Tier)
	add("value_class", f.ValueClass)
	add("credit_grade", f.CreditGrade)
	add("province", f.Province)
	add("city", f.City)
	add("district", f.District)
	add("industry", f.Industry)
	add("tag", f.Tag)
	for k, v := range map[string]int64{"owner_id": f.OwnerID, "dept_id": f.DeptID, "team_id": f.TeamID, "territory_id": f.TerritoryID} {
		if v != 0 {
			m[k] = v
		}
	}
	return m
}

func (s *Service) writeExport(ctx context.Context, wr *tabular.Writer, actor *authz.Actor, f Filter, lang string,
	cat *i18n.Catalog, res *ExportResult) error {
	cols := tabularColumns(cat, false)
	header := make([]string, len(cols))
	widths := make([]float64, len(cols))
	for i, c := range cols {
		header[i] = cat.T(lang, c.Header, nil)
		widths[i] = c.Width
	}
	if err := wr.SetColumnWidths(widths); err != nil {
		return err
	}
	if err := wr.WriteHeader(header); err != nil {
		return err
	}
	label := func(prefix, v string) string {
		if v == "" {
			return ""
		}
		return cat.T(lang, prefix+v, nil)
	}
	owners := map[int64]string{}
	ownerName := func(id int64) string {
		if id == 0 || s.staff == nil {
			return ""
		}
		if n, ok := owners[id]; ok {
			return n
		}
		n := ""
		if a, err := s.staff.LoadActor(ctx, id); err == nil {
			n = a.Username
		}
		owners[id] = n
		return n
	}
	q := listQuery{f: f, sc: scope{Scope: actor.ScopeOf(PermExport), DeptID: actor.DeptID, TeamID: actor.TeamID,
		SelfID: actor.ID}}
	row := make([]any, len(ioColumns))
	for {
		var rows []custRow
		var next int64
		var err error
		if f.Q == "" {
			q.limit = exportBatch + 1
			rows, err = s.store.ListCustomers(ctx, q)
		} else {
			rows, next, err = s.search(ctx, q, exportBatch)
		}
		if err != nil {
			return err
		}
		if len(rows) > exportBatch {
			rows = rows[:exportBatch]
			next = rows[exportBatch-1].ID
		}
		for _, r := range rows {
			c, err := s.fromRow(r)
			if err != nil {
				return err
			}
			v := c.View(!res.Clear)
			for i, col := range ioColumns {
				var val any
				switch col.key {
				case "id":
					val = c.ID
				case "kind":
					val = label("customer.io.kind.", c.Kind)
				case "name":
					val = c.Name
				case "mobile":
					val = v.Mobile
				case "phone":
					val = v.Phone
				case "email":
					val = c.Email
				case "id_number":
					val = v.IDNumber
				case "credit_code":
					val = c.CreditCode
				case "province":
					val = c.Province
				case "city":
					val = c.City
				case "district":
					val = c.District
				case "address":
					val = v.Address
				case "industry":
					val = c.Industry
				case "owner":
					val = ownerName(c.OwnerID)
				case "tags":
					val = strings.Join(c.Tags, ",")
				case "notes":
					val = c.Notes
				case "relationship_since":
					val = c.RelationshipSince
				case "region":
					val = c.Region
				case "source":
					val = c.Source
				case "tier":
					val = label("customer.tier.", c.Tier)
				case "value_class":
					val = label("customer.value.", c.ValueClass)
				case "credit_grade":
					val = c.CreditGrade
				case "size_employees":
					if c.SizeEmployees != 0 {
						val = c.SizeEmployees
					}
				case "annual_sales":
					if c.AnnualSalesFen != 0 {
						val = formatYuan(c.AnnualSalesFen)
					}
				case "founded_on":
					val = c.FoundedOn
				case "qualifications":
					val = strings.Join(c.Qualifications, ",")
				case "service_region":
					val = c.ServiceRegion
				case "credit_status":
					val = c.CreditStatus
				case "trading_terms":
					val = c.TradingTerms
				case "cooperation_attitude":
					val = label("customer.attitude.", c.CooperationAttitude)
				case "bank_name":
					val = c.BankName
				case "bank_account":
					val = v.BankAccount
				case "created_at":
					val = c.CreatedAt.In(s.zoneCN).Format("2006-01-02 15:04:05")
				}
				if sv, ok := val.(string); ok && sv == "" {
					val = nil
				}
				row[i] = val
			}
			if err := wr.WriteRow(row); err != nil {
				return err
			}
			res.Count++
		}
		if next == 0 {
			return nil
		}
		q.before = next
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// exportFileName is the attachment name of an export made at t.
func exportFileName(t time.Time, format tabular.Format) string {
	return "customers-" + t.Format("20060102-150405") + "." + format.String()
}

// ImportErrorsText renders problems for a terminal or log in lang, one per line.
func ImportErrorsText(cat *i18n.Catalog, lang string, errs []tabular.RowError) string {
	var b bytes.Buffer
	for _, e := range errs {
		msg := e.Message
		if msg == "" {
			msg = cat.Msg(lang, e.Msg)
		}
		switch {
		case e.Row > 0 && e.Column != "":
			fmt.Fprintf(&b, "%s %d, %s: %s\n", cat.T(lang, "customer.io.col.row", nil), e.Row, e.Column, msg)
		case e.Row > 0:
			fmt.Fprintf(&b, "%s %d: %s\n", cat.T(lang, "customer.io.col.row", nil), e.Row, msg)
		default:
			fmt.Fprintf(&b, "%s\n", msg)
		}
	}
	return b.String()
}

// ======================= HTTP =======================

// uploadedFile returns the uploaded spreadsheet of an import request: the multipart
// form field "file", or the raw body named by ?filename=. done releases it.
func uploadedFile(r *http.Request) (f io.ReaderAt, size int64, name string, done func(), err error) {
	done = func() {}
	tooLarge := func(err error) error {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return apperr.New(apperr.TooLarge, tabular.KeyFileTooLarge, "max", mb.Limit).WithCode("file_too_large")
		}
		return apperr.New(apperr.Malformed, "customer.io.no_file").WithCode("no_file").WithCause(err)
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "multipart/form-data" {
		if err := r.ParseMultipartForm(8 << 20); err != nil {
			return nil, 0, "", done, tooLarge(err)
		}
		var fhs []*multipart.FileHeader
		if r.MultipartForm != nil {
			fhs = r.MultipartForm.File["file"]
		}
		if len(fhs) == 0 || fhs[0].Size == 0 {
			_ = r.MultipartForm.RemoveAll()
			return nil, 0, "", done, apperr.New(apperr.Malformed, "customer.io.no_file").WithCode("no_file").OnField("file")
		}
		mf, err := fhs[0].Open()
		if err != nil {
			_ = r.MultipartForm.RemoveAll()
			return nil, 0, "", done, fmt.Errorf("customer: open upload: %w", err)
		}
		return mf, fhs[0].Size, fhs[0].Filename, func() { _ = mf.Close(); _ = r.MultipartForm.RemoveAll() }, nil
	}
	name = r.URL.Query().Get("filename")
	if name == "" {
		return nil, 0, "", done, apperr.New(apperr.Malformed, "customer.io.no_file").WithCode("no_file").OnField("filename")
	}
	tmp, err := os.CreateTemp("", "kefu-import-*")
	if err != nil {
		return nil, 0, "", done, fmt.Errorf("customer: spool upload: %w", err)
	}
	done = func() { _ = tmp.Close(); _ = os.Remove(tmp.Name()) }
	n, err := io.Copy(tmp, r.Body)
	if err != nil {
		done()
		return nil, 0, "", func() {}, tooLarge(err)
	}
	if n == 0 {
		done()
		return nil, 0, "", func() {}, apperr.New(apperr.Malformed, "customer.io.no_file").WithCode("no_file")
	}
	return tmp, n, name, done, nil
}

func boolParam(v string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "0", "false", "no", "off":
		return false, true
	case "1", "true", "yes", "on":
		return true, true
	}
	return false, false
}

// formatParam reads ?format= (xlsx by default).
func formatParam(r *http.Request) (tabular.Format, error) {
	switch strings.ToLower(r.URL.Query().Get("format")) {
	case "", "xlsx":
		return tabular.XLSX, nil
	case "csv":
		return tabular.CSV, nil
	}
	return 0, apperr.New(apperr.Malformed, "customer.io.bad_format").WithCode("unsupported_format").OnField("format")
}

// runUpload runs an import of the request's file.
func (s *Service) runUpload(r *http.Request, dryRun bool) (ImportResult, error) {
	f, size, name, done, err := uploadedFile(r)
	if err != nil {
		return ImportResult{}, err
	}
	defer done()
	format, err := tabular.FormatOf(name)
	if err != nil {
		return ImportResult{}, err
	}
	return s.ImportCustomers(r.Context(), f, size, format, ImportOptions{DryRun: dryRun, FileName: name})
}

// importErrorJSON is one problem in the import response.
type importErrorJSON struct {
	Row     int    `json:"row"`
	Column  string `json:"column"`
	Message string `json:"message"`
}

// importResponse is the answer of POST /api/v1/customers/import. When rows failed it
// comes with status 422 and also carries the standard error member.
type importResponse struct {
	ImportID  int64             `json:"import_id"`
	Rows      int               `json:"rows"`
	Created   int               `json:"created"`
	Failed    int               `json:"failed"`
	DryRun    bool              `json:"dry_run"`
	Errors    []importErrorJSON `json:"errors"`
	ReportURL string            `json:"report_url,omitempty"`
	Error     *importErrorBody  `json:"error,omitempty"`
}

type importErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func importReportURL(id int64) string { return "/api/v1/customers/import/" + itoa(id) + "/report" }

func (a api) importCustomers(w http.ResponseWriter, r *http.Request) {
	dry, ok := boolParam(r.URL.Query().Get("dry_run"))
	if !ok {
		httpx.Error(w, r, apperr.New(apperr.Malformed, "error.malformed.param", "param", "dry_run").OnField("dry_run"))
		return
	}
	res, err := a.s.runUpload(r, dry)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	cat, lang := httpx.CatalogFrom(r.Context()), i18n.Lang(r.Context())
	out := importResponse{ImportID: res.ID, Rows: res.Rows, Created: res.Created, Failed: res.Failed, DryRun: res.DryRun,
		Errors: make([]importErrorJSON, len(res.Errors))}
	for i, e := range res.Errors {
		out.Errors[i] = importErrorJSON{Row: e.Row, Column: e.Column, Message: cat.Msg(lang, e.Msg)}
	}
	status := http.StatusOK
	if !res.OK() {
		status = http.StatusUnprocessableEntity
		out.ReportURL = importReportURL(res.ID)
		out.Error = &importErrorBody{Code: "import_rows_invalid",
			Message: cat.T(lang, "customer.io.failed", map[string]any{"failed": res.Failed, "rows": res.Rows})}
	}
	httpx.JSON(w, status, out)
}

// sendFile writes a generated file as an attachment.
func sendFile(w http.ResponseWriter, contentType, name string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

func (a api) importReport(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	var buf bytes.Buffer
	if err := a.s.ImportReport(r.Context(), id, &buf, i18n.Lang(r.Context())); err != nil {
		httpx.Error(w, r, err)
		return
	}
	sendFile(w, tabular.XLSX.ContentType(), "import-"+itoa(id)+"-errors.xlsx", buf.Bytes())
}

func (a api) importTemplate(w http.ResponseWriter, r *http.Request) {
	format, err := formatParam(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	var buf bytes.Buffer
	if err := a.s.WriteImportTemplate(r.Context(), &buf, format, i18n.Lang(r.Context())); err != nil {
		httpx.Error(w, r, err)
		return
	}
	sendFile(w, format.ContentType(), "customers-template."+format.String(), buf.Bytes())
}

// lazyAttachment sets the attachment headers on the first write, so that an error
// found before anything was written can still be answered as an error.
type lazyAttachment struct {
	w       http.ResponseWriter
	ct      string
	name    string
	started bool
}

func (l *lazyAttachment) Write(p []byte) (int, error) {
	if !l.started {
		l.started = true
		h := l.w.Header()
		h.Set("Content-Type", l.ct)
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": l.name}))
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		l.w.WriteHeader(http.StatusOK)
	}
	return l.w.Write(p)
}

func (a api) exportCustomers(w http.ResponseWriter, r *http.Request) {
	format, err := formatParam(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	f, err := filterFrom(r)
	if err == nil {
		check := f
		err = checkFilter(&check)
	}
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	masked, ok := boolParam(r.URL.Query().Get("masked"))
	if !ok {
		httpx.Error(w, r, apperr.New(apperr.Malformed, "error.malformed.param", "param", "masked").OnField("masked"))
		return
	}
	out := &lazyAttachment{w: w, ct: format.ContentType(), name: exportFileName(a.s.now().In(a.s.zoneCN), format)}
	_, err = a.s.ExportCustomers(r.Context(), out, format, f, ExportOptions{Masked: masked, Lang: i18n.Lang(r.Context())})
	if err != nil {
		if !out.started {
			httpx.Error(w, r, err)
			return
		}
		httpx.Logger(r.Context()).Warn("customer export interrupted", "err", err.Error())
	}
}

// ImportPage is the model of /customers/import.
type ImportPage struct {
	Done      bool
	OK        bool
	DryRun    bool
	Summary   string
	Problems  []importErrorJSON
	Shown     string
	ReportURL string
	Message   string
}

// maxShownProblems is how many problems the import page lists (the report has all).
const maxShownProblems = 200

func (p pages) importForm(w http.ResponseWriter, r *http.Request) {
	web.Render(p.s.web, w, r, http.StatusOK, "customer/import", "page.customer_import.title", ImportPage{DryRun: true})
}

func (p pages) importUpload(w http.ResponseWriter, r *http.Request) {
	dry := r.PostFormValue("dry_run") != ""
	res, err := p.s.runUpload(r, dry)
	pg := ImportPage{DryRun: dry}
	if err != nil {
		k := apperr.KindOf(err)
		if k != apperr.Malformed && k != apperr.Invalid && k != apperr.TooLarge {
			p.fail(w, r, err)
			return
		}
		e, _ := apperr.As(err)
		pg.Message = tr(r, e.Msg.Key, kvArgs(e.Msg.Args)...)
		web.Render(p.s.web, w, r, httpx.Status(k), "customer/import", "page.customer_import.title", pg)
		return
	}
	pg.Done, pg.OK = true, res.OK()
	status := http.StatusOK
	switch {
	case !res.OK():
		status = http.StatusUnprocessableEntity
		pg.Summary = tr(r, "customer.io.result.failed", "failed", res.Failed, "rows", res.Rows)
		pg.ReportURL = importReportURL(res.ID)
	case res.DryRun:
		pg.Summary = tr(r, "customer.io.result.dry_ok", "rows", res.Rows)
	default:
		pg.Summary = tr(r, "customer.io.result.created", "created", res.Created, "rows", res.Rows)
	}
	cat, lang := httpx.CatalogFrom(r.Context()), i18n.Lang(r.Context())
	for i, e := range res.Errors {
		if i == maxShownProblems {
			pg.Shown = tr(r, "customer.io.shown", "shown", maxShownProblems)
			break
		}
		pg.Problems = append(pg.Problems, importErrorJSON{Row: e.Row, Column: e.Column, Message: cat.Msg(lang, e.Msg)})
	}
	web.Render(p.s.web, w, r, status, "customer/import", "page.customer_import.title", pg)
}

func kvArgs(m map[string]any) []any {
	out := make([]any, 0, 2*len(m))
	for k, v := range m {
		out = append(out, k, v)
	}
	return out
}

// ListIO are the import and export links of the customer list: the export keeps the
// list's current filters.
type ListIO struct {
	CanImport  bool
	ExportXLSX string
	ExportCSV  string
}

func listIO(r *http.Request) ListIO {
	a := authz.From(r.Context())
	out := ListIO{CanImport: a.Can(PermImport)}
	if a.Can(PermExport) {
		q := url.Values{}
		for k, v := range r.URL.Query() {
			if k != "cursor" && k != "format" && len(v) > 0 && v[0] != "" {
				q[k] = v[:1]
			}
		}
		q.Set("format", "xlsx")
		out.ExportXLSX = "/api/v1/customers/export?" + q.Encode()
		q.Set("format", "csv")
		out.ExportCSV = "/api/v1/customers/export?" + q.Encode()
	}
	return out
}
