package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/kefu-cn/kefu/internal/app"
	"github.com/kefu-cn/kefu/internal/org"
	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/authz"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
)

// runUser is `kefu user add|passwd`.
func runUser(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 {
		return Usagef("missing subcommand: kefu user add --username U --role R [--dept D] [--name N] | kefu user passwd U")
	}
	switch args[0] {
	case "add":
		return runUserAdd(ctx, env, args[1:])
	case "passwd":
		return runUserPasswd(ctx, env, args[1:])
	}
	return Usagef("unknown subcommand %q (want add or passwd)", args[0])
}

// runToken is `kefu token create`.
func runToken(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 || args[0] != "create" {
		return Usagef("usage: kefu token create --user U [--name N]")
	}
	return runTokenCreate(ctx, env, args[1:])
}

// openApp builds the application exactly as the server does (migrating the database
// and loading or creating the key file) for a command acting as the system actor "cli".
func openApp(ctx context.Context, env *Env, c *common) (*app.App, context.Context, error) {
	cfg, err := loadConfig(env, c, nil)
	if err != nil {
		return nil, nil, err
	}
	log := newLogger(env.Stderr, cfg)
	if cfg.Log.Level == "info" { // keep command output quiet unless asked otherwise
		log = slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	a, err := app.New(ctx, cfg, app.Options{Log: log})
	if err != nil {
		return nil, nil, startError(err)
	}
	return a, authz.WithActor(ctx, authz.System("cli")), nil
}

// readPassword reads the first line of standard input (never an argument). On a
// terminal it prompts on standard error first.
func readPassword(env *Env, prompt string) (string, error) {
	if f, ok := env.Stdin.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			fmt.Fprint(env.Stderr, prompt)
		}
	}
	line, err := bufio.NewReader(env.Stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", Usagef("reading the password from standard input: %v", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", Usagef("empty password: give it on the first line of standard input")
	}
	return pw, nil
}

// inputError turns a validation, conflict or not-found error into a one-line usage
// error (exit 2) naming each problem field; other errors pass through.
func inputError(a *app.App, err error) error {
	e, ok := apperr.As(err)
	if !ok {
		return err
	}
	switch e.Kind {
	case apperr.Invalid, apperr.Conflict, apperr.NotFound, apperr.Malformed:
	default:
		return err
	}
	lang := i18n.En
	if len(e.Fields) == 0 {
		return Usagef("%s", a.Catalog.Msg(lang, e.Msg))
	}
	names := make([]string, 0, len(e.Fields))
	for f := range e.Fields {
		names = append(names, f)
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	for _, f := range names {
		parts = append(parts, cliField(f)+": "+a.Catalog.Msg(lang, e.Fields[f]))
	}
	return Usagef("%s", strings.Join(parts, "; "))
}

// cliField names a service field by the flag that sets it.
func cliField(f string) string {
	switch f {
	case "roles":
		return "role"
	case "dept_id", "team_id":
		return "dept"
	case "display_name":
		return "name"
	}
	return f
}

func runUserAdd(ctx context.Context, env *Env, args []string) error {
	var c common
	var username, role, dept, name string
	fs := newFlagSet(env, "user add", &c)
	fs.StringVar(&username, "username", "", "sign-in name (3-32 of a-z 0-9 . _ -)")
	fs.StringVar(&role, "role", "", "role code (admin, director, supervisor, agent, qa, archivist, sales, or a custom role)")
	fs.StringVar(&dept, "dept", "", "department code or id")
	fs.StringVar(&name, "name", "", "display name (default: the username)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return Usagef("unexpected argument %q (the password is read from standard input)", fs.Arg(0))
	}
	if username == "" || role == "" {
		return Usagef("--username and --role are required")
	}
	if name == "" {
		name = username
	}
	a, sctx, err := openApp(ctx, env, &c)
	if err != nil {
		return err
	}
	defer a.Close()
	in := org.StaffInput{Username: username, DisplayName: name, Roles: []string{role}}
	if dept != "" {
		d, err := findDept(sctx, a, dept)
		if err != nil {
			return err
		}
		in.DeptID = d.ID
	}
	if _, err := a.Org.RoleByCode(sctx, role); err != nil {
		if apperr.KindOf(err) == apperr.NotFound {
			return Usagef("role: unknown role %q", role)
		}
		return err
	}
	password, err := readPassword(env, "Password for "+username+": ")
	if err != nil {
		return err
	}
	st, err := a.Org.CreateStaffWithPassword(sctx, in, password)
	if err != nil {
		return inputError(a, err)
	}
	fmt.Fprintf(env.Stdout, "created staff %s (id %d, role %s)\n", st.Username, st.ID, strings.Join(st.Roles, ","))
	return nil
}

func findDept(ctx context.Context, a *app.App, ref string) (org.Department, error) {
	d, err := a.Org.DepartmentByCode(ctx, ref)
	if err == nil {
		return d, nil
	}
	if apperr.KindOf(err) != apperr.NotFound {
		return d, err
	}
	if id, perr := strconv.ParseInt(ref, 10, 64); perr == nil && id > 0 {
		if d, err = a.Org.GetDepartment(ctx, id); err == nil {
			return d, nil
		}
		if apperr.KindOf(err) != apperr.NotFound {
			return d, err
		}
	}
	return d, Usagef("dept: no department with code or id %q", ref)
}

// parseWithArg parses flags that may come before or after one positional argument.
func parseWithArg(fs *flag.FlagSet, args []string, what string) (string, error) {
	var pos []string
	for {
		if err := parse(fs, args); err != nil {
			return "", err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	switch len(pos) {
	case 0:
		return "", Usagef("missing %s", what)
	case 1:
		return pos[0], nil
	}
	return "", Usagef("unexpected argument %q (the password is read from standard input)", pos[1])
}

func runUserPasswd(ctx context.Context, env *Env, args []string) error {
	var c common
	fs := newFlagSet(env, "user passwd", &c)
	var username string
	var err error
	if username, err = parseWithArg(fs, args, "username: kefu user passwd USERNAME"); err != nil {
		return err
	}
	a, sctx, err := openApp(ctx, env, &c)
	if err != nil {
		return err
	}
	defer a.Close()
	st, err := a.Org.StaffByUsername(sctx, username)
	if err != nil {
		if apperr.KindOf(err) == apperr.NotFound {
			return Usagef("username: no staff member %q", username)
		}
		return err
	}
	password, err := readPassword(env, "New password for "+st.Username+": ")
	if err != nil {
		return err
	}
	if err := a.Auth.SetPassword(sctx, st.ID, password); err != nil {
		return inputError(a, err)
	}
	fmt.Fprintf(env.Stdout, "password of %s changed; their sessions were ended\n", st.Username)
	return nil
}

func runTokenCreate(ctx context.Context, env *Env, args []string) error {
	var c common
	var username, name string
	fs := newFlagSet(env, "token create", &c)
	fs.StringVar(&username, "user", "", "username the token acts as")
	fs.StringVar(&name, "name", "cli", "a name to recognise the token by")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return Usagef("unexpected argument %q", fs.Arg(0))
	}
	if username == "" {
		return Usagef("--user is required")
	}
	a, sctx, err := openApp(ctx, env, &c)
	if err != nil {
		return err
	}
	defer a.Close()
	st, err := a.Org.StaffByUsername(sctx, username)
	if err != nil {
		if apperr.KindOf(err) == apperr.NotFound {
			return Usagef("user: no staff member %q", username)
		}
		return err
	}
	if !st.Active() {
		return Usagef("user: %s is disabled", st.Username)
	}
	plain, tok, err := a.Auth.CreateToken(sctx, st.ID, name)
	if err != nil {
		return inputError(a, err)
	}
	fmt.Fprintf(env.Stdout, "API token %d (%s) for %s; it is shown once, keep it secret:\n", tok.ID, name, st.Username)
	fmt.Fprintln(env.Stdout, plain)
	return nil
}
