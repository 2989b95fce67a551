// Package faulttest holds tests that break the running system on purpose and check that
// it keeps its promises: a real `kefu serve` process killed with SIGKILL under keyed
// load (idempotency survives a crash), and a database that goes away and comes back
// (503 with Retry-After, a friendly page, recovery without a restart). It has no code
// of its own; everything is in its _test.go files.
package faulttest
