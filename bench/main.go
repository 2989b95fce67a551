// Command bench is the load harness for SPEC §4.2: it starts a real Kefu server (the
// application of internal/app on a fresh SQLite database by default, served by
// net/http on 127.0.0.1) and drives it over loopback like a client would. See
// README.md for the scenarios, the commands and the results.
//
//	go run ./bench -scenario create-customers -n 30000 -c 16
//	go run ./bench -scenario search-customers -docs 1000000
//	go run ./bench -scenario import-customers -rows 100000
//	go run ./bench -scenario create-tickets -n 30000 -c 16
//	go run ./bench -scenario ticket-queue -docs 1000000
//	go run ./bench -scenario search-tickets -docs 1000000
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
)

// options are the harness's flags.
type options struct {
	Scenario    string
	N           int    // create: requests
	C           int    // create, search: concurrent clients
	Rate        int    // create: paced requests per second (0 = as fast as possible)
	Body        string // create: "mixed" (demo-like persons and organisations) or "simple"
	Docs        int    // search, ticket-queue: customers or requests to load
	Runs        int    // search: requests per query
	Rows        int    // import: rows in the .xlsx
	Customers   int    // ticket scenarios: customers the requests belong to
	DSN         string // database (default: a fresh SQLite file in Dir)
	Dir         string // working directory (default: a temporary one, removed unless Keep)
	Keep        bool
	GroupCommit bool
	CPUProfile  string
	Seed        uint64
	// WALCheckpoint, when > 0, sets PRAGMA wal_autocheckpoint on the SQLite writer
	// (an experiment: SQLite's default is 1000 pages).
	WALCheckpoint int
	// FTSConfig, when set ("automerge=8"), configures the SQLite FTS5 request index
	// (an experiment).
	FTSConfig string
}

func main() {
	var o options
	fs := flag.NewFlagSet("bench", flag.ExitOnError)
	fs.StringVar(&o.Scenario, "scenario", "create-customers", "create-customers | search-customers | import-customers | create-tickets | ticket-queue | search-tickets")
	fs.IntVar(&o.N, "n", 30000, "create: number of POST /api/v1/customers (or /api/v1/tickets) requests")
	fs.IntVar(&o.C, "c", 16, "concurrent HTTP clients")
	fs.IntVar(&o.Rate, "rate", 0, "create: pace the requests at this many per second (0 = closed loop, as fast as possible)")
	fs.StringVar(&o.Body, "body", "mixed", "create: request bodies, mixed (persons and organisations with contacts) or simple (a person)")
	fs.IntVar(&o.Docs, "docs", 1000000, "search, ticket-queue: customers or requests to load before measuring (skipped when the database has them already)")
	fs.IntVar(&o.Runs, "runs", 200, "search: requests per query")
	fs.IntVar(&o.Rows, "rows", 100000, "import: rows in the generated .xlsx")
	fs.IntVar(&o.Customers, "customers", 300, "ticket scenarios: customers the requests belong to (created first when missing)")
	fs.StringVar(&o.DSN, "db", "", "database DSN (default: sqlite:DIR/kefu.db); reuse one with -dir DIR -keep")
	fs.StringVar(&o.Dir, "dir", "", "working directory for the database, keys and files (default: a temporary directory)")
	fs.BoolVar(&o.Keep, "keep", false, "keep the working directory")
	fs.BoolVar(&o.GroupCommit, "group-commit", true, "SQLite group commit (db.Options.NoGroupCommit = !this)")
	fs.StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile of the whole process (client and server) to this file")
	fs.Uint64Var(&o.Seed, "seed", 7, "generator seed")
	fs.IntVar(&o.WALCheckpoint, "wal-autocheckpoint", 0, "experiment: PRAGMA wal_autocheckpoint on the SQLite writer (0 = leave the default)")
	fs.StringVar(&o.FTSConfig, "fts-config", "", "experiment: key=value FTS5 configuration of the SQLite request index (automerge, crisismerge, usermerge)")
	_ = fs.Parse(os.Args[1:])

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options, w io.Writer) (err error) {
	if o.Dir == "" {
		if o.Dir, err = os.MkdirTemp("", "kefu-bench-"); err != nil {
			return err
		}
		if !o.Keep {
			defer os.RemoveAll(o.Dir)
		}
	} else if err := os.MkdirAll(o.Dir, 0o750); err != nil {
		return err
	}
	if o.CPUProfile != "" {
		f, err := os.Create(o.CPUProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	s, err := startServer(ctx, o)
	if err != nil {
		return err
	}
	defer s.close()
	fmt.Fprintf(w, "kefu bench: %s on %s (%s, group commit %v), GOMAXPROCS %d\n", o.Scenario, s.url, s.dialect(),
		o.GroupCommit, gomaxprocs())
	switch strings.ToLower(o.Scenario) {
	case "create-customers", "create":
		return benchCreate(ctx, s, o, w)
	case "search-customers", "search":
		return benchSearch(ctx, s, o, w)
	case "import-customers", "import":
		return benchImport(ctx, s, o, w)
	case "create-tickets":
		return benchCreateTickets(ctx, s, o, w)
	case "ticket-queue":
		return benchTicketQueue(ctx, s, o, w)
	case "search-tickets":
		return benchSearchTickets(ctx, s, o, w)
	}
	return errors.New("unknown scenario " + o.Scenario)
}
