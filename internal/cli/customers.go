package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kefu-cn/kefu/internal/app"
	"github.com/kefu-cn/kefu/internal/customer"
	"github.com/kefu-cn/kefu/internal/platform/apperr"
	"github.com/kefu-cn/kefu/internal/platform/httpx"
	"github.com/kefu-cn/kefu/internal/platform/i18n"
	"github.com/kefu-cn/kefu/internal/platform/tabular"
)

// maxListedProblems is how many problems `kefu import` prints (the report has all).
const maxListedProblems = 20

// runImport is `kefu import customers FILE [--dry-run] [--lang L]`: exit 0 when every
// row was imported (or, with --dry-run, would be), 1 when rows fail (nothing is
// written; the problems go to FILE.errors.xlsx, whose path is printed), 2 for a
// missing file, an unsupported format or bad arguments.
func runImport(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 || args[0] != "customers" {
		return Usagef("usage: kefu import customers FILE [--dry-run] [--lang zh-CN|en|zh-TW]")
	}
	var c common
	var dryRun bool
	var lang string
	fs := newFlagSet(env, "import customers", &c)
	fs.BoolVar(&dryRun, "dry-run", false, "validate every row and write nothing")
	fs.StringVar(&lang, "lang", i18n.ZhCN, "language of the problem report and messages (zh-CN, en, zh-TW)")
	path, err := parsePositional(fs, args[1:], "FILE: kefu import customers FILE [--dry-run]")
	if err != nil {
		return err
	}
	if lang = i18n.Normalize(lang); lang == "" {
		return Usagef("--lang must be zh-CN, en or zh-TW")
	}
	format, err := tabular.FormatOf(path)
	if err != nil {
		return Usagef("%s: unsupported format (use .xlsx or .csv)", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return Usagef("%v", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Usagef("%v", err)
	}
	if st.IsDir() {
		return Usagef("%s is a directory", path)
	}
	a, sctx, err := openApp(ctx, env, &c)
	if err != nil {
		return err
	}
	defer a.Close()
	sctx = httpx.WithCatalog(i18n.WithLang(sctx, lang), a.Catalog)
	res, err := a.Customer.ImportCustomers(sctx, f, st.Size(), format, customer.ImportOptions{DryRun: dryRun,
		FileName: filepath.Base(path)})
	if err != nil {
		return fileError(a, lang, path, err)
	}
	if res.OK() {
		if dryRun {
			fmt.Fprintf(env.Stdout, "dry run: %d rows checked, no problems; nothing was written\n", res.Rows)
		} else {
			fmt.Fprintf(env.Stdout, "imported %d customers (%d rows)\n", res.Created, res.Rows)
		}
		return nil
	}
	report := path + ".errors.xlsx"
	if err := writeReport(report, lang, res.Errors, a); err != nil {
		return err
	}
	list := res.Errors
	if len(list) > maxListedProblems {
		list = list[:maxListedProblems]
	}
	fmt.Fprint(env.Stderr, customer.ImportErrorsText(a.Catalog, lang, list))
	if len(res.Errors) > maxListedProblems {
		fmt.Fprintf(env.Stderr, "... %d more in the report\n", len(res.Errors)-maxListedProblems)
	}
	fmt.Fprintln(env.Stdout, report)
	return Exitf(ExitFail, "%d of %d rows have problems; nothing was imported; report: %s", res.Failed, res.Rows, report)
}

// fileError maps a problem with the file itself to exit 2 (bad input); anything else
// stays an error (exit 1).
func fileError(a *app.App, lang, path string, err error) error {
	e, ok := apperr.As(err)
	if !ok {
		return err
	}
	switch e.Kind {
	case apperr.Malformed, apperr.Invalid, apperr.TooLarge:
		return Usagef("%s: %s", path, a.Catalog.Msg(lang, e.Msg))
	}
	return err
}

func writeReport(path, lang string, errs []tabular.RowError, a *app.App) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("write the error report: %w", err)
	}
	if err := tabular.WriteErrorReport(f, lang, errs, a.Catalog); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("write the error report: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write the error report: %w", err)
	}
	return os.Rename(tmp, path)
}

// runExport is `kefu export customers FILE [--clear] [--lang L]`: every customer
// (active ones; --all includes merged files), CSV or .xlsx by the file's extension.
// The CLI acts as the system, which may export anything, but the file is masked like
// a screen unless --clear is given: the operator at the console is not necessarily
// entitled to clear personal data, and a clear export is audited as such.
func runExport(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 || args[0] != "customers" {
		return Usagef("usage: kefu export customers FILE [--clear] [--all] [--lang zh-CN|en|zh-TW]")
	}
	var c common
	var clear, all bool
	var lang string
	fs := newFlagSet(env, "export customers", &c)
	fs.BoolVar(&clear, "clear", false, "write personal data in clear (audited); default masked")
	fs.BoolVar(&all, "all", false, "include merged files")
	fs.StringVar(&lang, "lang", i18n.ZhCN, "language of headers and labels (zh-CN, en, zh-TW)")
	path, err := parsePositional(fs, args[1:], "FILE: kefu export customers FILE")
	if err != nil {
		return err
	}
	if lang = i18n.Normalize(lang); lang == "" {
		return Usagef("--lang must be zh-CN, en or zh-TW")
	}
	format, err := tabular.FormatOf(path)
	if err != nil {
		return Usagef("%s: unsupported format (use .xlsx or .csv)", path)
	}
	a, sctx, err := openApp(ctx, env, &c)
	if err != nil {
		return err
	}
	defer a.Close()
	sctx = httpx.WithCatalog(i18n.WithLang(sctx, lang), a.Catalog)
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return Usagef("%v", err)
	}
	filter := customer.Filter{}
	if all {
		filter.Status = customer.StatusAll
	}
	res, err := a.Customer.ExportCustomers(sctx, f, format, filter, customer.ExportOptions{Masked: !clear, Lang: lang})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	how := "masked"
	if res.Clear {
		how = "clear"
	}
	fmt.Fprintf(env.Stdout, "exported %d customers to %s (%s)\n", res.Count, path, how)
	return nil
}

// parsePositional parses flags placed before or after exactly one positional argument.
func parsePositional(fs *flag.FlagSet, args []string, what string) (string, error) {
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
	return "", Usagef("unexpected argument %q", pos[1])
}
