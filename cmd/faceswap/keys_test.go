package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"faceswap"
	"faceswap/store/sqlite"
)

// keysDB points FACESWAP_DB at a file in a folder that does not exist yet
// (the command makes it) and returns the file's path.
func keysDB(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "new", "folder", "keys.db")
	t.Setenv("FACESWAP_DB", path)
	return path
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

var keyIDRE = regexp.MustCompile(`\bk_[0-9A-Za-z]{8}\b`)

func TestKeysCommands(t *testing.T) {
	ctx := context.Background()
	path := keysDB(t)

	code, out, errOut, err := cli(t, "keys", "create", "--name", "dev laptop", "--credits", "10", "--free-credits", "2",
		"--rate-per-minute", "5", "--admin")
	if code != 0 {
		t.Fatalf("keys create: exit %d, %v\n%s", code, err, errOut)
	}
	secret := lastLine(out)
	if !regexp.MustCompile(`^fs_[0-9A-Za-z]{32}$`).MatchString(secret) {
		t.Fatalf("the last line of keys create is %q, want the secret alone\n%s", secret, out)
	}
	if strings.Count(out, secret) != 1 {
		t.Errorf("the secret appears %d times in the output", strings.Count(out, secret))
	}
	id := keyIDRE.FindString(out)
	if id == "" {
		t.Errorf("keys create does not name the key's ID:\n%s", out)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("no database at $FACESWAP_DB: %v", err)
	}

	code, out2, _, _ := cli(t, "keys", "create")
	if code != 0 {
		t.Fatalf("keys create with no flags: exit %d", code)
	}
	secret2 := lastLine(out2)
	id2 := keyIDRE.FindString(out2)

	// The secret authenticates, and the key has what the flags said.
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	k, err := db.Authenticate(ctx, secret)
	if err != nil {
		t.Fatalf("the printed secret does not authenticate: %v", err)
	}
	if k.ID != id || k.Name != "dev laptop" || k.Credits != 10 || k.FreeCredits != 2 || k.RatePerMinute != 5 || !k.Admin {
		t.Errorf("created key = %+v", k)
	}

	code, list, _, err := cli(t, "keys", "list")
	if code != 0 {
		t.Fatalf("keys list: exit %d, %v", code, err)
	}
	lines := strings.Split(strings.TrimRight(list, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("keys list has %d lines, want a header and 2 keys:\n%s", len(lines), list)
	}
	for _, col := range []string{"ID", "NAME", "CREDITS", "FREE CREDITS", "RATE/MIN", "DISABLED", "ADMIN", "CREATED"} {
		if !strings.Contains(lines[0], col) {
			t.Errorf("keys list header lacks %s: %q", col, lines[0])
		}
	}
	if f := strings.Fields(lines[1]); len(f) != 9 || f[0] != id || f[1]+" "+f[2] != "dev laptop" || f[3] != "10" || f[4] != "2" ||
		f[5] != "5" || f[6] != "no" || f[7] != "yes" {
		t.Errorf("keys list row 1 = %q", lines[1])
	}
	if f := strings.Fields(lines[2]); len(f) != 8 || f[0] != id2 || f[1] != "-" || f[4] != "default" || f[6] != "no" {
		t.Errorf("keys list row 2 = %q (want the second key, oldest first)", lines[2])
	}
	for _, s := range []string{secret, secret2, secret[3:], secret2[3:]} {
		if strings.Contains(list, s) {
			t.Errorf("keys list shows a secret:\n%s", list)
		}
	}

	// credit: positive, then negative (not below zero), the new balance printed.
	code, out, _, err = cli(t, "keys", "credit", id, "15")
	if code != 0 || !strings.Contains(out, "25 credits") {
		t.Errorf("keys credit +15: exit %d, %v, output %q; want 25 credits", code, err, out)
	}
	code, out, _, err = cli(t, "keys", "credit", id, "-5")
	if code != 0 || !strings.Contains(out, "20 credits") {
		t.Errorf("keys credit -5: exit %d, %v, output %q; want 20 credits", code, err, out)
	}
	code, out, _, err = cli(t, "keys", "credit", id2, "--", "-3")
	if code != 0 || !strings.Contains(out, "0 credits") {
		t.Errorf("keys credit -- -3 on an empty key: exit %d, %v, output %q; want 0 credits", code, err, out)
	}
	if k, _ := db.Key(ctx, id); k.Credits != 20 || k.FreeCredits != 2 {
		t.Errorf("after credits: %+v, want 20 paid and 2 free", k)
	}

	// disable: the secret no longer authenticates; the other key still does.
	if code, out, _, err := cli(t, "keys", "disable", id); code != 0 || !strings.Contains(out, id) {
		t.Fatalf("keys disable: exit %d, %v, %q", code, err, out)
	}
	if _, err := db.Authenticate(ctx, secret); !errors.Is(err, faceswap.ErrKeyDisabled) {
		t.Errorf("after keys disable, Authenticate = %v, want ErrKeyDisabled", err)
	}
	if _, err := db.Authenticate(ctx, secret2); err != nil {
		t.Errorf("disabling one key affected the other: %v", err)
	}
	_, list, _, _ = cli(t, "keys", "list")
	if f := strings.Fields(strings.Split(list, "\n")[1]); len(f) < 7 || f[6] != "yes" {
		t.Errorf("keys list does not show the key disabled:\n%s", list)
	}

	// Unknown IDs are bad input (exit 3), named in the message.
	for _, args := range [][]string{{"keys", "disable", "k_nothere"}, {"keys", "credit", "k_nothere", "1"}} {
		code, _, _, err := cli(t, args...)
		if code != 3 || err == nil || !strings.Contains(err.Error(), "k_nothere") {
			t.Errorf("%v: exit %d, %v; want 3 and a message naming the ID", args, code, err)
		}
	}
}

func TestKeysBadArguments(t *testing.T) {
	keysDB(t)
	for _, args := range [][]string{
		{"keys"},
		{"keys", "rotate"},
		{"keys", "create", "extra"},
		{"keys", "create", "--credits", "-1"},
		{"keys", "create", "--credits", "lots"},
		{"keys", "create", "--free-credits", "-2"},
		{"keys", "create", "--rate-per-minute", "-5"},
		{"keys", "create", "--nonsense"},
		{"keys", "list", "extra"},
		{"keys", "disable"},
		{"keys", "disable", "a", "b"},
		{"keys", "credit", "k_x"},
		{"keys", "credit", "k_x", "ten"},
		{"keys", "credit", "k_x", "1.5"},
		{"keys", "credit", "k_x", "99999999999999999999"},
		{"keys", "credit", "k_x", "1", "2"},
	} {
		code, _, _, err := cli(t, args...)
		if code != 2 || !errors.Is(err, errUsage) {
			t.Errorf("%q: exit %d, %v; want 2 (usage)", args, code, err)
		}
	}
	// None of those made a key.
	_, list, _, _ := cli(t, "keys", "list")
	if n := len(strings.Split(strings.TrimRight(list, "\n"), "\n")); n != 1 {
		t.Errorf("bad arguments made keys:\n%s", list)
	}
	if code, out, _, _ := cli(t, "keys", "help"); code != 0 || !strings.Contains(out, "keys create") {
		t.Errorf("keys help: exit %d, %q", code, out)
	}
}
