// Command kefu is the Kefu customer service center: server, migrations and admin tools.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/kefu-cn/kefu/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
