package events

// SQL of the PostgreSQL bridge.
const (
	sqlListen = `LISTEN ` + Channel
	sqlNotify = `SELECT pg_notify(?, ?)`
)
