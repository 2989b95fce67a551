package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/kefu-cn/kefu/internal/app"
	"github.com/kefu-cn/kefu/internal/config"
	"github.com/kefu-cn/kefu/internal/demo"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/ticket"
)

func runServe(ctx context.Context, env *Env, args []string) error {
	start := time.Now()
	var c common
	var addr string
	var withDemo bool
	fs := newFlagSet(env, "serve", &c)
	fs.StringVar(&addr, "addr", "", "listen address (default :8080)")
	fs.BoolVar(&withDemo, "demo", false, "fill an empty database with demo data and print the demo logins")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return Usagef("unexpected argument %q", fs.Arg(0))
	}
	cfg, err := loadConfig(env, &c, func(cfg *config.Config) {
		if addr != "" {
			cfg.Addr = addr
		}
	})
	if err != nil {
		return err
	}
	log := newLogger(env.Stderr, cfg)
	app.Version = Version
	a, err := app.New(ctx, cfg, app.Options{Log: log})
	if err != nil {
		return startError(err)
	}
	defer a.Close()

	if withDemo {
		deps := demo.Deps{Org: a.Org, Auth: a.Auth, Customer: a.Customer, Clock: a.Clock,
			Tickets: &ticket.Deps{DB: a.DB, Audit: a.Audit, Log: a.Log, Customers: a.Customer, Staff: a.Org,
				Calendars: a.Calendars}, KB: a.KB, Complaints: true}
		logins, err := demo.Seed(ctx, deps)
		if err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
		// Three months of return visits replayed through the rule engine and the visit work.
		if _, err := demo.Revisits(ctx, deps, demo.RevisitOptions{Complaints: a.Complaint}); err != nil {
			return fmt.Errorf("demo data: return visits: %w", err)
		}
		// Activities, cooperation records, field visits and surveys of the same three months.
		if _, err := demo.Engagement(ctx, deps, demo.EngagementOptions{Activity: a.Activity, FieldVisit: a.FieldVisit,
			Revisit: a.Revisit}); err != nil {
			return fmt.Errorf("demo data: engagement: %w", err)
		}
		printLogins(env, logins)
	}
	if n, err := a.Org.CountStaff(ctx); err == nil && n == 0 {
		fmt.Fprintln(env.Stdout, "No staff accounts exist yet. Create the first administrator with:")
		fmt.Fprintln(env.Stdout, "  kefu user add --username admin --role admin --name Administrator   (the password is read from standard input)")
		fmt.Fprintln(env.Stdout, "or start once with --demo to load demo data.")
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return Usagef("cannot listen on %s: %v", cfg.Addr, err)
	}
	fmt.Fprintf(env.Stdout, "Kefu %s listening on %s (database: %s)\n", Version, displayAddr(ln.Addr()), a.DB.Dialect)
	if exposedWithoutHTTPS(ln.Addr(), cfg) {
		log.Warn("listening on a non-loopback address over plain HTTP: cookies are not Secure and no HSTS is sent. "+
			"Put Kefu behind a TLS proxy and set http.public_url = \"https://...\" (KEFU_PUBLIC_URL), "+
			"or list the proxy in http.trusted_proxies so that its X-Forwarded-Proto: https is believed",
			slog.String("addr", ln.Addr().String()))
	}
	log.Info("ready", slog.String("addr", ln.Addr().String()), slog.Duration("startup", time.Since(start)))
	return a.Serve(ctx, ln)
}

// exposedWithoutHTTPS reports whether the server listens beyond loopback while nothing
// says the site is served over HTTPS (Kefu itself speaks plain HTTP): neither an
// https:// public URL nor a trusted proxy that could forward X-Forwarded-Proto.
func exposedWithoutHTTPS(addr net.Addr, cfg config.Config) bool {
	if cfg.PublicHTTPS() || len(cfg.HTTP.TrustedProxies) > 0 {
		return false
	}
	host, _, err := net.SplitHostPort(addr.String())
	if err != nil {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err != nil || !ip.IsLoopback()
}

func printLogins(env *Env, logins []demo.Login) {
	if len(logins) == 0 {
		fmt.Fprintln(env.Stdout, "Demo data: the database already has staff; nothing added.")
		return
	}
	fmt.Fprintln(env.Stdout, "Demo data loaded. Demo logins (username / password / role):")
	for _, l := range logins {
		fmt.Fprintf(env.Stdout, "  %-12s %-12s %-10s %s\n", l.Username, l.Password, l.Role, l.Name)
	}
}

func displayAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if host == "::" || host == "0.0.0.0" || host == "" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// startError classifies start-up failures: bad DSNs and key files are the operator's
// input (exit 2), the rest are failures (exit 1).
func startError(err error) error {
	msg := err.Error()
	if strings.Contains(msg, db.ErrBadDSN.Error()) || strings.Contains(msg, "key file") {
		return Usagef("%v", err)
	}
	return err
}

func runMigrate(ctx context.Context, env *Env, args []string) error {
	var c common
	fs := newFlagSet(env, "migrate", &c)
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(env, &c, nil)
	if err != nil {
		return err
	}
	d, err := db.Open(ctx, cfg.DB, db.Options{})
	if err != nil {
		return startError(err)
	}
	defer d.Close()
	n, err := d.Migrate(ctx, newLogger(env.Stderr, cfg))
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "migrations applied: %d (%s schema is current)\n", n, d.Dialect)
	return nil
}
