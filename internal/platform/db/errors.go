package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// IsNoRows reports whether err means a query found no row.
func IsNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// IsUniqueViolation reports whether err is a unique-constraint violation on either engine.
func IsUniqueViolation(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "23505"
	}
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// IsForeignKeyViolation reports whether err is a foreign-key violation on either engine.
func IsForeignKeyViolation(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "23503"
	}
	return err != nil && strings.Contains(err.Error(), "FOREIGN KEY constraint failed")
}

// IsUnavailable reports whether err means the database cannot be reached or used right
// now (connection refused or dropped, server shutting down, SQLite file that cannot be
// opened, read or written, or a lock held longer than busy_timeout): a condition that
// passes by itself, which the HTTP layer answers with 503 and Retry-After. Errors of
// the statement itself (syntax, constraint, type, no rows) and context cancellation are
// not: they are the request's or the code's, and must stay 4xx or 500.
func IsUnavailable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, sql.ErrNoRows) || errors.Is(err, sql.ErrTxDone) {
		return false
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch {
		case strings.HasPrefix(pg.Code, "08"): // connection exception
			return true
		case pg.Code == "57P01", pg.Code == "57P02", pg.Code == "57P03": // admin/crash shutdown, cannot connect now
			return true
		case pg.Code == "53300": // too many connections
			return true
		}
		var ce *pgconn.ConnectError // a PgError while connecting (e.g. the database is starting)
		return errors.As(err, &ce)
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	if errors.Is(err, context.DeadlineExceeded) { // a slow statement, not a missing database
		return false
	}
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) || errors.Is(err, errClosed) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) {
		return true
	}
	var coded interface{ Code() int } // modernc.org/sqlite's *sqlite.Error
	if errors.As(err, &coded) {
		switch coded.Code() & 0xff { // the primary result code
		case sqliteBusy, sqliteIOErr, sqliteFull, sqliteCantOpen, sqliteReadOnly:
			return true
		}
		return false
	}
	// pgx reports a connection that died under a statement as text only.
	msg := err.Error()
	return strings.Contains(msg, "conn closed") ||
		strings.Contains(msg, "failed to receive message") || strings.Contains(msg, "failed to write startup message")
}

// SQLite primary result codes (sqlite3.h) that mean the file cannot be used right now.
const (
	sqliteBusy     = 5
	sqliteReadOnly = 8
	sqliteIOErr    = 10
	sqliteFull     = 13
	sqliteCantOpen = 14
)
