package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"faceswap"
)

func openTemp(t *testing.T) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "faceswap.db")
	d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d, path
}

func create(t *testing.T, d *DB, opt faceswap.KeyOptions) (string, faceswap.Key) {
	t.Helper()
	secret, k, err := d.CreateKey(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	return secret, k
}

var secretRE = regexp.MustCompile(`^fs_[0-9A-Za-z]{32}$`)
var idRE = regexp.MustCompile(`^k_[0-9A-Za-z]{8}$`)

func TestCreateAuthenticate(t *testing.T) {
	ctx := context.Background()
	d, _ := openTemp(t)
	opt := faceswap.KeyOptions{Name: "alice", Credits: 7, FreeCredits: 3, RatePerMinute: 5, Admin: true}
	secret, k, err := d.CreateKey(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !secretRE.MatchString(secret) {
		t.Errorf("secret %q is not fs_ and 32 base-62 characters", secret)
	}
	if !idRE.MatchString(k.ID) {
		t.Errorf("id %q is not k_ and 8 base-62 characters", k.ID)
	}
	if k.Name != "alice" || k.Credits != 7 || k.FreeCredits != 3 || k.RatePerMinute != 5 || !k.Admin || k.Disabled {
		t.Errorf("created key = %+v, want the options %+v", k, opt)
	}
	if time.Since(k.CreatedAt) > time.Minute || k.CreatedAt.After(time.Now()) {
		t.Errorf("CreatedAt = %v, want about now", k.CreatedAt)
	}

	got, err := d.Authenticate(ctx, secret)
	if err != nil {
		t.Fatalf("Authenticate(right secret) = %v", err)
	}
	if got != k {
		t.Errorf("Authenticate = %+v, want %+v", got, k)
	}
	byID, err := d.Key(ctx, k.ID)
	if err != nil || byID != k {
		t.Errorf("Key(%s) = %+v, %v; want %+v", k.ID, byID, err, k)
	}

	wrong := secret[:len(secret)-1] + string(rune('a'+(secret[len(secret)-1]+1-'a')%26))
	for _, s := range []string{"", wrong, "fs_", strings.ToUpper(secret), k.ID} {
		if _, err := d.Authenticate(ctx, s); !errors.Is(err, faceswap.ErrUnknownKey) {
			t.Errorf("Authenticate(%q) = %v, want ErrUnknownKey", s, err)
		}
	}
	if _, err := d.Key(ctx, "k_nothere"); !errors.Is(err, faceswap.ErrUnknownKey) {
		t.Errorf("Key(unknown) = %v, want ErrUnknownKey", err)
	}

	secret2, k2 := create(t, d, faceswap.KeyOptions{Name: "bob"})
	if secret2 == secret || k2.ID == k.ID {
		t.Errorf("two keys share a secret or id: %s %s", secret2, k2.ID)
	}
	if err := d.DisableKey(ctx, k2.ID); err != nil {
		t.Fatal(err)
	}
	if err := d.DisableKey(ctx, k2.ID); err != nil {
		t.Errorf("disabling twice: %v", err)
	}
	got, err = d.Authenticate(ctx, secret2)
	if !errors.Is(err, faceswap.ErrKeyDisabled) {
		t.Errorf("Authenticate(disabled) = %v, want ErrKeyDisabled", err)
	}
	if got.ID != k2.ID || !got.Disabled {
		t.Errorf("Authenticate(disabled) key = %+v, want %s disabled", got, k2.ID)
	}
	if _, err := d.Authenticate(ctx, secret); err != nil {
		t.Errorf("disabling bob affected alice: %v", err)
	}
	err = d.DisableKey(ctx, "k_nothere")
	if !errors.Is(err, faceswap.ErrUnknownKey) {
		t.Errorf("DisableKey(unknown) = %v, want ErrUnknownKey", err)
	}
	if faceswap.StatusOf(err) != 401 {
		t.Errorf("status of unknown key = %d, want 401", faceswap.StatusOf(err))
	}
}

func TestCreateKeyRejectsBadOptions(t *testing.T) {
	d, _ := openTemp(t)
	for _, opt := range []faceswap.KeyOptions{
		{Credits: -1}, {FreeCredits: -1}, {RatePerMinute: -1}, {Credits: MaxCredits + 1},
	} {
		if _, _, err := d.CreateKey(context.Background(), opt); faceswap.StatusOf(err) != 400 {
			t.Errorf("CreateKey(%+v) = %v, want a 400 error", opt, err)
		}
	}
	if ks, _ := d.Keys(context.Background()); len(ks) != 0 {
		t.Errorf("rejected options made keys: %+v", ks)
	}
}

// The secrets are not in the database in any form but their SHA-256.
func TestSecretsNeverStored(t *testing.T) {
	d, path := openTemp(t)
	var secrets []string
	for i := range 3 {
		s, _ := create(t, d, faceswap.KeyOptions{Name: fmt.Sprint("k", i), Credits: 1})
		secrets = append(secrets, s)
	}
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	rows, err := raw.Query(`SELECT * FROM keys`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	n := 0
	for rows.Next() {
		n++
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			text := fmt.Sprintf("%v %s %x", v, v, v)
			for _, s := range secrets {
				if strings.Contains(text, s) || strings.Contains(text, s[len(SecretPrefix):]) {
					t.Errorf("column %s holds a secret: %v", cols[i], v)
				}
			}
		}
	}
	if n != 3 {
		t.Fatalf("read %d rows, want 3", n)
	}
	// And the whole file (WAL included) has no secret in it either.
	d.Close()
	for _, f := range []string{path, path + "-wal"} {
		b, _ := os.ReadFile(f)
		for _, s := range secrets {
			if strings.Contains(string(b), s[len(SecretPrefix):]) {
				t.Errorf("%s contains a secret", f)
			}
		}
	}
}

func TestKeysOrderAndCredit(t *testing.T) {
	ctx := context.Background()
	d, _ := openTemp(t)
	var ids []string
	for i := range 5 {
		_, k := create(t, d, faceswap.KeyOptions{Name: fmt.Sprint("key", i), Credits: int64(i)})
		ids = append(ids, k.ID)
	}
	ks, err := d.Keys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ks) != 5 {
		t.Fatalf("Keys returned %d keys, want 5", len(ks))
	}
	for i, k := range ks {
		if k.ID != ids[i] || k.Name != fmt.Sprint("key", i) {
			t.Errorf("Keys[%d] = %s %q, want %s key%d (oldest first)", i, k.ID, k.Name, ids[i], i)
		}
	}

	k, err := d.AddCredits(ctx, ids[2], 10)
	if err != nil || k.Credits != 12 || k.ID != ids[2] {
		t.Errorf("AddCredits(+10) = %+v, %v; want 12 credits", k, err)
	}
	k, err = d.AddCredits(ctx, ids[2], -5)
	if err != nil || k.Credits != 7 {
		t.Errorf("AddCredits(-5) = %+v, %v; want 7 credits", k, err)
	}
	k, err = d.AddCredits(ctx, ids[2], -100)
	if err != nil || k.Credits != 0 {
		t.Errorf("AddCredits(-100) = %+v, %v; want 0 credits, not below", k, err)
	}
	if _, err := d.AddCredits(ctx, "k_nothere", 1); !errors.Is(err, faceswap.ErrUnknownKey) {
		t.Errorf("AddCredits(unknown) = %v, want ErrUnknownKey", err)
	}
	if _, err := d.AddCredits(ctx, ids[1], MaxCredits); faceswap.StatusOf(err) != 400 {
		t.Errorf("AddCredits past MaxCredits = %v, want a 400 error", err)
	}
	if k, _ := d.Key(ctx, ids[1]); k.Credits != 1 {
		t.Errorf("a refused AddCredits changed the balance to %d", k.Credits)
	}
}

func TestCharge(t *testing.T) {
	ctx := context.Background()
	d, _ := openTemp(t)
	_, k := create(t, d, faceswap.KeyOptions{Credits: 5, FreeCredits: 2})

	// 3: both free credits, then one paid.
	left, err := d.Charge(ctx, k.ID, 3, "r1")
	if err != nil || left != 4 {
		t.Fatalf("Charge(3) = %d, %v; want 4 left", left, err)
	}
	got, _ := d.Key(ctx, k.ID)
	if got.FreeCredits != 0 || got.Credits != 4 {
		t.Errorf("after Charge(3): free %d paid %d, want 0 and 4", got.FreeCredits, got.Credits)
	}
	// The same request again charges nothing.
	left, err = d.Charge(ctx, k.ID, 3, "r1")
	if err != nil || left != 4 {
		t.Errorf("repeated Charge(r1) = %d, %v; want 4 left and no error", left, err)
	}
	// Not enough: nothing taken, nothing recorded.
	if _, err := d.Charge(ctx, k.ID, 5, "r2"); !errors.Is(err, faceswap.ErrInsufficientCredits) {
		t.Errorf("Charge(5 of 4) = %v, want ErrInsufficientCredits", err)
	}
	if got, _ := d.Key(ctx, k.ID); got.Credits != 4 || got.FreeCredits != 0 {
		t.Errorf("a refused charge changed the key: %+v", got)
	}
	// r2 was not recorded, so it can be used once there is enough.
	left, err = d.Charge(ctx, k.ID, 4, "r2")
	if err != nil || left != 0 {
		t.Errorf("Charge(4 of 4) = %d, %v; want 0 left", left, err)
	}
	_, err = d.Charge(ctx, k.ID, 1, "r3")
	if !errors.Is(err, faceswap.ErrInsufficientCredits) {
		t.Errorf("Charge on an empty key = %v, want ErrInsufficientCredits", err)
	}
	if faceswap.StatusOf(err) != 406 {
		t.Errorf("status = %d, want 406", faceswap.StatusOf(err))
	}
	// Free credits only.
	_, k2 := create(t, d, faceswap.KeyOptions{Credits: 1, FreeCredits: 3})
	if left, err := d.Charge(ctx, k2.ID, 2, "s1"); err != nil || left != 2 {
		t.Errorf("Charge(2 of 3 free) = %d, %v; want 2 left", left, err)
	}
	if got, _ := d.Key(ctx, k2.ID); got.FreeCredits != 1 || got.Credits != 1 {
		t.Errorf("free first: free %d paid %d, want 1 and 1", got.FreeCredits, got.Credits)
	}
	// A request id belongs to one key.
	if _, err := d.Charge(ctx, k2.ID, 1, "r1"); err == nil {
		t.Error("charging another key's request id succeeded")
	}
	if got, _ := d.Key(ctx, k2.ID); got.FreeCredits != 1 || got.Credits != 1 {
		t.Errorf("a refused charge changed the key: %+v", got)
	}
	if _, err := d.Charge(ctx, "k_nothere", 1, "u1"); !errors.Is(err, faceswap.ErrUnknownKey) {
		t.Errorf("Charge(unknown) = %v, want ErrUnknownKey", err)
	}
	if _, err := d.Charge(ctx, k2.ID, 1, ""); err == nil {
		t.Error("Charge with an empty request id succeeded")
	}
	if _, err := d.Charge(ctx, k2.ID, -1, "neg"); err == nil {
		t.Error("Charge with a negative cost succeeded")
	}

	usage := usageRows(t, d)
	want := map[string]int64{"r1": 3, "r2": 4, "s1": 2}
	if len(usage) != len(want) {
		t.Errorf("usage rows = %v, want %v", usage, want)
	}
	for id, c := range want {
		if usage[id] != c {
			t.Errorf("usage[%s] = %d, want %d", id, usage[id], c)
		}
	}
}

func usageRows(t *testing.T, d *DB) map[string]int64 {
	t.Helper()
	rows, err := d.r.Query(`SELECT request_id, cost FROM usage`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	m := map[string]int64{}
	for rows.Next() {
		var id string
		var c int64
		if err := rows.Scan(&id, &c); err != nil {
			t.Fatal(err)
		}
		m[id] = c
	}
	return m
}

// 50 concurrent charges of 1 on a key with 10 credits: exactly 10 succeed,
// none fails with anything but ErrInsufficientCredits (no SQLITE_BUSY).
func TestChargeConcurrent(t *testing.T) {
	ctx := context.Background()
	d, _ := openTemp(t)
	_, k := create(t, d, faceswap.KeyOptions{Credits: 6, FreeCredits: 4})
	const n = 50
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			_, errs[i] = d.Charge(ctx, k.ID, 1, fmt.Sprint("req-", i))
		})
	}
	began := time.Now()
	close(start)
	wg.Wait()
	elapsed := time.Since(began)
	ok, short := 0, 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, faceswap.ErrInsufficientCredits):
			short++
		default:
			t.Errorf("charge %d: %v", i, err)
		}
	}
	if ok != 10 || short != 40 {
		t.Errorf("%d charges succeeded and %d were refused, want 10 and 40", ok, short)
	}
	got, err := d.Key(ctx, k.ID)
	if err != nil || got.Credits != 0 || got.FreeCredits != 0 {
		t.Errorf("balance after = %+v, %v; want 0 and 0", got, err)
	}
	if u := usageRows(t, d); len(u) != 10 {
		t.Errorf("%d usage rows, want 10", len(u))
	}
	t.Logf("%d concurrent charges in %v (%.0f/s)", n, elapsed, n/elapsed.Seconds())
}

// Two stores on one file, as a "faceswap keys" command next to a running
// server: writes from both wait for each other instead of failing.
func TestTwoHandlesOneFile(t *testing.T) {
	ctx := context.Background()
	d1, path := openTemp(t)
	d2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	_, k := create(t, d1, faceswap.KeyOptions{Credits: 40})
	var wg sync.WaitGroup
	errs := make([]error, 40)
	for i := range 40 {
		d := d1
		if i%2 == 1 {
			d = d2
		}
		wg.Go(func() { _, errs[i] = d.Charge(ctx, k.ID, 1, fmt.Sprint("x", i)) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("charge %d: %v", i, err)
		}
	}
	if got, _ := d2.Key(ctx, k.ID); got.Credits != 0 {
		t.Errorf("balance %d after 40 charges of 40 credits", got.Credits)
	}
}

func TestReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sub dir?#", "f.db")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	secret, k := create(t, d, faceswap.KeyOptions{Name: "kept", Credits: 3})
	if _, err := d.Charge(ctx, k.ID, 1, "before"); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("no database file at %s (special characters in the path mangled?)", path)
	}

	for range 2 {
		d, err = Open(path)
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		got, err := d.Authenticate(ctx, secret)
		if err != nil || got.Name != "kept" || got.Credits != 2 {
			t.Errorf("after reopening: %+v, %v; want kept with 2 credits", got, err)
		}
		if _, err := d.Charge(ctx, k.ID, 1, "before"); err != nil {
			t.Errorf("repeated request id after reopening: %v", err)
		}
		var versions, applied int
		d.r.QueryRow(`SELECT count(*), count(DISTINCT version) FROM schema_version`).Scan(&applied, &versions)
		ms, _ := loadMigrations(migrationsFS)
		if applied != len(ms) || versions != len(ms) {
			t.Errorf("schema_version has %d rows (%d versions), want one per migration (%d)", applied, versions, len(ms))
		}
		d.Close()
	}
}

// A migration added later is applied once, to a database that has data,
// in order; one that fails leaves nothing behind; a database newer than the
// code is refused.
func TestMigrations(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.db")
	first, err := fs2map(migrationsFS)
	if err != nil {
		t.Fatal(err)
	}
	d, err := open(ctx, path, first)
	if err != nil {
		t.Fatal(err)
	}
	_, k := create(t, d, faceswap.KeyOptions{Name: "old"})
	d.Close()

	second := fstest.MapFS{}
	for n, f := range first {
		second[n] = f
	}
	second["0099_note.sql"] = &fstest.MapFile{Data: []byte(
		`CREATE TABLE notes (key_id TEXT REFERENCES keys (id), note TEXT) STRICT;
		 INSERT INTO notes SELECT id, 'migrated' FROM keys;`)}
	for range 2 {
		d, err = open(ctx, path, second)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		d.r.QueryRow(`SELECT count(*) FROM notes WHERE key_id = ?`, k.ID).Scan(&n)
		if n != 1 {
			t.Errorf("notes rows for the old key = %d, want 1 (applied once)", n)
		}
		d.Close()
	}

	bad := fstest.MapFS{}
	for n, f := range second {
		bad[n] = f
	}
	bad["0100_bad.sql"] = &fstest.MapFile{Data: []byte(`CREATE TABLE half (x INTEGER); SELECT nonsense FROM nowhere;`)}
	if _, err := open(ctx, path, bad); err == nil || !strings.Contains(err.Error(), "0100_bad.sql") {
		t.Errorf("a failing migration: err = %v, want one naming 0100_bad.sql", err)
	}
	d, err = open(ctx, path, second)
	if err != nil {
		t.Fatal(err)
	}
	var half int
	d.r.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE name = 'half'`).Scan(&half)
	if half != 0 {
		t.Error("the failed migration left its table behind")
	}
	d.Close()

	if _, err := open(ctx, path, first); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("opening a newer database with older code: err = %v, want a refusal", err)
	}

	dup := fstest.MapFS{
		"0001_a.sql": &fstest.MapFile{Data: []byte(`SELECT 1;`)},
		"1_b.sql":    &fstest.MapFile{Data: []byte(`SELECT 1;`)},
	}
	if _, err := loadMigrations(dup); err == nil {
		t.Error("two migrations numbered 1 were accepted")
	}
}

func TestConnectionSettings(t *testing.T) {
	d, _ := openTemp(t)
	for _, c := range []struct {
		db      *sql.DB
		pragma  string
		want    string
		whichDB string
	}{
		{d.w, "journal_mode", "wal", "writer"},
		{d.w, "foreign_keys", "1", "writer"},
		{d.w, "busy_timeout", fmt.Sprint(busyTimeout.Milliseconds()), "writer"},
		{d.w, "synchronous", "2", "writer"},
		{d.r, "journal_mode", "wal", "reader"},
		{d.r, "foreign_keys", "1", "reader"},
		{d.r, "busy_timeout", fmt.Sprint(busyTimeout.Milliseconds()), "reader"},
		{d.r, "query_only", "1", "reader"},
	} {
		var got string
		if err := c.db.QueryRow("PRAGMA " + c.pragma).Scan(&got); err != nil || got != c.want {
			t.Errorf("%s: PRAGMA %s = %q, %v; want %q", c.whichDB, c.pragma, got, err, c.want)
		}
	}
	// Foreign keys are enforced: usage must name a key.
	if _, err := d.w.Exec(`INSERT INTO usage (request_id, key_id, cost, at) VALUES ('x', 'k_none', 1, 0)`); err == nil {
		t.Error("a usage row for a missing key was accepted")
	}
}

func TestOpenRejects(t *testing.T) {
	for _, p := range []string{"", ":memory:", "file:x.db"} {
		if d, err := Open(p); err == nil {
			d.Close()
			t.Errorf("Open(%q) succeeded", p)
		}
	}
	if d, err := Open(filepath.Join(t.TempDir(), "missing", "x.db")); err == nil {
		d.Close()
		t.Error("Open in a missing folder succeeded")
	}
}

func TestRandomBase62(t *testing.T) {
	seen := map[byte]int{}
	for range 200 {
		s, err := randomBase62(32)
		if err != nil {
			t.Fatal(err)
		}
		for i := range len(s) {
			seen[s[i]]++
		}
	}
	// 6400 draws over 62 characters: every one appears (missing one by
	// chance has probability about 62·e^-103).
	if len(seen) != 62 {
		t.Errorf("%d distinct characters in 6400 draws, want 62", len(seen))
	}
}

func BenchmarkCharge(b *testing.B) {
	d, err := Open(filepath.Join(b.TempDir(), "b.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	_, k, err := d.CreateKey(context.Background(), faceswap.KeyOptions{Credits: MaxCredits})
	if err != nil {
		b.Fatal(err)
	}
	var mu sync.Mutex
	n := 0
	b.SetParallelism(25) // 50 goroutines on 2 cores
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			mu.Lock()
			n++
			id := fmt.Sprint("b", n)
			mu.Unlock()
			if _, err := d.Charge(context.Background(), k.ID, 1, id); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// fs2map copies the migrations into a MapFS that tests can extend.
func fs2map(fsys fs.FS) (fstest.MapFS, error) {
	m := fstest.MapFS{}
	err := fs.WalkDir(fsys, ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		m[p] = &fstest.MapFile{Data: b}
		return err
	})
	return m, err
}
