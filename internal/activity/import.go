package activity

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/cnid"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
	"github.com/kefu-cn/kefu/internal/platform/tabular"
)

// Importing participants from a spreadsheet (.xlsx or .csv): one customer a row, named
// by the customer number (the file's id, as the customer export writes it) or the
// mobile number, or both (they must name the same customer). Every row is checked
// first; a file with any bad row adds nobody (all or nothing, as customer imports) and
// the answer lists the problems by row. A dry run only checks. Customers already taking
// part, and rows repeating a customer, are counted and skipped.

// Import limits.
const (
	maxImportRows   = 20_000
	maxImportErrors = 200
	// MaxImportBytes is the largest participant file accepted.
	MaxImportBytes = 8 << 20
)

// importColumns are the columns of a participant file: headed "activity.col.<key>" in
// any language, or one of the "|"-separated aliases of "activity.col.<key>.aliases".
func importColumns(cat *i18n.Catalog) []tabular.Column {
	cols := []tabular.Column{{Key: "customer_id", Header: "activity.col.customer_id"}, {Key: "mobile", Header: "activity.col.mobile"}}
	for i := range cols {
		for _, lang := range i18n.Languages {
			for _, a := range strings.Split(cat.T(lang, cols[i].Header+".aliases", nil), "|") {
				if a = strings.TrimSpace(a); a != "" {
					cols[i].Aliases = append(cols[i].Aliases, a)
				}
			}
		}
	}
	return cols
}

// rowKey is how a row names its customer.
type rowKey struct {
	ID     int64
	Mobile string // normalized
}

// rowProblem is a problem of one row: the column key at fault ("" for the row) and the message.
type rowProblem struct {
	Column string
	Msg    i18n.Msg
}

// parseImportRow reads a row's customer number and mobile (already trimmed cell texts).
// It does no I/O: the number must be a positive whole number, the mobile a valid
// mainland mobile; at least one must be given.
func parseImportRow(id, mobile string) (rowKey, *rowProblem) {
	id, mobile = strings.TrimSpace(id), strings.TrimSpace(mobile)
	var k rowKey
	if id == "" && mobile == "" {
		return k, &rowProblem{Msg: i18n.M("activity.import.empty_row")}
	}
	if id != "" {
		// Spreadsheets may show a number as "42.0".
		id = strings.TrimSuffix(id, ".0")
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil || n <= 0 {
			return k, &rowProblem{Column: "customer_id", Msg: i18n.M("activity.import.bad_id")}
		}
		k.ID = n
	}
	if mobile != "" {
		m, err := cnid.NormalizeMobile(mobile)
		if err != nil {
			return k, &rowProblem{Column: "mobile", Msg: i18n.M("activity.import.bad_mobile")}
		}
		k.Mobile = m
	}
	return k, nil
}

// ImportResult is the outcome of a participant import.
type ImportResult struct {
	Rows       int  `json:"rows"`
	Added      int  `json:"added"`
	Already    int  `json:"already"`
	Duplicates int  `json:"duplicates"`
	Failed     int  `json:"failed"`
	DryRun     bool `json:"dry_run"`
	// Errors are the problems (at most maxImportErrors, then one line counting the rest).
	Errors []tabular.RowError `json:"-"`
}

// OK reports whether every row passed.
func (r ImportResult) OK() bool { return len(r.Errors) == 0 }

// ImportParticipants checks every row of a participant file and, unless dryRun or any
// row fails, adds the new participants to activity id in one transaction.
func (s *Service) ImportParticipants(ctx context.Context, id int64, r io.ReaderAt, size int64, format tabular.Format, dryRun bool) (ImportResult, error) {
	actor, err := authz.Require(ctx, PermWrite)
	if err != nil {
		return ImportResult{}, err
	}
	a, err := s.store.Get(ctx, id)
	if err != nil {
		return ImportResult{}, notFound(err)
	}
	if !reaches(actor, PermWrite, &a) {
		return ImportResult{}, apperr.NotFoundf("thing.activity")
	}
	if !a.Status.Open() {
		return ImportResult{}, closedErr(a.Status)
	}
	cat, lang := httpx.CatalogFrom(ctx), i18n.Lang(ctx)
	rd, err := tabular.NewReader(r, size, format, tabular.Options{MaxRows: maxImportRows})
	if err != nil {
		return ImportResult{}, err
	}
	defer rd.Close()
	header := rd.Header()
	m, err := tabular.MapHeader(header, importColumns(cat), cat, lang)
	if err != nil {
		return ImportResult{}, err
	}
	if _, ok := m.ByKey["customer_id"]; !ok {
		if _, ok := m.ByKey["mobile"]; !ok {
			return ImportResult{}, apperr.New(apperr.Invalid, "activity.import.no_key_column").WithCode("missing_columns")
		}
	}
	colText := func(key string) string {
		if i, ok := m.ByKey[key]; ok && i < len(header) {
			return header[i]
		}
		return ""
	}
	res := ImportResult{DryRun: dryRun}
	dropped := 0
	fail := func(row int, col string, msg i18n.Msg) {
		if len(res.Errors) >= maxImportErrors {
			dropped++
			return
		}
		res.Errors = append(res.Errors, tabular.RowError{Row: row, Column: colText(col), Msg: msg})
	}
	seen := map[int64]bool{}
	var add []int64
	for {
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return ImportResult{}, err
		}
		res.Rows++
		k, prob := parseImportRow(m.Get(row, "customer_id"), m.Get(row, "mobile"))
		if prob != nil {
			res.Failed++
			fail(row.Number, prob.Column, prob.Msg)
			continue
		}
		cid, col, msg, err := s.resolveRow(ctx, actor, k)
		if err != nil {
			return ImportResult{}, err
		}
		if cid == 0 {
			res.Failed++
			fail(row.Number, col, msg)
			continue
		}
		if seen[cid] {
			res.Duplicates++
			continue
		}
		seen[cid] = true
		has, err := s.store.HasParticipant(ctx, a.ID, cid)
		if err != nil {
			return ImportResult{}, err
		}
		if has {
			res.Already++
			continue
		}
		add = append(add, cid)
	}
	if dropped > 0 {
		res.Errors = append(res.Errors, tabular.RowError{Msg: i18n.M("activity.import.more_errors", "count", dropped)})
	}
	if !res.OK() || dryRun {
		return res, nil
	}
	err = s.d.DB.WithTx(ctx, func(ctx context.Context) error {
		a, err := s.lockReached(ctx, actor, id, PermWrite, nil)
		if err != nil {
			return err
		}
		if !a.Status.Open() {
			return closedErr(a.Status)
		}
		now, by := s.now(), staffID(actor)
		for _, cid := range add {
			if has, err := s.store.HasParticipant(ctx, a.ID, cid); err != nil {
				return err
			} else if has {
				res.Already++
				continue
			}
			if err := s.store.AddParticipant(ctx, Participant{ActivityID: a.ID, CustomerID: cid, Source: SourceImport,
				AddedBy: by, AddedAt: now}); err != nil {
				return err
			}
			res.Added++
		}
		if err := s.recount(ctx, &a); err != nil {
			return err
		}
		return s.record(ctx, "activity.participants.import", a.ID, map[string]any{"rows": res.Rows, "added": res.Added,
			"already": res.Already, "duplicates": res.Duplicates})
	})
	if err != nil {
		return ImportResult{}, err
	}
	return res, nil
}

// resolveRow finds the customer a parsed row names (0 with the column and the problem
// when none, or more than one, fits).
func (s *Service) resolveRow(ctx context.Context, actor *authz.Actor, k rowKey) (int64, string, i18n.Msg, error) {
	var byMobile []int64
	if k.Mobile != "" {
		ids, err := s.d.Customers.CustomerIDsByMobile(ctx, k.Mobile)
		if err != nil {
			return 0, "", i18n.Msg{}, err
		}
		for _, id := range ids {
			ref, err := s.reachCustomer(ctx, actor, id)
			if err != nil {
				return 0, "", i18n.Msg{}, err
			}
			if ref != nil {
				byMobile = append(byMobile, id)
			}
		}
	}
	if k.ID != 0 {
		ref, err := s.reachCustomer(ctx, actor, k.ID)
		if err != nil {
			return 0, "", i18n.Msg{}, err
		}
		if ref == nil {
			return 0, "customer_id", i18n.M("activity.import.unknown_customer"), nil
		}
		if k.Mobile != "" && !containsID(byMobile, k.ID) {
			return 0, "mobile", i18n.M("activity.import.mismatch"), nil
		}
		return k.ID, "", i18n.Msg{}, nil
	}
	switch len(byMobile) {
	case 0:
		return 0, "mobile", i18n.M("activity.import.unknown_customer"), nil
	case 1:
		return byMobile[0], "", i18n.Msg{}, nil
	}
	return 0, "mobile", i18n.M("activity.import.ambiguous", "count", len(byMobile)), nil
}

func containsID(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// uploadedFile returns the spreadsheet of an import request: the multipart form part
// "file", or the raw body named by ?filename=. done releases it.
func uploadedFile(r *http.Request) (f io.ReaderAt, size int64, name string, done func(), err error) {
	done = func() {}
	noFile := func(field string, cause error) error {
		var mb *http.MaxBytesError
		if errors.As(cause, &mb) {
			return apperr.New(apperr.TooLarge, tabular.KeyFileTooLarge, "max", mb.Limit).WithCode("file_too_large")
		}
		e := apperr.New(apperr.Malformed, "activity.import.no_file").WithCode("no_file")
		if field != "" {
			e = e.OnField(field)
		}
		return e
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "multipart/form-data" {
		if err := r.ParseMultipartForm(MaxImportBytes); err != nil {
			return nil, 0, "", done, noFile("file", err)
		}
		var fhs []*multipart.FileHeader
		if r.MultipartForm != nil {
			fhs = r.MultipartForm.File["file"]
		}
		if len(fhs) == 0 || fhs[0].Size == 0 {
			_ = r.MultipartForm.RemoveAll()
			return nil, 0, "", done, noFile("file", nil)
		}
		mf, err := fhs[0].Open()
		if err != nil {
			_ = r.MultipartForm.RemoveAll()
			return nil, 0, "", done, fmt.Errorf("activity: open upload: %w", err)
		}
		return mf, fhs[0].Size, fhs[0].Filename, func() { _ = mf.Close(); _ = r.MultipartForm.RemoveAll() }, nil
	}
	name = r.URL.Query().Get("filename")
	if name == "" {
		return nil, 0, "", done, noFile("filename", nil)
	}
	tmp, err := os.CreateTemp("", "kefu-participants-*")
	if err != nil {
		return nil, 0, "", done, fmt.Errorf("activity: spool upload: %w", err)
	}
	done = func() { _ = tmp.Close(); _ = os.Remove(tmp.Name()) }
	n, err := io.Copy(tmp, r.Body)
	if err != nil || n == 0 {
		done()
		return nil, 0, "", func() {}, noFile("", err)
	}
	return tmp, n, name, done, nil
}
