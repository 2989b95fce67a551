package cli

import (
	"context"
	"fmt"

	"github.com/kefu-cn/kefu/internal/platform/audit"
	"github.com/kefu-cn/kefu/internal/platform/db"
	"github.com/kefu-cn/kefu/internal/platform/secure"
)

// runAudit dispatches the audit subcommands.
func runAudit(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 {
		return Usagef("missing subcommand (usage: kefu audit verify [--db DSN] [--config FILE])")
	}
	switch args[0] {
	case "verify":
		return runAuditVerify(ctx, env, args[1:])
	case "-h", "--help", "help":
		fmt.Fprintln(env.Stderr, "Usage: kefu audit verify [--db DSN] [--config FILE]\n\n"+
			"Checks the audit hash chain and its HMAC-signed checkpoints; exit 0 when intact,\n"+
			"1 naming the first bad entry, 2 for bad arguments, configuration or key file.")
		return nil
	}
	return Usagef("unknown subcommand %q (usage: kefu audit verify)", args[0])
}

// runAuditVerify is `kefu audit verify`: exit 0 on an intact log, 1 naming the first
// bad entry, 2 when the database or the key file cannot be used.
func runAuditVerify(ctx context.Context, env *Env, args []string) error {
	var c common
	fs := newFlagSet(env, "audit verify", &c)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return Usagef("unexpected argument %q", fs.Arg(0))
	}
	cfg, err := loadConfig(env, &c, nil)
	if err != nil {
		return err
	}
	keys, err := secure.LoadOrCreate(cfg.KeyFile, false)
	if err != nil {
		return Usagef("%v", err)
	}
	d, err := db.Open(ctx, cfg.DB, db.Options{})
	if err != nil {
		return Usagef("%v", err)
	}
	defer d.Close()
	log := audit.New(audit.Options{DB: d, Keys: keys, Log: newLogger(env.Stderr, cfg)})
	rep, err := log.Verify(ctx)
	if err != nil {
		return fmt.Errorf("cannot verify the audit log: %w", err)
	}
	if !rep.OK {
		fmt.Fprintf(env.Stdout, "audit log BROKEN after %d intact entries: %s\n", rep.Entries, rep.Problem)
		return Exitf(ExitFail, "audit log broken at entry %d: %s", rep.FirstBadSeq, rep.Problem)
	}
	if rep.CheckpointSeq > 0 {
		fmt.Fprintf(env.Stdout, "audit log intact: %d entries, checkpoint at seq %d\n", rep.Entries, rep.CheckpointSeq)
	} else {
		fmt.Fprintf(env.Stdout, "audit log intact: %d entries, no checkpoint yet\n", rep.Entries)
	}
	return nil
}
