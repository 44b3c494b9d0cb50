package postgres

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"faceswap/store/migrations"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"faceswap"
	"faceswap/store/keysecret"
	"faceswap/store/storetest"
)

// defaultTestURL is the database the tests use unless
// FACESWAP_TEST_POSTGRES names another (a URL whose user may create
// schemas). Each test works in a new schema of its own and drops it.
const defaultTestURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

var (
	reachOnce sync.Once
	reachErr  error
)

// baseURL returns the test database's URL, skipping t when the database
// does not answer — failing it instead under CI (CI=true), where it must.
func baseURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("FACESWAP_TEST_POSTGRES")
	if u == "" {
		u = defaultTestURL
	}
	reachOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, err := connect(ctx, u)
		if err != nil {
			reachErr = err
			return
		}
		c.Close(ctx)
	})
	if reachErr != nil {
		msg := fmt.Sprintf("PostgreSQL is not reachable (%v): start it on 127.0.0.1:5432 with a database \"test\" that user postgres may use, or set FACESWAP_TEST_POSTGRES to a database URL", reachErr)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return u
}

// connect opens one connection, ignoring the URL's pool settings.
func connect(ctx context.Context, u string) (*pgx.Conn, error) {
	cfg, err := pgxpool.ParseConfig(u)
	if err != nil {
		return nil, err
	}
	return pgx.ConnectConfig(ctx, cfg.ConnConfig)
}

// withSearchPath returns base with search_path set to schema.
func withSearchPath(t testing.TB, base, schema string) string {
	t.Helper()
	if !strings.Contains(base, "://") { // key=value form
		return base + " search_path='" + strings.ReplaceAll(schema, `'`, `\'`) + "'"
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	// libpq's URLs (and pgx's) decode only %XX: a space must not be '+'.
	// Encode writes a '+' of the value as %2B, so every '+' is a space.
	u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
	return u.String()
}

// schemaURL names a new schema, dropped when t ends, and returns the test
// database's URL with search_path set to it (Open creates it). The name is
// random, so parallel runs and leftovers of killed ones never collide.
func schemaURL(t testing.TB, schema string) string {
	t.Helper()
	base := baseURL(t)
	if schema == "" {
		var b [6]byte
		rand.Read(b[:])
		schema = "faceswap_test_" + hex.EncodeToString(b[:])
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := connect(ctx, base)
		if err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	return withSearchPath(t, base, schema)
}

func openTest(t testing.TB, u string) *DB {
	t.Helper()
	d, err := Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func usageRows(t *testing.T, d *DB) map[string]int64 {
	t.Helper()
	rows, err := d.pool.Query(context.Background(), `SELECT request_id, cost FROM usage`)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]int64{}
	var id string
	var c int64
	if _, err := pgx.ForEachRow(rows, []any{&id, &c}, func() error { m[id] = c; return nil }); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestConformance runs the tests every accounts store must pass, each in a
// new schema.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store {
		return openTest(t, storetest.Database(t, func() string { return schemaURL(t, "") }))
	},
		storetest.WithUsage(func(t *testing.T, a faceswap.Accounts) map[string]int64 { return usageRows(t, a.(*DB)) }),
		// Every row of every table in the schema, as text.
		storetest.WithStored(func(t *testing.T, a faceswap.Accounts) []byte {
			ctx := context.Background()
			d := a.(*DB)
			rows, err := d.pool.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`)
			if err != nil {
				t.Fatal(err)
			}
			tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				t.Fatal(err)
			}
			if len(tables) < 3 {
				t.Fatalf("tables %v, want keys, usage and schema_version at least", tables)
			}
			var all bytes.Buffer
			for _, tab := range tables {
				rows, err := d.pool.Query(ctx, `SELECT r::text FROM `+pgx.Identifier{tab}.Sanitize()+` r`)
				if err != nil {
					t.Fatal(err)
				}
				texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
				if err != nil {
					t.Fatal(err)
				}
				for _, s := range texts {
					all.WriteString(s + "\n")
				}
			}
			return all.Bytes()
		}))
}

// The store keeps the SHA-256 of the secret, as store/sqlite does: a key
// moved from one to the other still works.
func TestSecretHashStored(t *testing.T) {
	ctx := context.Background()
	d := openTest(t, schemaURL(t, ""))
	secret, k, err := d.CreateKey(ctx, faceswap.KeyOptions{Name: "k"})
	if err != nil {
		t.Fatal(err)
	}
	var h []byte
	if err := d.pool.QueryRow(ctx, `SELECT secret_hash FROM keys WHERE id = $1`, k.ID).Scan(&h); err != nil {
		t.Fatal(err)
	}
	if want := keysecret.Hash(secret); !bytes.Equal(h, want) {
		t.Errorf("stored hash %x, want SHA-256 of the secret %x", h, want)
	}
}

// Servers starting at once against a new schema all open it, and each
// migration is applied once.
func TestConcurrentOpen(t *testing.T) {
	ctx := context.Background()
	u := schemaURL(t, "")
	const n = 6
	dbs := make([]*DB, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			dbs[i], errs[i] = Open(ctx, u)
		})
	}
	close(start)
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Errorf("Open %d: %v", i, errs[i])
		} else {
			defer dbs[i].Close()
		}
	}
	if t.Failed() {
		return
	}
	ms, err := migrations.Load(migrationsFS)
	if err != nil {
		t.Fatal(err)
	}
	var rows, versions int
	if err := dbs[0].pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT version) FROM schema_version`).Scan(&rows, &versions); err != nil {
		t.Fatal(err)
	}
	if rows != len(ms) || versions != len(ms) {
		t.Errorf("schema_version has %d rows (%d versions), want one per migration (%d)", rows, versions, len(ms))
	}
	// What one made, the others see.
	_, k, err := dbs[1].CreateKey(ctx, faceswap.KeyOptions{Credits: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dbs[n-1].Charge(ctx, k.ID, 1, "r"); err != nil {
		t.Errorf("charging through another handle: %v", err)
	}
}

// A migration added later is applied once, to a schema that has data; one
// that fails leaves nothing behind; a schema newer than the code is
// refused.
func TestMigrations(t *testing.T) {
	ctx := context.Background()
	u := schemaURL(t, "")
	first, err := fs2map(migrationsFS)
	if err != nil {
		t.Fatal(err)
	}
	d, err := open(ctx, u, first)
	if err != nil {
		t.Fatal(err)
	}
	_, k, err := d.CreateKey(ctx, faceswap.KeyOptions{Name: "old"})
	if err != nil {
		t.Fatal(err)
	}
	d.Close()

	second := fstest.MapFS{}
	for n, f := range first {
		second[n] = f
	}
	second["0099_note.sql"] = &fstest.MapFile{Data: []byte(
		`CREATE TABLE notes (key_id text REFERENCES keys (id), note text);
		 INSERT INTO notes SELECT id, 'migrated' FROM keys;`)}
	for range 2 {
		d, err = open(ctx, u, second)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := d.pool.QueryRow(ctx, `SELECT count(*) FROM notes WHERE key_id = $1`, k.ID).Scan(&n); err != nil || n != 1 {
			t.Errorf("notes rows for the old key = %d, %v; want 1 (applied once)", n, err)
		}
		d.Close()
	}

	bad := fstest.MapFS{}
	for n, f := range second {
		bad[n] = f
	}
	bad["0100_bad.sql"] = &fstest.MapFile{Data: []byte(`CREATE TABLE half (x integer); SELECT nonsense FROM nowhere;`)}
	if _, err := open(ctx, u, bad); err == nil || !strings.Contains(err.Error(), "0100_bad.sql") {
		t.Errorf("a failing migration: err = %v, want one naming 0100_bad.sql", err)
	}
	d, err = open(ctx, u, second)
	if err != nil {
		t.Fatal(err)
	}
	var half bool
	if err := d.pool.QueryRow(ctx, `SELECT to_regclass('half') IS NOT NULL`).Scan(&half); err != nil || half {
		t.Errorf("the failed migration left its table behind (%v)", err)
	}
	if got, err := d.Key(ctx, k.ID); err != nil || got.Name != "old" {
		t.Errorf("the old key after migrating: %+v, %v", got, err)
	}
	d.Close()

	if _, err := open(ctx, u, first); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("opening a newer schema with older code: err = %v, want a refusal", err)
	}

	dup := fstest.MapFS{
		"0001_a.sql": &fstest.MapFile{Data: []byte(`SELECT 1;`)},
		"1_b.sql":    &fstest.MapFile{Data: []byte(`SELECT 1;`)},
	}
	if _, err := migrations.Load(dup); err == nil {
		t.Error("two migrations numbered 1 were accepted")
	}
}

// A schema named in search_path is created with its exact name, quoted
// or not, and the tables go there.
func TestSchemaFromSearchPath(t *testing.T) {
	ctx := context.Background()
	var b [4]byte
	rand.Read(b[:])
	name := "Faceswap Test " + hex.EncodeToString(b[:])
	u := schemaURL(t, name)
	d := openTest(t, withSearchPath(t, u, pgx.Identifier{name}.Sanitize()+", public"))
	var where string
	if err := d.pool.QueryRow(ctx, `SELECT table_schema FROM information_schema.tables WHERE table_name = 'keys' AND table_schema = current_schema()`).Scan(&where); err != nil || where != name {
		t.Errorf("keys table in schema %q, %v; want %q", where, err, name)
	}

	for in, want := range map[string]string{
		`faceswap`:              "faceswap",
		`FaceSwap, public`:      "faceswap",
		` "My ""x"" s", public`: `My "x" s`,
		`"a,b"`:                 "a,b",
	} {
		if got, ok := firstSchema(in); !ok || got != want {
			t.Errorf("firstSchema(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{`"$user", public`, `$user`, ``, `"unterminated`} {
		if got, ok := firstSchema(in); ok {
			t.Errorf("firstSchema(%q) = %q, want none", in, got)
		}
	}
}

func TestOpenRejects(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, u := range []string{"", "postgres://u:sekrit@127.0.0.1:99999999/db", "postgres://u:sekrit@127.0.0.1:1/db?sslmode=disable&connect_timeout=5"} {
		d, err := Open(ctx, u)
		if err == nil {
			d.Close()
			t.Errorf("Open(%q) succeeded", u)
			continue
		}
		if strings.Contains(err.Error(), "sekrit") {
			t.Errorf("Open(%q) error shows the password: %v", u, err)
		}
	}
}

func BenchmarkCharge(b *testing.B) {
	ctx := context.Background()
	d := openTest(b, schemaURL(b, ""))
	_, k, err := d.CreateKey(ctx, faceswap.KeyOptions{Credits: MaxCredits})
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
			if _, err := d.Charge(ctx, k.ID, 1, id); err != nil {
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

// A charge whose request ID another transaction is recording at that very
// moment waits for it and, once it commits, charges nothing: the request
// was paid for once.
func TestChargeRacesSameRequest(t *testing.T) {
	ctx := context.Background()
	u := schemaURL(t, "")
	d := openTest(t, u)
	_, k, err := d.CreateKey(ctx, faceswap.KeyOptions{Credits: 10})
	if err != nil {
		t.Fatal(err)
	}
	// The other server: its charge of "dup" is made but not committed.
	other, err := connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(ctx)
	tx, err := other.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	var left int64
	if err := tx.QueryRow(ctx, chargeSQL, k.ID, int64(4), "dup").Scan(&left); err != nil || left != 6 {
		t.Fatalf("the other charge: %d, %v", left, err)
	}
	var otherPID int
	if err := tx.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&otherPID); err != nil {
		t.Fatal(err)
	}

	type result struct {
		left int64
		err  error
	}
	done := make(chan result, 1)
	go func() {
		left, err := d.Charge(ctx, k.ID, 4, "dup")
		done <- result{left, err}
	}()
	// Wait until our charge is blocked behind the other transaction.
	for blocked := false; !blocked; {
		if err := d.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE $1 = ANY (pg_blocking_pids(pid)))`, otherPID).Scan(&blocked); err != nil {
			t.Fatal(err)
		}
		select {
		case r := <-done:
			t.Fatalf("the charge did not wait for the other one: %d, %v", r.left, r.err)
		default:
		}
		time.Sleep(time.Millisecond)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil || r.left != 6 {
		t.Errorf("the charge racing a committed one of the same request = %d, %v; want 6 left, no error", r.left, r.err)
	}
	if got, _ := d.Key(ctx, k.ID); got.Credits != 6 {
		t.Errorf("balance %d, want 6: the request was charged twice", got.Credits)
	}
}
