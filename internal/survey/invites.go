package survey

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/revisit"
	"github.com/kefu-cn/kefu/internal/ticket"
)

// ======================= tokens =======================

// tokenBytes is the size of a link token: 256 random bits (43 base64url characters).
const (
	tokenBytes = 32
	tokenLen   = 43
)

// newToken returns a fresh link token and its stored digest.
func newToken() (raw, hash string) {
	b := make([]byte, tokenBytes)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	raw = base64.RawURLEncoding.EncodeToString(b)
	return raw, tokenHash(raw)
}

// tokenHash is the stored digest of a token (hex SHA-256).
func tokenHash(raw string) string {
	sum := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(sum[:])
}

// wellFormedToken reports whether raw looks like a token at all (anything else is
// refused as not found without a database look-up).
func wellFormedToken(raw string) bool {
	if len(raw) != tokenLen {
		return false
	}
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// link is the public address of token.
func (s *Service) link(raw string) string {
	return strings.TrimRight(s.d.BaseURL, "/") + "/s/" + raw
}

// ======================= listeners =======================

// onTicketStatus records a pending invitation when a request of a known customer is
// resolved (inside the request's transaction); the send job mails it at its due time.
// A request gets one survey, however often it is resolved.
func (s *Service) onTicketStatus(ctx context.Context, t ticket.Ticket, from, to ticket.Status) error {
	if to != ticket.StatusResolved || t.CustomerID == 0 {
		return nil
	}
	st, err := s.loadSettings(ctx)
	if err != nil || !st.AfterResolve {
		return err
	}
	at := t.ResolvedAt
	if at.IsZero() {
		at = s.now()
	}
	inv := Invite{CustomerID: t.CustomerID, TicketID: t.ID, Source: SourceTicket, TicketType: string(t.Type),
		AgentID: t.AssigneeID, DeptID: t.DeptID, TeamID: t.TeamID, DedupeKey: "ticket:" + strconv.FormatInt(t.ID, 10)}
	return s.autoInvite(ctx, &inv, st, at)
}

// HandleVisitDone records a pending invitation when a return visit reached its
// customer (the revisit.OnDone listener, called in the visit's transaction).
func (s *Service) HandleVisitDone(ctx context.Context, v revisit.VisitDone) error {
	if !v.Reached || v.CustomerID == 0 {
		return nil
	}
	st, err := s.loadSettings(ctx)
	if err != nil || !st.AfterRevisit {
		return err
	}
	at := v.At
	if at.IsZero() {
		at = s.now()
	}
	inv := Invite{CustomerID: v.CustomerID, RevisitTaskID: v.TaskID, Source: SourceRevisit, AgentID: v.AssigneeID,
		DeptID: v.DeptID, DedupeKey: "revisit:" + strconv.FormatInt(v.TaskID, 10)}
	if v.SourceType == "ticket" && v.SourceID != 0 {
		inv.TicketID = v.SourceID
		if t, err := s.d.Tickets.Store().GetTicket(ctx, v.SourceID); err == nil {
			inv.TicketType, inv.TeamID = string(t.Type), t.TeamID
		}
	}
	return s.autoInvite(ctx, &inv, st, at)
}

// autoInvite stores an automatic invitation for the event at `at` (in ctx's
// transaction) and schedules its sending.
func (s *Service) autoInvite(ctx context.Context, inv *Invite, st Settings, at time.Time) error {
	tpl, err := s.templateFor(ctx, st.TemplateID)
	if err != nil {
		return err
	}
	if tpl.ID == 0 {
		s.d.Log.Warn("survey: no active template; invitation not recorded", "dedupe", inv.DedupeKey)
		return nil
	}
	d := st.durations()
	now := s.now()
	inv.TemplateID = tpl.ID
	inv.Channel = s.chooseChannel(ctx, inv.CustomerID, st.Channels)
	inv.Status, inv.DueAt, inv.SendBy = StatusPending, at.Add(d.delay), at.Add(d.window)
	inv.Version, inv.CreatedAt, inv.UpdatedAt = 1, now, now
	created, err := s.store.InsertInvite(ctx, inv)
	if err != nil || !created {
		return err
	}
	if err := s.schedule(ctx, inv); err != nil {
		return err
	}
	return s.record(ctx, "survey.invite", "survey", inv.ID, map[string]any{"source": inv.Source,
		"channel": inv.Channel, "customer_id": inv.CustomerID, "ticket_id": inv.TicketID, "due_at": inv.DueAt})
}

// templateFor returns template id when active, else the default template (ID 0 when
// there is none).
func (s *Service) templateFor(ctx context.Context, id int64) (Template, error) {
	if id > 0 {
		if t, err := s.store.Template(ctx, id); err == nil && t.Active {
			return t, nil
		}
	}
	t, err := s.store.DefaultTemplate(ctx)
	if err != nil && !isNoRows(err) {
		return Template{}, err
	}
	return t, nil
}

// mailEnabled reports whether the mail sender would deliver.
func (s *Service) mailEnabled(ctx context.Context) bool {
	if s.d.Mail == nil {
		return false
	}
	if e, ok := s.d.Mail.(interface{ Enabled(context.Context) bool }); ok {
		return e.Enabled(ctx)
	}
	return true
}

// chooseChannel is the first of chans the customer can be reached on; the portal when
// none (every customer can sign in to the portal with a code).
func (s *Service) chooseChannel(ctx context.Context, customerID int64, chans []Channel) Channel {
	ref, err := s.d.Customers.Ref(ctx, customerID)
	if err != nil {
		return ChannelPortal
	}
	for _, c := range chans {
		switch c {
		case ChannelEmail:
			if ref.Email != "" && s.mailEnabled(ctx) {
				return c
			}
		case ChannelSMS:
			if ref.MaskedMobile != "" && s.d.SMS != nil {
				return c
			}
		case ChannelPortal:
			return c
		}
	}
	return ChannelPortal
}

// ======================= manual invitations =======================

// CreateInput sends a survey by hand: to the customer of a request (ticket_id) or to a
// customer. Channel: email, sms, portal or phone (phone: ask now and key in the answers).
type CreateInput struct {
	CustomerID int64   `json:"customer_id"`
	TicketID   int64   `json:"ticket_id"`
	TemplateID int64   `json:"template_id"` // 0 = the default template
	Channel    Channel `json:"channel"`
}

// Create records a manual invitation (survey:write, within the actor's reach).
func (s *Service) Create(ctx context.Context, in CreateInput) (Invite, error) {
	a, err := authz.RequireStaff(ctx, PermWrite)
	if err != nil {
		return Invite{}, err
	}
	f := apperr.Fields{}
	if in.Channel == "" {
		f.Add("channel", "field.required")
	} else if !slices.Contains(Channels, in.Channel) {
		f.Add("channel", "field.invalid_choice")
	}
	if in.CustomerID < 0 || in.TicketID < 0 || in.TemplateID < 0 {
		f.Add("customer_id", "field.invalid")
	}
	if in.CustomerID == 0 && in.TicketID == 0 {
		f.Add("customer_id", "field.required")
	}
	if err := f.Err(); err != nil {
		return Invite{}, err
	}
	now := s.now()
	inv := Invite{Source: SourceManual, Channel: in.Channel, Status: StatusPending, DueAt: now, Version: 1,
		CreatedAt: now, UpdatedAt: now}
	if a.Kind == authz.KindStaff {
		inv.CreatedBy, inv.AgentID = a.ID, a.ID
	}
	if in.TicketID != 0 {
		t, err := s.d.Tickets.GetTicket(ctx, in.TicketID)
		if err != nil {
			if apperr.KindOf(err) == apperr.NotFound || apperr.KindOf(err) == apperr.Forbidden {
				return Invite{}, apperr.InvalidField("ticket_id", "survey.invalid.ticket_unknown")
			}
			return Invite{}, err
		}
		if t.CustomerID == 0 || in.CustomerID != 0 && in.CustomerID != t.CustomerID {
			return Invite{}, apperr.InvalidField("customer_id", "survey.invalid.ticket_customer")
		}
		inv.CustomerID, inv.TicketID, inv.TicketType = t.CustomerID, t.ID, string(t.Type)
		inv.DeptID, inv.TeamID = t.DeptID, t.TeamID
		if t.AssigneeID != 0 {
			inv.AgentID = t.AssigneeID
		}
	} else {
		ref, err := s.d.Customers.Ref(ctx, in.CustomerID)
		if err != nil {
			if apperr.KindOf(err) == apperr.NotFound {
				return Invite{}, apperr.InvalidField("customer_id", "survey.invalid.customer_unknown")
			}
			return Invite{}, err
		}
		if !customerReach(a, ref) {
			return Invite{}, apperr.InvalidField("customer_id", "survey.invalid.customer_unknown")
		}
		inv.CustomerID, inv.DeptID, inv.TeamID = ref.ID, ref.DeptID, ref.TeamID
		if inv.DeptID == 0 {
			inv.DeptID = a.DeptID
		}
		if inv.TeamID == 0 {
			inv.TeamID = a.TeamID
		}
	}
	if !a.Reaches(PermWrite, inv.Record()) {
		return Invite{}, apperr.InvalidField("customer_id", "survey.invalid.customer_unknown")
	}
	st, err := s.loadSettings(ctx)
	if err != nil {
		return Invite{}, err
	}
	tpl, err := s.templateFor(ctx, in.TemplateID)
	if err != nil {
		return Invite{}, err
	}
	if in.TemplateID != 0 && tpl.ID != in.TemplateID || tpl.ID == 0 {
		return Invite{}, apperr.InvalidField("template_id", "survey.invalid.template_unknown")
	}
	inv.TemplateID = tpl.ID
	d := st.durations()
	inv.SendBy = now.Add(d.window)
	if in.Channel == ChannelPhone {
		inv.Status, inv.SentAt, inv.ExpiresAt = StatusSent, now, now.Add(d.ttl)
	}
	err = s.d.DB.WithTx(ctx, func(ctx context.Context) error {
		if _, err := s.store.InsertInvite(ctx, &inv); err != nil {
			return err
		}
		if inv.Status == StatusPending {
			if err := s.schedule(ctx, &inv); err != nil {
				return err
			}
		}
		return s.record(ctx, "survey.invite", "survey", inv.ID, map[string]any{"source": inv.Source,
			"channel": inv.Channel, "customer_id": inv.CustomerID, "ticket_id": inv.TicketID})
	})
	if err == nil && inv.Status == StatusPending && s.d.Jobs != nil {
		s.d.Jobs.Kick()
	}
	return inv, err
}

// customerReach reports whether the actor's customer scope reaches the customer file
// (the customer service's own rule: department, team or owner).
func customerReach(a *authz.Actor, ref customer.Ref) bool {
	if a.Kind == authz.KindSystem {
		return true
	}
	return a.Reaches("customer:read", authz.Record{DeptID: ref.DeptID, TeamID: ref.TeamID, OwnerID: ref.OwnerID})
}

// ======================= reading =======================

// List returns a page of invitations within the actor's reach (survey:read), audited.
func (s *Service) List(ctx context.Context, f InviteFilter, limit int, cursor string) ([]Invite, string, error) {
	a, err := authz.RequireStaff(ctx, PermRead)
	if err != nil {
		return nil, "", err
	}
	var after int64
	if err := httpx.DecodeCursor(cursor, &after); err != nil {
		return nil, "", err
	}
	f.after, f.limit = after, limit+1
	f.scope, f.scopeArgs = scopeSQL(a, PermRead)
	items, err := s.store.ListInvites(ctx, f)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(items) > limit {
		items = items[:limit]
		next = httpx.EncodeCursor(items[len(items)-1].ID)
	}
	ids := make([]int64, len(items))
	for i := range items {
		ids[i] = items[i].ID
	}
	if len(ids) > 0 {
		if err := s.record(ctx, "survey.list", "survey", 0, map[string]any{"ids": ids, "count": len(ids)}); err != nil {
			return nil, "", err
		}
	}
	if items == nil {
		items = []Invite{}
	}
	return items, next, nil
}

// Get reads invitation id with its answers (survey:read, within reach; audited).
func (s *Service) Get(ctx context.Context, id int64) (Invite, *Response, error) {
	a, err := authz.RequireStaff(ctx, PermRead)
	if err != nil {
		return Invite{}, nil, err
	}
	inv, err := s.store.Invite(ctx, id)
	if err != nil {
		return Invite{}, nil, notFound(err, "thing.survey")
	}
	if !a.Reaches(PermRead, inv.Record()) {
		return Invite{}, nil, apperr.NotFoundf("thing.survey")
	}
	var resp *Response
	if r, err := s.store.ResponseOf(ctx, id); err == nil {
		resp = &r
	} else if !isNoRows(err) {
		return Invite{}, nil, err
	}
	if err := s.record(ctx, "survey.read", "survey", id, map[string]any{"customer_id": inv.CustomerID}); err != nil {
		return Invite{}, nil, err
	}
	return inv, resp, nil
}

// ======================= answers =======================

// KeyInInput holds the answers a staff member keys in after asking on the phone.
type KeyInInput struct {
	Answers json.RawMessage `json:"answers"`
}

// KeyIn records the answers of invitation id given on the phone (survey:write).
func (s *Service) KeyIn(ctx context.Context, id int64, in KeyInInput) (Invite, *Response, error) {
	return s.keyIn(ctx, id, func(t *Template) ([]Answer, error) { return DecodeJSON(t, in.Answers) })
}

// KeyInForm is KeyIn with the answers of the staff page's form (fields "q_<key>").
func (s *Service) KeyInForm(ctx context.Context, id int64, form url.Values) (Invite, *Response, error) {
	return s.keyIn(ctx, id, func(t *Template) ([]Answer, error) { return DecodeForm(t, form) })
}

func (s *Service) keyIn(ctx context.Context, id int64, decode func(*Template) ([]Answer, error)) (Invite, *Response, error) {
	a, err := authz.RequireStaff(ctx, PermWrite)
	if err != nil {
		return Invite{}, nil, err
	}
	var inv Invite
	var resp Response
	err = s.d.DB.WithTx(ctx, func(ctx context.Context) error {
		inv, err = s.store.LockInvite(ctx, id)
		if err != nil {
			return notFound(err, "thing.survey")
		}
		if !a.Reaches(PermWrite, inv.Record()) {
			return apperr.NotFoundf("thing.survey")
		}
		if inv.Status == StatusAnswered {
			return errAnswered
		}
		tpl, err := s.store.Template(ctx, inv.TemplateID)
		if err != nil {
			return err
		}
		answers, err := decode(&tpl)
		if err != nil {
			return err
		}
		var keyedBy int64
		if a.Kind == authz.KindStaff {
			keyedBy = a.ID
		}
		resp, err = s.answer(ctx, &inv, answers, ChannelPhone, keyedBy)
		return err
	})
	if err != nil {
		return Invite{}, nil, err
	}
	return inv, &resp, nil
}

// TemplateOf returns the template of an invitation the actor has read (Get).
func (s *Service) TemplateOf(ctx context.Context, inv *Invite) (Template, error) {
	return s.store.Template(ctx, inv.TemplateID)
}

// Errors of answering.
var (
	errAnswered = apperr.New(apperr.Conflict, "survey.error.answered").WithCode("already_answered")
	errExpired  = apperr.New(apperr.Conflict, "survey.error.expired").WithCode("survey_expired")
)

// answer stores the sheet of inv (locked in ctx's transaction) and marks it answered.
func (s *Service) answer(ctx context.Context, inv *Invite, answers []Answer, ch Channel, keyedBy int64) (Response, error) {
	now := s.now()
	switch {
	case inv.Status == StatusAnswered:
		return Response{}, errAnswered
	case inv.Status == StatusExpired || inv.Status == StatusUnsendable || !inv.Answerable(now):
		return Response{}, errExpired
	}
	r := Response{InviteID: inv.ID, TemplateID: inv.TemplateID, Answers: answers, Channel: ch, KeyedBy: keyedBy,
		AnsweredAt: now}
	r.CSAT, r.NPS, r.CES = Scores(answers)
	if err := s.store.InsertResponse(ctx, &r); err != nil {
		return Response{}, err
	}
	prev := inv.Version
	inv.Status, inv.AnsweredAt = StatusAnswered, now
	inv.Version, inv.UpdatedAt = inv.Version+1, now
	if ok, err := s.store.UpdateInvite(ctx, inv, prev); err != nil {
		return Response{}, err
	} else if !ok {
		return Response{}, apperr.StaleVersion(prev)
	}
	detail := map[string]any{"channel": ch, "customer_id": inv.CustomerID, "questions": len(answers)}
	for k, v := range map[string]*int{"csat": r.CSAT, "nps": r.NPS, "ces": r.CES} {
		if v != nil {
			detail[k] = *v
		}
	}
	return r, s.record(ctx, "survey.answer", "survey", inv.ID, detail)
}

// ======================= portal =======================

// PendingForCustomer lists the customer's open portal invitations, each with a fresh
// link (Invite.Link): links are never stored, so showing one makes a new token and the
// previous link of that invitation stops working. The portal calls it for the signed-in
// customer only.
func (s *Service) PendingForCustomer(ctx context.Context, customerID int64) ([]Invite, error) {
	now := s.now()
	var out []Invite
	err := s.d.DB.WithTx(systemCtx(ctx, "survey.portal"), func(ctx context.Context) error {
		list, err := s.store.PortalInvites(ctx, customerID, now)
		if err != nil {
			return err
		}
		for i := range list {
			inv := list[i]
			raw, hash := newToken()
			prev := inv.Version
			inv.TokenHash, inv.Version, inv.UpdatedAt = hash, inv.Version+1, now
			if ok, err := s.store.UpdateInvite(ctx, &inv, prev); err != nil {
				return err
			} else if !ok {
				continue
			}
			inv.Link = "/s/" + raw
			out = append(out, inv)
		}
		return nil
	})
	return out, err
}
