package customer

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/web"
)

// Transactions of a customer (orders, payments; refunds have negative amounts): the
// input of the RFM value class and of the tier. Adding or deleting one re-evaluates the
// customer in the same transaction, bumps its version and is audited; listing them is
// a read of the file (audited like the contacts list). Scope and permissions follow the
// customer: customer:read to list, customer:write to change, out of scope reads as 404.

// Transaction kinds, derived from the sign of the amount.
const (
	TxOrder  = "order"
	TxRefund = "refund"
)

// Limits of a transaction.
const (
	maxTxFen  = 1_000_000_000_000 // 10,000,000,000 yuan per transaction: sums stay far from overflow
	maxTxNote = 500
	maxTxRef  = 64
	minTxYear = 1900
)

// Transaction is one dated amount of a customer.
type Transaction struct {
	ID         int64     `json:"id"`
	CustomerID int64     `json:"customer_id"`
	Date       string    `json:"date"` // YYYY-MM-DD (occurred_on)
	AmountFen  int64     `json:"amount_fen"`
	Kind       string    `json:"kind"` // order | refund
	Ref        string    `json:"ref"`
	Note       string    `json:"note" text:"multiline"`
	CreatedBy  int64     `json:"created_by"`
	CreatedAt  time.Time `json:"created_at"`
}

// TransactionInput records a transaction. AmountFen is required (negative: a refund).
type TransactionInput struct {
	Date      string `json:"date"`
	AmountFen *int64 `json:"amount_fen"`
	Ref       string `json:"ref"`
	Note      string `json:"note" text:"multiline"`
}

func txFromRow(r txRow) Transaction {
	return Transaction{ID: r.ID, CustomerID: r.CustomerID, Date: r.On, AmountFen: r.AmountFen, Kind: r.Kind, Ref: r.Ref,
		Note: r.Note, CreatedBy: r.CreatedBy, CreatedAt: fromMS(r.CreatedAt)}
}

// validateTx checks a transaction input: a real day between 1900 and today (China),
// an amount within ±maxTxFen, short single-line ref, a note.
func (s *Service) validateTx(in TransactionInput, f apperr.Fields) txRow {
	var r txRow
	r.On = strings.TrimSpace(in.Date)
	switch t, err := time.Parse(dayLayout, r.On); {
	case r.On == "":
		f.Add("date", "field.required")
	case err != nil:
		f.Add("date", "customer.invalid.date")
	case t.After(s.today()):
		f.Add("date", "customer.invalid.future_date")
	case t.Year() < minTxYear:
		f.Add("date", "customer.tx.invalid.too_old", "year", minTxYear)
	}
	switch {
	case in.AmountFen == nil:
		f.Add("amount_fen", "field.required")
	case *in.AmountFen > maxTxFen || *in.AmountFen < -maxTxFen:
		f.Add("amount_fen", "customer.tx.invalid.amount_range", "max", fenAsYuan(maxTxFen))
	default:
		r.AmountFen = *in.AmountFen
	}
	r.Kind = TxOrder
	if r.AmountFen < 0 {
		r.Kind = TxRefund
	}
	r.Ref = text(f, "ref", in.Ref, maxTxRef, false, false)
	r.Note = text(f, "note", in.Note, maxTxNote, false, true)
	return r
}

// classChange names what a write did to the classification (for the audit entry).
func classChange(before, after Customer) map[string]any {
	m := map[string]any{}
	for _, d := range []struct{ name, a, b string }{{DimTier, before.Tier, after.Tier},
		{DimValueClass, before.ValueClass, after.ValueClass}, {DimCreditGrade, before.CreditGrade, after.CreditGrade}} {
		if d.a != d.b {
			m[d.name] = []string{d.a, d.b}
		}
	}
	return m
}

// withCustomerForClass runs fn on a customer open for writing: the row is locked first
// (its version bumped, which also tells open edit forms that the file changed), then
// read and scope-checked; after fn, the customer is re-evaluated and its results stored
// if they changed. All in the caller's transaction.
func (s *Service) withCustomerForClass(ctx context.Context, customerID int64, fn func(ctx context.Context, c *Customer) error) (before, after Customer, err error) {
	// Lock first: on PostgreSQL two concurrent writers to one customer then see each
	// other's transactions when they re-evaluate it.
	if err := s.store.TouchCustomer(ctx, customerID, ms(s.now())); err != nil {
		return before, after, err
	}
	r, err := s.loadScope(ctx, PermWrite, customerID)
	if err != nil {
		return before, after, err
	}
	if r.Status != StatusActive {
		return before, after, apperr.New(apperr.Conflict, "customer.not_active").WithCode("customer_not_active")
	}
	c, err := s.fromRow(r)
	if err != nil {
		return before, after, err
	}
	before = c
	if err := fn(ctx, &c); err != nil {
		return before, after, err
	}
	changed, err := s.reclassify(ctx, &c)
	if err != nil {
		return before, after, err
	}
	if changed {
		if err := s.store.SetClass(ctx, c.ID, classResultOf(&c)); err != nil {
			return before, after, err
		}
	}
	return before, c, nil
}

// AddTransaction records a transaction of a customer and re-evaluates the customer.
func (s *Service) AddTransaction(ctx context.Context, customerID int64, in TransactionInput) (Transaction, error) {
	actor, err := authz.Require(ctx, PermWrite)
	if err != nil {
		return Transaction{}, err
	}
	f := apperr.Fields{}
	row := s.validateTx(in, f)
	if err := f.Err(); err != nil {
		return Transaction{}, err
	}
	row.CustomerID, row.CreatedAt = customerID, ms(s.now())
	if actor.Kind == authz.KindStaff {
		row.CreatedBy = actor.ID
	}
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		before, after, err := s.withCustomerForClass(ctx, customerID, func(ctx context.Context, _ *Customer) error {
			return s.store.InsertTransaction(ctx, &row)
		})
		if err != nil {
			return err
		}
		return s.record(ctx, "customer.transaction.create", customerID, map[string]any{"transaction_id": row.ID,
			"date": row.On, "amount_fen": row.AmountFen, "classification": classChange(before, after)})
	})
	if err != nil {
		return Transaction{}, err
	}
	return txFromRow(row), nil
}

// DeleteTransaction removes a transaction of a customer and re-evaluates the customer.
func (s *Service) DeleteTransaction(ctx context.Context, customerID, id int64) error {
	if _, err := authz.Require(ctx, PermWrite); err != nil {
		return err
	}
	return s.db.WithTx(ctx, func(ctx context.Context) error {
		var gone txRow
		before, after, err := s.withCustomerForClass(ctx, customerID, func(ctx context.Context, _ *Customer) error {
			t, err := s.store.Transaction(ctx, customerID, id)
			if err != nil {
				if db.IsNoRows(err) {
					return apperr.NotFoundf("thing.transaction")
				}
				return err
			}
			gone = t
			return s.store.DeleteTransaction(ctx, customerID, id)
		})
		if err != nil {
			return err
		}
		return s.record(ctx, "customer.transaction.delete", customerID, map[string]any{"transaction_id": id,
			"date": gone.On, "amount_fen": gone.AmountFen, "classification": classChange(before, after)})
	})
}

type txCursor struct {
	D string `json:"d"`
	I int64  `json:"i"`
}

// ListTransactions pages through a customer's transactions, newest first (audited as a
// read of the file).
func (s *Service) ListTransactions(ctx context.Context, customerID int64, limit int, cur string) (Page[Transaction], error) {
	if _, err := s.loadScope(ctx, PermRead, customerID); err != nil {
		return Page[Transaction]{}, err
	}
	var c txCursor
	if err := httpx.DecodeCursor(cur, &c); err != nil {
		return Page[Transaction]{}, err
	}
	if cur != "" && (c.I <= 0 || len(c.D) != len(dayLayout)) {
		return Page[Transaction]{}, apperr.New(apperr.Malformed, "error.malformed.cursor").OnField("cursor")
	}
	limit = pageLimit(limit)
	rows, err := s.store.Transactions(ctx, customerID, c.D, c.I, limit+1)
	if err != nil {
		return Page[Transaction]{}, err
	}
	var out Page[Transaction]
	if len(rows) > limit {
		last := rows[limit-1]
		rows = rows[:limit]
		out.NextCursor = httpx.EncodeCursor(txCursor{D: last.On, I: last.ID})
	}
	out.Items = make([]Transaction, len(rows))
	for i, r := range rows {
		out.Items[i] = txFromRow(r)
	}
	if err := s.record(ctx, "customer.read", customerID, map[string]any{"part": "transactions", "count": len(rows)}); err != nil {
		return Page[Transaction]{}, err
	}
	return out, nil
}

// ======================= API =======================

func (a api) listTransactions(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	limit, cur, err := httpx.ListParams(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	p, err := a.s.ListTransactions(r.Context(), id, limit, cur)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, httpx.Page[Transaction]{Items: p.Items, NextCursor: p.NextCursor})
}

func (a api) createTransaction(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	var in TransactionInput
	if err := httpx.Decode(r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	t, err := a.s.AddTransaction(r.Context(), id, in)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.Created(w, customerURL(id)+"/transactions/"+strconv.FormatInt(t.ID, 10), t)
}

func (a api) deleteTransaction(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	tid, err := httpx.PathID(r, "tid")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	if err := a.s.DeleteTransaction(r.Context(), id, tid); err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.NoContent(w)
}

// ======================= pages =======================

// addTransaction is the add form on the customer page (amount in yuan).
func (p pages) addTransaction(w http.ResponseWriter, r *http.Request) {
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
	form := TxForm{Date: r.PostFormValue("date"), Amount: r.PostFormValue("amount"), Ref: r.PostFormValue("ref"),
		Note: r.PostFormValue("note")}
	var fen int64
	in := TransactionInput{Date: form.Date, AmountFen: &fen, Ref: form.Ref, Note: form.Note}
	f := apperr.Fields{}
	if strings.TrimSpace(form.Amount) == "" {
		f.Add("amount_fen", "field.required")
	} else if v, ok := parseFormYuan(form.Amount); !ok {
		f.Add("amount_fen", "customer.tx.invalid.amount")
	} else {
		fen = v
	}
	if len(f) > 0 {
		p.s.validateTx(in, f) // name every bad field at once
		err = f.Err()
	} else if _, err = p.s.AddTransaction(ctx, id, in); err == nil {
		web.Redirect(w, r, "/customers/"+itoa(id)+"#transactions", "customer.tx.flash.added")
		return
	}
	fe, msg, ok := p.s.web.FieldErrors(ctx, err)
	if !ok {
		p.fail(w, r, err)
		return
	}
	c, gerr := p.s.GetCustomer(ctx, id)
	if gerr != nil {
		p.fail(w, r, gerr)
		return
	}
	pg := p.detail(r, c, c.View(true))
	pg.Class.TxErrors, pg.Class.TxMessage, pg.Class.TxForm = fe, msg, form
	web.Render(p.s.web, w, r, httpx.Status(apperr.KindOf(err)), "customer/detail", "page.customer.title", pg)
}

func (p pages) deleteTransaction(w http.ResponseWriter, r *http.Request) {
	p.deleteChild(w, r, "tid", p.s.DeleteTransaction, "#transactions", "customer.tx.flash.deleted")
}
