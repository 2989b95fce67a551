package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kefu-cn/kefu/internal/app"
	"github.com/kefu-cn/kefu/internal/config"
	"github.com/kefu-cn/kefu/internal/org"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/db"
)

// server is a running Kefu instance with an admin's API token.
type server struct {
	app     *app.App
	db      *db.DB
	url     string
	token   string
	adminID int64
	http    *http.Client
	dir     string
	stop    func()
}

func startServer(ctx context.Context, o options) (*server, error) {
	cfg := config.Default()
	cfg.DB = o.DSN
	if cfg.DB == "" {
		cfg.DB = "sqlite:" + filepath.Join(o.Dir, "kefu.db")
	}
	cfg.KeyFile = filepath.Join(o.Dir, "kefu.keys")
	cfg.Log.Level = "error"
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	d, err := db.Open(ctx, cfg.DB, db.Options{NoGroupCommit: !o.GroupCommit})
	if err != nil {
		return nil, err
	}
	if o.WALCheckpoint > 0 && d.Dialect == db.SQLite {
		if _, err := d.W.ExecContext(ctx, "PRAGMA wal_autocheckpoint = "+strconv.Itoa(o.WALCheckpoint)); err != nil {
			d.Close()
			return nil, err
		}
	}
	if _, err := d.Migrate(ctx, nil); err != nil {
		d.Close()
		return nil, err
	}
	if k, v, ok := strings.Cut(o.FTSConfig, "="); ok && d.Dialect == db.SQLite {
		n, err := strconv.Atoi(v)
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("-fts-config %s: %w", o.FTSConfig, err)
		}
		if _, err := d.W.ExecContext(ctx, `INSERT INTO search_ticket (search_ticket, rank) VALUES (?, ?)`, k, n); err != nil {
			d.Close()
			return nil, fmt.Errorf("-fts-config %s: %w", o.FTSConfig, err)
		}
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := app.New(ctx, cfg, app.Options{DB: d, SkipMigrate: true, Log: log})
	if err != nil {
		d.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		d.Close()
		return nil, err
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = a.Serve(sctx, ln)
	}()
	s := &server{app: a, db: d, url: "http://" + ln.Addr().String(), dir: o.Dir,
		http: &http.Client{Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute},
			Timeout: 60 * time.Second}}
	s.stop = func() {
		cancel()
		<-done
		d.Close()
	}
	// A fresh admin for every run (the database may be reused).
	sys := authz.WithActor(ctx, authz.System("bench"))
	st, err := a.Org.CreateStaff(sys, org.StaffInput{Username: "bench" + strconv.FormatInt(time.Now().UnixNano()%1e9, 10),
		DisplayName: "Bench", Roles: []string{"admin"}})
	if err != nil {
		s.stop()
		return nil, fmt.Errorf("bench admin: %w", err)
	}
	s.adminID = st.ID
	if s.token, _, err = a.Auth.CreateToken(sys, st.ID, "bench"); err != nil {
		s.stop()
		return nil, fmt.Errorf("bench token: %w", err)
	}
	return s, nil
}

func (s *server) close() { s.stop() }

func (s *server) dialect() string { return s.db.Dialect.String() }

// adminCtx is a context acting as the bench admin (for service calls).
func (s *server) adminCtx(ctx context.Context) (context.Context, error) {
	actor, err := s.app.Org.LoadActor(authz.WithActor(ctx, authz.System("bench")), s.adminID)
	if err != nil {
		return nil, err
	}
	return authz.WithActor(ctx, actor), nil
}

// dbBytes is the size of the SQLite database with its WAL (0 on PostgreSQL).
func (s *server) dbBytes() int64 {
	if s.db.Path == "" {
		return 0
	}
	var n int64
	for _, suffix := range []string{"", "-wal"} {
		if fi, err := os.Stat(s.db.Path + suffix); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// checkpoint folds the WAL into the database file (SQLite).
func (s *server) checkpoint(ctx context.Context) {
	if s.db.Dialect == db.SQLite {
		_, _ = s.db.W.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	}
}

func gomaxprocs() int { return runtime.GOMAXPROCS(0) }

// procStatus reads a field of /proc/self/status in kB (VmHWM: peak RSS, VmRSS: RSS).
func procStatus(field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// latencies summarizes a set of request durations.
type latencies []time.Duration

func (l latencies) pct(p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	return l[min(len(l)-1, int(p*float64(len(l))))]
}

func (l latencies) summary() string {
	slices.Sort(l)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return fmt.Sprintf("p50 %6.2f ms  p95 %6.2f ms  p99 %6.2f ms  max %7.2f ms", ms(l.pct(0.50)), ms(l.pct(0.95)),
		ms(l.pct(0.99)), ms(l[len(l)-1]))
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadAvg is the 1-minute load average (other processes skew every number).
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}
