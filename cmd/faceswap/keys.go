package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"faceswap"
	"faceswap/models"
	"faceswap/store"
	"faceswap/store/sqlite"
)

const keysUsage = `Usage:
  faceswap keys create [--name N] [--credits N] [--free-credits N] [--rate-per-minute R] [--admin]
                                 make a key; its secret, shown only this once, is the last line
  faceswap keys list             list the keys (never their secrets)
  faceswap keys disable ID       disable a key for good
  faceswap keys credit ID N      add N paid credits (negative N takes them away, not below 0)

The keys live in the SQLite file $FACESWAP_DB (default: faceswap.db in FACESWAP_HOME).
`

// cmdKeys manages the API keys of the embedded store.
func cmdKeys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, keysUsage)
		return fmt.Errorf("%w: keys takes a subcommand: create, list, disable or credit", errUsage)
	}
	switch args[0] {
	case "create":
		return keysCreate(ctx, args[1:], stdout, stderr)
	case "list":
		return keysList(ctx, args[1:], stdout, stderr)
	case "disable":
		return keysDisable(ctx, args[1:], stdout, stderr)
	case "credit":
		return keysCredit(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, keysUsage)
		return nil
	}
	fmt.Fprint(stderr, keysUsage)
	return fmt.Errorf("%w: unknown keys subcommand %q", errUsage, args[0])
}

// openAccounts opens the store the server uses: PostgreSQL when
// FACESWAP_DATABASE_URL is set (several servers share it), else the
// embedded SQLite file, making its folder when needed.
func openAccounts() (faceswap.Accounts, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := store.Config{URL: os.Getenv("FACESWAP_DATABASE_URL"), Path: models.Default().Database()}
	if cfg.URL == "" {
		if err := os.MkdirAll(filepath.Dir(cfg.Path), 0o700); err != nil {
			return nil, err
		}
	}
	st, err := store.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return st.Accounts(), nil
}

func keysCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("keys create", "keys create [--name N] [--credits N] [--free-credits N] [--rate-per-minute R] [--admin]", stderr)
	name := fs.String("name", "", "a name to tell the key by")
	credits := fs.Int64("credits", 0, "paid credits")
	free := fs.Int64("free-credits", 0, "free credits, spent before paid ones")
	rate := fs.Int("rate-per-minute", 0, "requests per minute for this key (0: the server's default)")
	admin := fs.Bool("admin", false, "the key may call admin endpoints")
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	var bad []string
	if *credits < 0 || *credits > sqlite.MaxCredits {
		bad = append(bad, fmt.Sprintf("--credits must be between 0 and %d", int64(sqlite.MaxCredits)))
	}
	if *free < 0 || *free > sqlite.MaxCredits {
		bad = append(bad, fmt.Sprintf("--free-credits must be between 0 and %d", int64(sqlite.MaxCredits)))
	}
	if *rate < 0 {
		bad = append(bad, "--rate-per-minute must not be negative (0: the server's default)")
	}
	if len(bad) > 0 {
		return fmt.Errorf("%w: %s", errUsage, strings.Join(bad, "; "))
	}
	db, err := openAccounts()
	if err != nil {
		return err
	}
	defer db.Close()
	secret, k, err := db.CreateKey(ctx, faceswap.KeyOptions{
		Name: *name, Credits: *credits, FreeCredits: *free, RatePerMinute: *rate, Admin: *admin,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Created key %s%s: %d credits, %d free credits, %s%s.\n",
		k.ID, quoted(k.Name), k.Credits, k.FreeCredits, rateText(k.RatePerMinute), map[bool]string{true: ", admin"}[k.Admin])
	fmt.Fprintln(stdout, "Its secret, for the x-api-key header, is shown only this once:")
	fmt.Fprintln(stdout, secret)
	return nil
}

func quoted(name string) string {
	if name == "" {
		return ""
	}
	return " " + strconv.Quote(name)
}

func rateText(r int) string {
	if r == 0 {
		return "the server's default rate limit"
	}
	return fmt.Sprintf("%d requests/minute", r)
}

func keysList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("keys list", "keys list", stderr)
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	db, err := openAccounts()
	if err != nil {
		return err
	}
	defer db.Close()
	ks, err := db.Keys(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tCREDITS\tFREE CREDITS\tRATE/MIN\tDISABLED\tADMIN\tCREATED")
	yes := map[bool]string{true: "yes", false: "no"}
	for _, k := range ks {
		rate := "default"
		if k.RatePerMinute > 0 {
			rate = strconv.Itoa(k.RatePerMinute)
		}
		name := k.Name
		if name == "" {
			name = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t%s\t%s\n", k.ID, strings.Map(printable, name), k.Credits, k.FreeCredits,
			rate, yes[k.Disabled], yes[k.Admin], k.CreatedAt.UTC().Format(time.RFC3339))
	}
	return tw.Flush()
}

// printable keeps a key's name from breaking the table's columns or the
// terminal.
func printable(r rune) rune {
	if r == '\t' || r == '\n' || r == '\r' || r < ' ' || r == 0x7f {
		return ' '
	}
	return r
}

func keysDisable(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("keys disable", "keys disable ID", stderr)
	pos, err := parse(fs, args, 1)
	if err != nil {
		return err
	}
	db, err := openAccounts()
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.DisableKey(ctx, pos[0]); err != nil {
		return keyErr(pos[0], err)
	}
	fmt.Fprintf(stdout, "Disabled key %s.\n", pos[0])
	return nil
}

var negativeInt = regexp.MustCompile(`^-[0-9]+$`)

func keysCredit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("keys credit", "keys credit ID N   (N may be negative)", stderr)
	// "keys credit k_x -5": a negative amount is an argument, not a flag.
	// Hide it from the flag parser behind a placeholder no flag can be.
	hidden := map[string]string{}
	args = append([]string(nil), args...)
	for i, a := range args {
		if negativeInt.MatchString(a) {
			ph := fmt.Sprintf("\x00%d", i)
			hidden[ph] = a
			args[i] = ph
		}
	}
	pos, err := parseAll(fs, args)
	if err != nil {
		return err
	}
	for i, p := range pos {
		if a, ok := hidden[p]; ok {
			pos[i] = a
		}
	}
	if err := wantArgs(fs, pos, 2); err != nil {
		return err
	}
	n, err := strconv.ParseInt(pos[1], 10, 64)
	if err != nil || n > sqlite.MaxCredits || n < -sqlite.MaxCredits {
		return fmt.Errorf("%w: keys credit: N must be a whole number between %d and %d, not %q",
			errUsage, -int64(sqlite.MaxCredits), int64(sqlite.MaxCredits), pos[1])
	}
	db, err := openAccounts()
	if err != nil {
		return err
	}
	defer db.Close()
	k, err := db.AddCredits(ctx, pos[0], n)
	if err != nil {
		return keyErr(pos[0], err)
	}
	fmt.Fprintf(stdout, "Key %s now has %d credits and %d free credits (%d in all).\n",
		k.ID, k.Credits, k.FreeCredits, k.Credits+k.FreeCredits)
	return nil
}

// keyErr names the key when it is unknown (the store's message speaks of
// the x-api-key header, which is the API's wording). Exit status 3.
func keyErr(id string, err error) error {
	if errors.Is(err, faceswap.ErrUnknownKey) {
		return faceswap.Errorf(faceswap.StatusOf(err), "No key has the ID %q (see faceswap keys list).", id)
	}
	return err
}
