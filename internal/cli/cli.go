// Package cli implements the kefu subcommands (SPEC §3.1). Each command parses its own
// flags with the standard flag package, loads the configuration (defaults < kefu.toml <
// KEFU_* < flags) and calls the same services the server uses, as a system actor.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/kefu-cn/kefu/internal/config"
)

// Exit codes.
const (
	ExitOK    = 0
	ExitFail  = 1 // the command ran and found a problem (e.g. a broken audit chain)
	ExitUsage = 2 // bad arguments, configuration or input
)

// Build information, set with -ldflags "-X github.com/kefu-cn/kefu/internal/cli.Version=..."
var (
	Version   = "dev"
	Commit    = ""
	BuildDate = ""
)

// Env is what every command gets: its I/O, the environment and the parsed common flags.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
}

// usageError is shown as one line on stderr with exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// Usagef builds a usage error (exit 2).
func Usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

type command struct {
	summary string
	run     func(ctx context.Context, env *Env, args []string) error
}

func commands() map[string]command {
	return map[string]command{
		"serve":   {"run the server", runServe},
		"migrate": {"apply database migrations", runMigrate},
		"version": {"print version, commit and build date", runVersion},
		"user":    {"manage staff accounts: user add | user passwd", runUser},
		"token":   {"manage API tokens: token create", runToken},
		"audit":   {"audit log tools: audit verify", runAudit},
		"import":  {"import customers from .xlsx or .csv: import customers FILE [--dry-run]", runImport},
		"export":  {"export customers to .xlsx or .csv: export customers FILE [--clear]", runExport},
		"keys":    {"encryption keys: keys rotate (re-encrypts personal data)", runKeys},
	}
}

// Run executes the command line args (args[0] is the program name) and returns the exit code.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	env := &Env{Stdin: stdin, Stdout: stdout, Stderr: stderr, Getenv: os.Getenv}
	return RunEnv(ctx, env, args)
}

// RunEnv is Run with an explicit environment (tests).
func RunEnv(ctx context.Context, env *Env, args []string) int {
	cmds := commands()
	if len(args) < 2 || args[1] == "help" || args[1] == "-h" || args[1] == "--help" {
		printUsage(env.Stderr, cmds)
		if len(args) < 2 {
			return ExitUsage
		}
		return ExitOK
	}
	cmd, ok := cmds[args[1]]
	if !ok {
		fmt.Fprintf(env.Stderr, "kefu: unknown command %q (run 'kefu help')\n", args[1])
		return ExitUsage
	}
	err := cmd.run(ctx, env, args[2:])
	var ue usageError
	var ce codeError
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, flag.ErrHelp):
		return ExitOK
	case errors.As(err, &ue):
		fmt.Fprintf(env.Stderr, "kefu %s: %s\n", args[1], oneLine(ue.msg))
		return ExitUsage
	case errors.As(err, &ce):
		if ce.msg != "" {
			fmt.Fprintf(env.Stderr, "kefu %s: %s\n", args[1], oneLine(ce.msg))
		}
		return ce.code
	default:
		fmt.Fprintf(env.Stderr, "kefu %s: %s\n", args[1], oneLine(err.Error()))
		return ExitFail
	}
}

// codeError ends a command with a given exit code and message.
type codeError struct {
	code int
	msg  string
}

func (e codeError) Error() string { return e.msg }

// Exitf ends a command with code and a one-line message.
func Exitf(code int, format string, a ...any) error {
	return codeError{code: code, msg: fmt.Sprintf(format, a...)}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func printUsage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "kefu — customer service center\n\nUsage: kefu <command> [flags]\n\nCommands:")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nEvery command reads kefu.toml (or --config) and KEFU_* variables; flags win.")
}

// common holds the flags every database command accepts.
type common struct {
	config string
	db     string
}

func newFlagSet(env *Env, name string, c *common) *flag.FlagSet {
	fs := flag.NewFlagSet("kefu "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	if c != nil {
		fs.StringVar(&c.config, "config", "", "config file (default ./kefu.toml when present, or KEFU_CONFIG)")
		fs.StringVar(&c.db, "db", "", "database DSN: sqlite:PATH or postgres://... (default "+config.DefaultDB+")")
	}
	return fs
}

// parse parses flags, turning flag errors into usage errors.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return Usagef("%v", err)
	}
	return nil
}

// loadConfig applies the common flags over file and environment settings and validates.
func loadConfig(env *Env, c *common, override func(*config.Config)) (config.Config, error) {
	cfg, err := config.Load(c.config, env.Getenv)
	if err != nil {
		return cfg, Usagef("%v", err)
	}
	if c.db != "" {
		cfg.DB = c.db
	}
	if override != nil {
		override(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, Usagef("configuration: %v", err)
	}
	return cfg, nil
}

// newLogger builds the process logger from the configuration.
func newLogger(w io.Writer, cfg config.Config) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.Log.Level))
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func runVersion(_ context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "version", nil)
	if err := parse(fs, args); err != nil {
		return err
	}
	commit, date := Commit, BuildDate
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision" && commit == "":
				commit = s.Value
			case s.Key == "vcs.time" && date == "":
				date = s.Value
			}
		}
	}
	if commit == "" {
		commit = "unknown"
	}
	if date == "" {
		date = "unknown"
	}
	fmt.Fprintf(env.Stdout, "kefu %s\ncommit %s\nbuilt %s\n", Version, commit, date)
	return nil
}
