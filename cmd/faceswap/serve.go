package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"faceswap/server"
)

// cmdServe runs the HTTP API until ctx ends (Ctrl-C) or the process gets
// SIGTERM (as container runtimes and systemd stop services), then shuts
// down gracefully. Every setting is a FACESWAP_* environment variable and
// a flag; a flag wins over the variable.
func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return serveOrWork(ctx, "serve", args, stdout, stderr)
}

// cmdWorker runs only the asynchronous API's job workers, without the HTTP
// front, on any machine that reaches the queue's database (the same
// settings as serve; FACESWAP_DATABASE_URL names the shared PostgreSQL).
func cmdWorker(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return serveOrWork(ctx, "worker", args, stdout, stderr)
}

func serveOrWork(ctx context.Context, name string, args []string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM)
	defer stop()
	fs := newFlags(name, name+" [flags]", stderr)
	given := map[string]string{}
	for _, s := range server.Settings {
		fs.Func(s.Flag, s.Usage+" ("+s.Env+")", func(v string) error {
			given[s.Env] = v
			return nil
		})
	}
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	getenv := func(k string) string {
		if v, ok := given[k]; ok {
			return v
		}
		return os.Getenv(k)
	}
	cfg, err := server.FromEnv(getenv)
	if err != nil {
		return fmt.Errorf("%w: bad configuration:\n  %s", errUsage, strings.ReplaceAll(err.Error(), "\n", "\n  "))
	}
	if name == "worker" && cfg.AsyncWorkers < 1 {
		return fmt.Errorf("%w: a worker needs FACESWAP_ASYNC_WORKERS (--async-workers) of at least 1", errUsage)
	}
	m, err := server.New(cfg)
	if err != nil {
		return err
	}
	if name == "worker" {
		if err := m.Work(ctx); err != nil {
			m.Close()
			return err
		}
		fmt.Fprintf(stdout, "faceswap: worker running %d job(s) at once (Ctrl-C or SIGTERM stops)\n", cfg.AsyncWorkers)
		<-ctx.Done()
		fmt.Fprintln(stdout, "faceswap: shutting down; running jobs finish first")
		return m.Close()
	}
	if err := m.Run(ctx); err != nil {
		m.Close()
		return err
	}
	fmt.Fprintf(stdout, "faceswap: serving the API on http://%s (Ctrl-C or SIGTERM stops)\n", displayAddr(m.Addr()))
	select {
	case <-ctx.Done():
	case err = <-m.Err():
	}
	fmt.Fprintln(stdout, "faceswap: shutting down; requests in flight finish first")
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	return err
}

// displayAddr turns a wildcard listen address into one a browser can use.
func displayAddr(addr string) string {
	for _, wild := range []string{"[::]:", "0.0.0.0:"} {
		if strings.HasPrefix(addr, wild) {
			return "localhost:" + strings.TrimPrefix(addr, wild)
		}
	}
	return addr
}
