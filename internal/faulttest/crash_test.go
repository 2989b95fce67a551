package faulttest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/db/dbtest"
)

// answer is one HTTP answer a client saw.
type answer struct {
	status   int
	body     string
	replayed bool
}

type keyState struct {
	key    string
	body   []byte
	before *answer // the answer seen before the kill, if any
	after  *answer // the final answer after the restart
}

// TestKillUnderKeyedLoad kills a real `kefu serve` with SIGKILL while clients create
// customers with Idempotency-Key, restarts it, and replays every key until it gets a
// final answer. Every key must end with the answer the client saw before the crash (if
// it saw one) or a single fresh execution; the database must hold exactly one customer
// per key; no key may stay stuck once the (short) lease has passed.
func TestKillUnderKeyedLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode: builds and kills a server")
	}
	const (
		clients     = 16
		killAfter   = 120 // answers before the kill
		lease       = 2 * time.Second
		replayLimit = 90 * time.Second
	)
	bin := kefuBinary(t)
	dir := t.TempDir()
	dsn := dbtest.NewDSN(t)
	keyFile := filepath.Join(dir, "kefu.keys")
	token := adminToken(t, dsn, keyFile)
	env := []string{"KEFU_DB=" + dsn, "KEFU_KEY_FILE=" + keyFile, "KEFU_IDEMPOTENCY_LEASE=" + lease.String()}
	srv := startServer(t, bin, dir, env...)

	hc := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	send := func(base string, k *keyState) (*answer, error) {
		req, err := http.NewRequest("POST", base+"/api/v1/customers", bytes.NewReader(k.body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", k.key)
		resp, err := hc.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return nil, err
		}
		a := &answer{status: resp.StatusCode, body: string(b), replayed: resp.Header.Get("Idempotent-Replayed") == "true"}
		if resp.StatusCode == http.StatusConflict && bytes.Contains(b, []byte("idempotency_in_progress")) {
			secs, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
			return a, &inProgressErr{wait: time.Duration(secs) * time.Second}
		}
		return a, nil
	}

	// Load: every client sends new keys until its request fails (the server is gone).
	var (
		mu       sync.Mutex
		keys     []*keyState
		answered atomic.Int64
		next     atomic.Int64
		wg       sync.WaitGroup
		killed   = make(chan struct{})
	)
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				k := &keyState{key: fmt.Sprintf("crash-%d", i),
					body: fmt.Appendf(nil, `{"kind":"person","name":"Crash %d","mobile":"139%08d"}`, i, i)}
				mu.Lock()
				keys = append(keys, k)
				mu.Unlock()
				a, err := send(srv.URL, k)
				if err != nil {
					if _, busy := err.(*inProgressErr); !busy {
						return // the server died under this request: no answer seen
					}
				}
				if a != nil && err == nil {
					k.before = a
					if a.status != http.StatusCreated {
						t.Errorf("before the kill, %s: %d %s", k.key, a.status, a.body)
					}
					if answered.Add(1) == killAfter {
						close(killed)
					}
				}
			}
		}()
	}
	select {
	case <-killed:
	case <-time.After(60 * time.Second):
		t.Fatalf("only %d answers in 60 s; server log:\n%s", answered.Load(), srv.stderr.String())
	}
	srv.kill()
	wg.Wait()

	// What the crash left: customers committed before the kill.
	committed := countCustomers(t, dsn)
	answeredBefore := 0
	for _, k := range keys {
		if k.before != nil {
			answeredBefore++
		}
	}

	// Restart and replay every key until it gets a final answer.
	srv2 := startServer(t, bin, dir, env...)
	deadline := time.Now().Add(replayLimit)
	var waits atomic.Int64
	jobs := make(chan *keyState)
	var rwg sync.WaitGroup
	for c := 0; c < clients; c++ {
		rwg.Add(1)
		go func() {
			defer rwg.Done()
			for k := range jobs {
				for time.Now().Before(deadline) {
					a, err := send(srv2.URL, k)
					if ip, ok := err.(*inProgressErr); ok {
						waits.Add(1)
						time.Sleep(min(max(ip.wait, 100*time.Millisecond), lease))
						continue
					}
					if err != nil {
						time.Sleep(100 * time.Millisecond)
						continue
					}
					k.after = a
					break
				}
			}
		}()
	}
	for _, k := range keys {
		jobs <- k
	}
	close(jobs)
	rwg.Wait()

	var replayed, reexecuted, stuck int
	for _, k := range keys {
		switch {
		case k.after == nil:
			stuck++
			t.Errorf("%s: no final answer within %s", k.key, replayLimit)
			continue
		case k.after.status != http.StatusCreated:
			t.Errorf("%s: final answer %d %s", k.key, k.after.status, k.after.body)
		case k.before != nil && (k.after.status != k.before.status || k.after.body != k.before.body):
			t.Errorf("%s: answer changed across the crash:\nbefore %d %s\nafter  %d %s", k.key, k.before.status, k.before.body, k.after.status, k.after.body)
		}
		if k.after.replayed {
			replayed++
		} else {
			reexecuted++
			if k.before != nil {
				t.Errorf("%s: executed again although its answer was seen before the crash", k.key)
			}
		}
	}
	perKey := customersPerName(t, dsn)
	for _, k := range keys {
		name := "Crash " + k.key[len("crash-"):]
		if n := perKey[name]; n != 1 {
			t.Errorf("%s: %d customers, want exactly 1", k.key, n)
		}
	}
	if len(perKey) != len(keys) {
		t.Errorf("%d distinct customers for %d keys", len(perKey), len(keys))
	}
	t.Logf("engine=%s keys sent=%d answered before kill=%d committed before kill=%d (committed, answer not seen=%d) "+
		"replayed after restart=%d re-executed=%d waits on a lease=%d stuck after restart=%d",
		dbtest.Engine(), len(keys), answeredBefore, committed, committed-answeredBefore, replayed, reexecuted, waits.Load(), stuck)
	if t.Failed() {
		t.Logf("server log after restart:\n%s", srv2.stderr.String())
	}
}

type inProgressErr struct{ wait time.Duration }

func (e *inProgressErr) Error() string { return "idempotency key in progress" }

func openDB(t *testing.T, dsn string) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), dsn, db.Options{NoGroupCommit: true})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func countCustomers(t *testing.T, dsn string) int {
	t.Helper()
	d := openDB(t, dsn)
	defer d.Close()
	var n int
	if err := d.QueryRow(context.Background(), `SELECT COUNT(*) FROM customers WHERE name LIKE 'Crash %'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func customersPerName(t *testing.T, dsn string) map[string]int {
	t.Helper()
	d := openDB(t, dsn)
	defer d.Close()
	rows, err := d.Query(context.Background(), `SELECT name, COUNT(*) FROM customers WHERE name LIKE 'Crash %' GROUP BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var name string
		var n int
		if err := rows.Scan(&name, &n); err != nil {
			t.Fatal(err)
		}
		out[name] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
