package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"faceswap/store/migrations"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"faceswap"
	"faceswap/store/keysecret"
	"faceswap/store/storetest"
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

// TestConformance runs the tests every accounts store must pass, each on a
// new database file.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store {
		path := storetest.Database(t, func() string { return filepath.Join(t.TempDir(), "faceswap.db") })
		d, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		return d
	},
		storetest.WithUsage(func(t *testing.T, a faceswap.Accounts) map[string]int64 { return usageRows(t, a.(*DB)) }),
		// The whole file and its write-ahead log, where fresh writes are.
		storetest.WithStored(func(t *testing.T, a faceswap.Accounts) []byte {
			var all []byte
			for _, f := range []string{a.(*DB).Path(), a.(*DB).Path() + "-wal"} {
				b, err := os.ReadFile(f)
				if err != nil && !errors.Is(err, fs.ErrNotExist) {
					t.Fatal(err)
				}
				all = append(all, b...)
			}
			return all
		}))
}

// The secrets are not in the database in any form but their SHA-256.
func TestSecretHashStored(t *testing.T) {
	d, _ := openTemp(t)
	secret, k := create(t, d, faceswap.KeyOptions{Name: "k"})
	var h []byte
	if err := d.r.QueryRow(`SELECT secret_hash FROM keys WHERE id = ?`, k.ID).Scan(&h); err != nil {
		t.Fatal(err)
	}
	if want := keysecret.Hash(secret); !bytes.Equal(h, want) {
		t.Errorf("stored hash %x, want SHA-256 of the secret %x", h, want)
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
		ms, _ := migrations.Load(migrationsFS)
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
	if _, err := migrations.Load(dup); err == nil {
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
