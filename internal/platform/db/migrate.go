package db

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationsFS embed.FS

// advisoryLockID guards migrations on PostgreSQL so that several nodes starting together
// migrate exactly once ("kefu" in ASCII).
const advisoryLockID int64 = 0x6b656675

// MigrationsFS returns the embedded migrations of a dialect.
func MigrationsFS(d Dialect) fs.FS {
	sub, err := fs.Sub(migrationsFS, "migrations/"+d.String())
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return sub
}

func (d *DB) provider(log *slog.Logger) (*goose.Provider, error) {
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	if log != nil {
		opts = append(opts, goose.WithSlog(log))
	}
	dialect := goose.DialectSQLite3
	if d.Dialect == Postgres {
		dialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(advisoryLockID), lock.WithLockTimeout(1, 300))
		if err != nil {
			return nil, fmt.Errorf("db: migration lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(dialect, d.W, MigrationsFS(d.Dialect), opts...)
	if err != nil {
		return nil, fmt.Errorf("db: migrations: %w", err)
	}
	return p, nil
}

// Migrate applies every pending migration and returns how many ran.
func (d *DB) Migrate(ctx context.Context, log *slog.Logger) (int, error) {
	p, err := d.provider(log)
	if err != nil {
		return 0, err
	}
	res, err := p.Up(ctx)
	if err != nil {
		return len(res), fmt.Errorf("db: migrate: %w", err)
	}
	return len(res), nil
}

// SchemaCurrent reports whether every embedded migration has been applied.
func (d *DB) SchemaCurrent(ctx context.Context) (bool, error) {
	p, err := d.provider(nil)
	if err != nil {
		return false, err
	}
	current, target, err := p.GetVersions(ctx)
	if err != nil {
		return false, fmt.Errorf("db: schema version: %w", err)
	}
	return current >= target, nil
}
