// Package app is the composition root: it opens the database, loads keys and catalogs,
// builds every service, mounts every route table behind the middleware chain, and runs
// the HTTP server and background loops until the context ends.
package app

import (
	"context"
	"errors"
	"fmt"
	"github.com/kefu-cn/kefu/internal/activity"
	"github.com/kefu-cn/kefu/internal/complaint"
	"github.com/kefu-cn/kefu/internal/fieldvisit"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/kefu-cn/kefu/internal/app/openapi"
	"github.com/kefu-cn/kefu/internal/config"
	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/kb"
	"github.com/kefu-cn/kefu/internal/org"
	"github.com/kefu-cn/kefu/internal/platform/audit"
	"github.com/kefu-cn/kefu/internal/platform/auth"
	"github.com/kefu-cn/kefu/internal/platform/calendar"
	"github.com/kefu-cn/kefu/internal/platform/clock"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/events"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
	"github.com/kefu-cn/kefu/internal/platform/idempotency"
	"github.com/kefu-cn/kefu/internal/platform/jobs"
	"github.com/kefu-cn/kefu/internal/platform/mail"
	"github.com/kefu-cn/kefu/internal/platform/secure"
	"github.com/kefu-cn/kefu/internal/platform/web"
	"github.com/kefu-cn/kefu/internal/portal"
	"github.com/kefu-cn/kefu/internal/revisit"
	"github.com/kefu-cn/kefu/internal/survey"
	"github.com/kefu-cn/kefu/internal/ticket"
)

// App is a wired Kefu instance.
type App struct {
	Config  config.Config
	Log     *slog.Logger
	DB      *db.DB
	Keys    *secure.Keyring
	Catalog *i18n.Catalog
	Clock   clock.Clock
	Audit   *audit.Log
	Auth    *auth.Service
	Org     *org.Service
	// Customer is the customer-files capability.
	Customer *customer.Service
	// Calendars are the business calendars and holiday years (SLA clocks).
	Calendars *calendar.Registry
	Web       *web.Engine
	Router    *httpx.Router
	Idem      *idempotency.Store
	// Jobs runs durable background jobs on every node (exactly once per job).
	Jobs *jobs.Runner
	// Events is the after-commit event bus (bridged across nodes on PostgreSQL).
	Events *events.Bus
	// Mail keeps the SMTP settings and sends customer notifications.
	Mail *mail.Service
	// KB is the knowledge base (FAQ).
	KB *kb.Service
	// Ticket is the service-request capability.
	Ticket *ticket.Service
	// Complaint is the complaint workflow beside complaint requests.
	Complaint *complaint.Service
	// Activity keeps activities with customers (their end triggers return visits).
	Activity *activity.Service
	// Revisit is the return-visit rule engine and the visit work.
	Revisit *revisit.Service
	// FieldVisit keeps the salespeople's customer visits.
	FieldVisit *fieldvisit.Service
	// Survey is the satisfaction surveys.
	Survey *survey.Service
	// Portal is the customer self-service portal.
	Portal *portal.Service
	// APIDocs serves the OpenAPI document of /api/v1 and the docs page.
	APIDocs *openapi.Docs

	handler http.Handler
	started time.Time
}

// Options are the parts a caller (tests, the CLI) may supply.
type Options struct {
	Log   *slog.Logger
	Clock clock.Clock
	// DB, when set, is used instead of opening cfg.DB (tests); the caller closes it.
	DB *db.DB
	// SkipMigrate leaves the schema alone (the caller migrated already).
	SkipMigrate bool
}

// New wires an App: database (migrated), keys (created on first run), services, routes.
func New(ctx context.Context, cfg config.Config, o Options) (*App, error) {
	a := &App{Config: cfg, Log: o.Log, Clock: o.Clock, DB: o.DB, started: time.Now()}
	if a.Log == nil {
		a.Log = slog.Default()
	}
	if a.Clock == nil {
		a.Clock = clock.Real{}
	}
	var err error
	if a.DB == nil {
		if a.DB, err = db.Open(ctx, cfg.DB, db.Options{}); err != nil {
			return nil, err
		}
	}
	// Keys first: a bad key file must stop start-up before anything is written, and a
	// missing one is only created for a database that holds no data yet.
	if a.Keys, err = secure.LoadOrCreate(cfg.KeyFile, a.freshDatabase(ctx)); err != nil {
		a.closeOwned(o)
		return nil, err
	}
	if !o.SkipMigrate {
		n, err := a.DB.Migrate(ctx, nil)
		if err != nil {
			a.closeOwned(o)
			return nil, err
		}
		if n > 0 {
			a.Log.Info("database migrated", slog.Int("applied", n), slog.String("engine", a.DB.Dialect.String()))
		}
	}
	if a.Catalog, err = i18n.Load(); err != nil {
		a.closeOwned(o)
		return nil, err
	}
	if err := a.wire(ctx); err != nil {
		a.closeOwned(o)
		return nil, err
	}
	return a, nil
}

// freshDatabase reports whether the database has never recorded anything: every change
// writes an audit entry, so an empty audit chain (or no schema at all) means no data
// exists that an earlier key could have encrypted or signed.
func (a *App) freshDatabase(ctx context.Context) bool {
	var seq int64
	if err := a.DB.QueryRow(ctx, `SELECT seq FROM audit_head WHERE id = 1`).Scan(&seq); err != nil {
		return true
	}
	return seq == 0
}

func (a *App) closeOwned(o Options) {
	if o.DB == nil && a.DB != nil {
		a.DB.Close()
	}
}

func (a *App) wire(ctx context.Context) error {
	a.Jobs = jobs.New(jobs.Options{DB: a.DB, Clock: a.Clock, Log: a.Log})
	a.Audit = audit.New(audit.Options{DB: a.DB, Keys: a.Keys, Clock: a.Clock, Log: a.Log})
	a.Events = events.New(events.Options{DB: a.DB, Log: a.Log, NodeID: a.Jobs.NodeID()})
	a.Mail = mail.New(mail.Options{DB: a.DB, Keys: a.Keys, Audit: a.Audit, Clock: a.Clock, Log: a.Log,
		Catalog: a.Catalog, BaseURL: a.Config.BaseURL})
	a.Org = org.New(org.Deps{DB: a.DB, Audit: a.Audit, Clock: a.Clock, Keys: a.Keys})
	a.Auth = auth.New(auth.Options{
		DB: a.DB, Keys: a.Keys, Clock: a.Clock, Audit: a.Audit, Log: a.Log,
		Principals: a.Org, Session: a.Config.Session, Login: a.Config.Login,
		MinPasswordLength: a.Config.Security.MinPasswordLength,
	})
	a.Org.SetAuth(a.Auth)
	a.Calendars = calendar.NewRegistry(calendar.RegistryOptions{DB: a.DB, Audit: a.Audit, Clock: a.Clock, Log: a.Log})
	if err := a.Org.SeedRoles(ctx); err != nil {
		return fmt.Errorf("app: seed roles: %w", err)
	}
	// Migration 00011 added staff.mobile_enc; the key ring is not reachable from SQL, so
	// mobiles stored in clear before it are encrypted here (none left: one empty query).
	if n, err := a.Org.EncryptStaffMobiles(ctx); err != nil {
		return fmt.Errorf("app: encrypt staff mobiles: %w", err)
	} else if n > 0 {
		a.Log.Info("app: staff mobile numbers encrypted", "count", n)
	}
	cust, err := customer.New(customer.Deps{DB: a.DB, Audit: a.Audit, Keys: a.Keys, Clock: a.Clock,
		Staff: a.Org, Log: a.Log})
	if err != nil {
		return fmt.Errorf("app: customer: %w", err)
	}
	a.Customer = cust
	a.Customer.RegisterMergeJobs(a.Jobs)
	a.Customer.RegisterClassifyJobs(a.Jobs) // nightly re-evaluation at 02:00 China time
	if a.KB, err = kb.New(kb.Deps{DB: a.DB, Audit: a.Audit, Clock: a.Clock, Log: a.Log}); err != nil {
		return fmt.Errorf("app: kb: %w", err)
	}
	if a.Ticket, err = ticket.New(ticket.Deps{DB: a.DB, Audit: a.Audit, Clock: a.Clock, Log: a.Log, Events: a.Events,
		Jobs: a.Jobs, Customers: a.Customer, Staff: a.Org, Calendars: a.Calendars, Mail: a.Mail, Articles: a.KB}); err != nil {
		return fmt.Errorf("app: ticket: %w", err)
	}
	a.Customer.AddHistorySource(a.Ticket) // the customer page lists the customer's requests
	if a.Complaint, err = complaint.New(complaint.Deps{DB: a.DB, Audit: a.Audit, Clock: a.Clock, Log: a.Log,
		Events: a.Events, Jobs: a.Jobs, Tickets: a.Ticket, Staff: a.Org, Customers: a.Customer,
		Calendars: a.Calendars}); err != nil {
		return fmt.Errorf("app: complaint: %w", err)
	}
	if err := a.Customer.LinkTable("complaints", "customer_id"); err != nil { // merges move complaints
		return fmt.Errorf("app: complaint: %w", err)
	}
	// and the customer's complaints, with their stage
	a.Customer.AddHistorySource(a.Complaint)
	if err := a.Customer.LinkTable("tickets", "customer_id"); err != nil { // merges move requests
		return fmt.Errorf("app: ticket: %w", err)
	}
	if a.Activity, err = activity.New(activity.Deps{DB: a.DB, Audit: a.Audit, Clock: a.Clock, Log: a.Log,
		Customers: a.Customer, Staff: a.Org}); err != nil {
		return fmt.Errorf("app: activity: %w", err)
	}
	for _, t := range []string{"activity_participants", "customer_cooperations"} { // merges move them
		if err := a.Customer.LinkTable(t, "customer_id"); err != nil {
			return fmt.Errorf("app: activity: %w", err)
		}
	}
	a.Customer.AddHistorySource(a.Activity) // the customer page lists the activities the customer took part in
	if a.Revisit, err = revisit.New(revisit.Deps{DB: a.DB, Audit: a.Audit, Clock: a.Clock, Log: a.Log,
		Events: a.Events, Jobs: a.Jobs, Tickets: a.Ticket, Complaints: a.Complaint, Customers: a.Customer,
		Activities: a.Activity, Staff: a.Org, Calendars: a.Calendars, Mail: a.Mail}); err != nil {
		return fmt.Errorf("app: revisit: %w", err)
	}
	a.Revisit.SetCooperations(a.Customer) // coop_monthly plans visit the customers in a cooperation
	if a.FieldVisit, err = fieldvisit.New(fieldvisit.Deps{DB: a.DB, Audit: a.Audit, Clock: a.Clock, Log: a.Log,
		Keys: a.Keys, Customers: a.Customer, Staff: a.Org, Revisits: a.Revisit}); err != nil {
		return fmt.Errorf("app: fieldvisit: %w", err)
	}
	if a.Survey, err = survey.New(survey.Deps{DB: a.DB, Audit: a.Audit, Clock: a.Clock, Log: a.Log, Jobs: a.Jobs,
		Catalog: a.Catalog, Tickets: a.Ticket, Revisits: a.Revisit, Customers: a.Customer, Staff: a.Org,
		Mail: a.Mail, BaseURL: a.Config.BaseURL}); err != nil {
		return fmt.Errorf("app: survey: %w", err)
	}
	if err := a.Customer.LinkTable("survey_invites", "customer_id"); err != nil { // merges move surveys
		return fmt.Errorf("app: survey: %w", err)
	}
	if a.Portal, err = portal.New(portal.Deps{DB: a.DB, Audit: a.Audit, Keys: a.Keys, Clock: a.Clock, Log: a.Log,
		Catalog: a.Catalog, Customers: a.Customer, Tickets: portal.TicketService(a.Ticket), KB: a.KB, Mail: a.Mail}); err != nil {
		return fmt.Errorf("app: portal: %w", err)
	}
	a.Portal.RegisterJobs(a.Jobs)
	a.Portal.SetComplaints(a.Complaint) // the portal request page shows a complaint's stage
	a.Portal.SetLetters(a.Complaint)    // and the published public letters
	a.Portal.SetSurveys(a.Survey)       // the request list offers the customer's open surveys
	eng, err := web.New(web.Options{
		Catalog: a.Catalog,
		Log:     a.Log,
		Pages:   pageTemplates(),
		Nav:     navigation(),
	})
	if err != nil {
		return err
	}
	a.Web = eng
	a.Auth.SetWeb(eng)
	a.Org.SetWeb(eng)
	a.Audit.SetWeb(eng)
	a.Customer.SetWeb(eng)
	a.Mail.SetWeb(eng)
	a.Calendars.SetWeb(eng)
	a.KB.SetWeb(eng)
	a.Ticket.SetWeb(eng)
	a.Complaint.SetWeb(eng)
	a.Activity.SetWeb(eng)
	a.Revisit.SetWeb(eng)
	a.FieldVisit.SetWeb(eng)
	a.Survey.SetWeb(eng)
	a.Portal.SetWeb(eng)

	a.Idem = idempotency.New(idempotency.Options{DB: a.DB, Clock: a.Clock, Log: a.Log,
		Lease: a.Config.Idempotency.Lease.Duration, Retention: a.Config.Idempotency.Retention.Duration})
	a.Router = httpx.NewRouter()
	a.Router.PageError = eng.PageError
	a.Router.PageErrorUnder("/portal/", a.Portal.PageError)
	a.Router.Mount(a.shellRoutes()...)
	a.Router.Mount(a.Auth.Routes()...)
	a.Router.Mount(a.Org.Routes()...)
	a.Router.Mount(a.Audit.Routes()...)
	a.Router.Mount(a.Customer.Routes()...)
	a.Router.Mount(a.Mail.Routes()...)
	a.Router.Mount(a.Calendars.Routes()...)
	a.Router.Mount(a.KB.Routes()...)
	a.Router.Mount(a.Ticket.Routes()...)
	a.Router.Mount(a.Complaint.Routes()...)
	a.Router.Mount(a.Customer.CooperationRoutes()...)
	a.Router.Mount(a.Activity.Routes()...)
	a.Router.Mount(a.Revisit.Routes()...)
	a.Router.Mount(a.FieldVisit.Routes()...)
	a.Router.Mount(a.Survey.Routes()...)
	a.Router.Mount(a.Portal.Routes()...)
	// The API document last: it describes every route mounted above (and its own).
	a.APIDocs = openapi.New(eng)
	a.Router.Mount(a.APIDocs.Routes()...)
	spec, err := a.APIDocs.Build(a.Router.Routes(), Version)
	if err != nil {
		return fmt.Errorf("app: api document: %w", err)
	}
	if len(spec.Undocumented) > 0 || len(spec.Unrouted) > 0 {
		a.Log.Warn("app: api document out of step with the routes",
			"undocumented", spec.Undocumented, "unrouted", spec.Unrouted)
	}

	proxies, err := a.Config.Proxies()
	if err != nil {
		return err
	}
	a.handler = httpx.Chain(a.Router, // unknown addresses get the error contract
		httpx.Recover,
		httpx.Base(a.Log, a.Catalog, proxies),
		httpx.Recover,
		httpx.HTTPS(a.Config.PublicHTTPS(), proxies), // before anything that sets cookies or HSTS
		httpx.SecurityHeaders,
		a.Router.BodyLimit(a.Config.HTTP.MaxBodyBytes), // routes may declare a larger MaxBody (uploads)
		httpx.Locale,
		a.Router.PageErrorsInContext, // pages hit by a failure before routing (database away) get the error page
		httpx.CrossOrigin,
		a.Auth.Middleware,
		a.Portal.Middleware, // portal sessions, under /portal only
		a.Idem.Middleware,
	)
	return nil
}

// Handler is the full HTTP handler (middleware and routes).
func (a *App) Handler() http.Handler { return a.handler }

// Close releases the database.
func (a *App) Close() error { return a.DB.Close() }

// Serve runs the HTTP server on ln and the background loops until ctx ends, then shuts
// down gracefully: in-flight requests get the configured grace period, a final audit
// checkpoint is written.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	bg, stopBG := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.Audit.RunCheckpoints(bg, a.Config.Audit.CheckpointInterval.Duration)
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.Auth.RunCleanup(bg, time.Hour)
	}()

	wg.Add(1)
	go func() {
		defer wg.Done()
		a.Idem.Run(bg, time.Hour)
	}()
	wg.Add(1)
	go func() { // follow `kefu keys rotate` (docs/operations.md)
		defer wg.Done()
		a.Keys.Watch(bg, 10*time.Second, func(active string, err error) {
			if err != nil {
				a.Log.Error("key file not reloaded", slog.String("err", err.Error()))
				return
			}
			a.Log.Info("key file reloaded", slog.String("active_key", active))
		})
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := a.Jobs.Run(bg); err != nil && bg.Err() == nil {
			a.Log.Error("jobs", slog.String("err", err.Error()))
		}
	}()

	wg.Add(1)
	go func() { // live updates across nodes (PostgreSQL LISTEN/NOTIFY; returns at once on SQLite)
		defer wg.Done()
		if err := a.Events.Run(bg); err != nil && bg.Err() == nil {
			a.Log.Error("events", slog.String("err", err.Error()))
		}
	}()

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	shCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.Config.HTTP.ShutdownGrace.Duration)
	defer cancel()
	if err := srv.Shutdown(shCtx); err != nil {
		a.Log.Warn("shutdown", slog.String("err", err.Error()))
	}
	stopBG()
	wg.Wait()
	if err := a.Audit.Checkpoint(shCtx); err != nil {
		a.Log.Warn("final audit checkpoint", slog.String("err", err.Error()))
	}
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	return nil
}
