// Package audit is Kefu's tamper-evident audit log. Record appends an entry inside the
// caller's database transaction, right before it commits; entries form a hash chain
// (each hash covers the previous hash, a gap-free sequence number and a canonical
// encoding of the entry), and checkpoints signed with a key kept outside the database
// pin the chain's head so that truncating the tail is detected too. Verify walks the
// chain in bounded memory and names the first bad entry.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/clock"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/secure"
	"github.com/kefu-cn/kefu/internal/platform/web"
)

// Options are the dependencies of the audit log.
type Options struct {
	DB    *db.DB
	Keys  *secure.Keyring
	Clock clock.Clock
	Log   *slog.Logger
}

// Log is the audit log of one database.
type Log struct {
	db    *db.DB
	keys  *secure.Keyring
	clock clock.Clock
	log   *slog.Logger
	web   *web.Engine
}

// New returns the audit log for o.DB.
func New(o Options) *Log {
	l := &Log{db: o.DB, keys: o.Keys, clock: o.Clock, log: o.Log}
	if l.clock == nil {
		l.clock = clock.Real{}
	}
	if l.log == nil {
		l.log = slog.Default()
	}
	return l
}

// SetWeb gives the log the template engine its page renders with.
func (l *Log) SetWeb(e *web.Engine) { l.web = e }

// Entry is what a capability records: an action ("staff.create", "auth.login.failure"),
// its target and a detail value that marshals to a JSON object (nil = {}).
type Entry struct {
	Action     string
	TargetType string
	TargetID   string
	Detail     any
}

// ErrNoAction is returned by Record for an entry without an action.
var ErrNoAction = errors.New("audit: entry has no action")

// row is one entry as stored (seq and hashes are filled in when it is appended).
type row struct {
	Seq        int64
	At         int64 // Unix milliseconds
	ActorID    int64
	Actor      string
	Action     string
	TargetType string
	TargetID   string
	IP         string
	RequestID  string
	Detail     string // JSON object, stored exactly as hashed
	PrevHash   string // hex
	Hash       string // hex
}

// pendingKey keys the entries buffered on a transaction (per Log, so two logs on one
// database never mix their buffers).
type pendingKey struct{ l *Log }

type pending struct {
	rows   []row
	hooked bool // a BeforeCommit hook is registered and has not run yet
}

// Record writes e to the audit log. Inside a transaction of the log's database (ctx from
// db.WithTx) the entry is appended just before that transaction commits, so it is
// written if and only if the caller's work is; without one, Record runs its own
// transaction. The actor comes from authz.From(ctx), the client address and request id
// from the HTTP context.
func (l *Log) Record(ctx context.Context, e Entry) error {
	r, err := l.newRow(ctx, e)
	if err != nil {
		return err
	}
	if !l.db.InTx(ctx) {
		return l.db.WithTx(ctx, func(ctx context.Context) error { return l.buffer(ctx, r) })
	}
	return l.buffer(ctx, r)
}

func (l *Log) buffer(ctx context.Context, r row) error {
	v, ok := l.db.TxValue(ctx, pendingKey{l}, func() any { return &pending{} })
	if !ok {
		return errors.New("audit: no transaction in context")
	}
	p := v.(*pending)
	p.rows = append(p.rows, r)
	if p.hooked {
		return nil
	}
	// A hook that has already run (another BeforeCommit hook recording late) leaves
	// hooked false, so a fresh hook picks up the new entries.
	p.hooked = true
	return l.db.BeforeCommit(ctx, func(ctx context.Context) error {
		rows := p.rows
		p.rows, p.hooked = nil, false
		return l.appendRows(ctx, rows)
	})
}

func (l *Log) newRow(ctx context.Context, e Entry) (row, error) {
	if e.Action == "" {
		return row{}, ErrNoAction
	}
	detail, err := encodeDetail(e.Detail)
	if err != nil {
		return row{}, err
	}
	r := row{
		At:         clock.Millis(l.clock.Now()),
		Action:     e.Action,
		TargetType: e.TargetType,
		TargetID:   e.TargetID,
		IP:         httpx.ClientIP(ctx),
		RequestID:  httpx.RequestID(ctx),
		Detail:     detail,
	}
	r.ActorID, r.Actor = actorOf(authz.From(ctx))
	if a := authz.From(ctx); r.IP == "" && a != nil {
		r.IP = a.IP
	}
	return r, nil
}

// actorOf names the actor as stored: staff by id and username, jobs and the CLI as
// "system:<name>", customers as "customer:<name>", nobody as "anonymous".
func actorOf(a *authz.Actor) (int64, string) {
	switch {
	case a == nil:
		return 0, "anonymous"
	case a.Kind == authz.KindSystem:
		return 0, "system:" + a.Username
	case a.Kind == authz.KindCustomer:
		return a.ID, "customer:" + a.Username
	}
	return a.ID, a.Username
}

// encodeDetail marshals the detail once; the text stored is the text hashed.
func encodeDetail(v any) (string, error) {
	if v == nil {
		return "{}", nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("audit: marshal detail: %w", err)
	}
	if string(b) == "null" {
		return "{}", nil
	}
	if len(b) == 0 || b[0] != '{' {
		return "", fmt.Errorf("audit: detail must marshal to a JSON object, got %.20s", b)
	}
	return string(b), nil
}

const (
	qHeadLock = `SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE`
	qHead     = `SELECT seq, hash FROM audit_head WHERE id = 1`
	qInsert   = `INSERT INTO audit_log (seq, at, actor_id, actor, action, target_type, target_id, ip, request_id, detail, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qInsertHead = `INSERT INTO audit_log (seq, at, actor_id, actor, action, target_type, target_id, ip, request_id, detail, prev_hash, hash) VALUES `
	qValues     = `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qSetHead    = `UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`
	// insertChunk bounds the rows of one INSERT (12 parameters each).
	insertChunk = 100
)

// appendRows chains rows onto the head inside ctx's transaction. On PostgreSQL the head
// row is locked FOR UPDATE: appends from concurrent transactions queue here, for the
// last instant before their COMMIT only, and the rows and the new head go in one
// statement so that the lock is held for two round trips plus the COMMIT. On SQLite the
// write transaction is already exclusive.
func (l *Log) appendRows(ctx context.Context, rows []row) error {
	if len(rows) == 0 {
		return nil
	}
	pg := l.db.Dialect == db.Postgres
	q := qHead
	if pg {
		q = qHeadLock
	}
	var seq int64
	var head string
	if err := l.db.QueryRow(ctx, q).Scan(&seq, &head); err != nil {
		return fmt.Errorf("audit: read head: %w", err)
	}
	for i := range rows {
		r := &rows[i]
		seq++
		r.Seq, r.PrevHash = seq, head
		h, err := chainHash(head, r)
		if err != nil {
			return err
		}
		r.Hash, head = h, h
	}
	for start := 0; start < len(rows); start += insertChunk {
		chunk := rows[start:min(start+insertChunk, len(rows))]
		last := start+insertChunk >= len(rows)
		var b strings.Builder
		args := make([]any, 0, 12*len(chunk)+2)
		if last && pg {
			b.WriteString("WITH ins AS (")
		}
		b.WriteString(qInsertHead)
		for i := range chunk {
			r := &chunk[i]
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(qValues)
			args = append(args, r.Seq, r.At, r.ActorID, r.Actor, r.Action, r.TargetType, r.TargetID,
				r.IP, r.RequestID, r.Detail, r.PrevHash, r.Hash)
		}
		if last && pg {
			b.WriteString(") ")
			b.WriteString(qSetHead)
			args = append(args, seq, head)
		}
		if _, err := l.db.Exec(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("audit: append entries %d to %d: %w", chunk[0].Seq, chunk[len(chunk)-1].Seq, err)
		}
	}
	if !pg {
		if _, err := l.db.Exec(ctx, qSetHead, seq, head); err != nil {
			return fmt.Errorf("audit: move head: %w", err)
		}
	}
	return nil
}

// errBadPrev means a stored previous hash is not hex (only a tampered row has one).
var errBadPrev = errors.New("audit: previous hash is not hex")

// chainHash is hex(SHA-256(prev hash bytes || canonical(r))).
func chainHash(prev string, r *row) (string, error) {
	pb, err := hex.DecodeString(prev)
	if err != nil {
		return "", errBadPrev
	}
	h := sha256.New()
	h.Write(pb)
	h.Write(canonical(r))
	return hex.EncodeToString(h.Sum(nil)), nil
}

// entryTag separates entry encodings from any other use of the same hash.
const entryTag = "kefu-audit-entry-v1"

// canonical encodes an entry deterministically and unambiguously: a version tag, the
// numbers as 8-byte big-endian, and every text field prefixed with its 8-byte length.
func canonical(r *row) []byte {
	n := len(entryTag) + 3*8 + 8*8 + len(r.Actor) + len(r.Action) + len(r.TargetType) + len(r.TargetID) +
		len(r.IP) + len(r.RequestID) + len(r.Detail) + 8
	b := make([]byte, 0, n)
	b = appendString(b, entryTag)
	b = binary.BigEndian.AppendUint64(b, uint64(r.Seq))
	b = binary.BigEndian.AppendUint64(b, uint64(r.At))
	b = binary.BigEndian.AppendUint64(b, uint64(r.ActorID))
	for _, s := range [...]string{r.Actor, r.Action, r.TargetType, r.TargetID, r.IP, r.RequestID, r.Detail} {
		b = appendString(b, s)
	}
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(len(s)))
	return append(b, s...)
}
