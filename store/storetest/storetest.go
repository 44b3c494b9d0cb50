// Package storetest is the conformance suite of faceswap.Accounts and
// faceswap.Jobs: the behaviour every store (store/sqlite, store/postgres)
// must share, so that a server behaves the same whichever one it runs on.
//
// A store's tests call Run with a function that opens the store:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) storetest.Store { ... })
//	}
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"faceswap"
	"faceswap/store/keysecret"
)

// Option adds a back-end specific check to Run.
type Option func(*config)

type config struct {
	usage  func(t *testing.T, a faceswap.Accounts) map[string]int64
	stored func(t *testing.T, a faceswap.Accounts) []byte
}

// WithUsage lets Run read the usage the store recorded: usage returns every
// recorded request ID of a's database with its cost. Without it, Run checks
// what was recorded through Charge alone.
func WithUsage(usage func(t *testing.T, a faceswap.Accounts) map[string]int64) Option {
	return func(c *config) { c.usage = usage }
}

// WithStored lets Run look for secrets in what the store keeps: stored
// returns everything a's database holds (its files, or a dump of its
// tables), which must not contain any secret in any form.
func WithStored(stored func(t *testing.T, a faceswap.Accounts) []byte) Option {
	return func(c *config) { c.stored = stored }
}

// Run runs the conformance tests, each as a subtest.
//
// open(t) returns a handle on t's database: the first call within a test
// makes a new, empty database, and later calls within the same test open
// new handles on that same database, as a second server or a "faceswap
// keys" command would (Database helps to write this). open registers the
// handle's Close with t.Cleanup; Run may close a handle itself first, so
// Close must be harmless to call twice.
func Run(t *testing.T, open func(t *testing.T) Store, opts ...Option) {
	var c config
	for _, o := range opts {
		o(&c)
	}
	s := &suite{open: open, config: c}
	for _, tc := range []struct {
		name string
		f    func(*testing.T)
	}{
		{"CreateAuthenticate", s.createAuthenticate},
		{"CreateKeyRejectsBadOptions", s.rejectsBadOptions},
		{"SecretsNotStored", s.secretsNotStored},
		{"KeysOrder", s.keysOrder},
		{"AddCredits", s.addCredits},
		{"Charge", s.charge},
		{"ChargeDisabledKey", s.chargeDisabled},
		{"ChargeConcurrent", s.chargeConcurrent},
		{"ChargeSameRequestConcurrent", s.chargeSameRequestConcurrent},
		{"TwoHandles", s.twoHandles},
		{"Reopen", s.reopen},
		{"Ping", s.ping},
		{"Jobs", s.jobs},
		{"JobsIdempotency", s.jobsIdempotency},
		{"JobsFinishConcurrent", s.jobsFinishConcurrent},
		{"JobsInsufficientCredits", s.jobsInsufficientCredits},
		{"JobsExpiry", s.jobsExpiry},
	} {
		t.Run(tc.name, tc.f)
	}
}

var (
	dbMu sync.Mutex
	dbs  = map[*testing.T]any{}
)

// Database returns what make returned on the first call for t, calling
// make then: the name of the database that open functions share between
// the handles they open within one test.
func Database[T any](t *testing.T, make func() T) T {
	t.Helper()
	dbMu.Lock()
	v, ok := dbs[t]
	dbMu.Unlock()
	if ok {
		return v.(T)
	}
	d := make()
	dbMu.Lock()
	dbs[t] = d
	dbMu.Unlock()
	t.Cleanup(func() {
		dbMu.Lock()
		delete(dbs, t)
		dbMu.Unlock()
	})
	return d
}

// Store is what a store keeps: keys and credits, and jobs.
type Store interface {
	faceswap.Accounts
	faceswap.Jobs
}

type suite struct {
	open func(t *testing.T) Store
	config
}

var (
	secretRE = regexp.MustCompile(`^fs_[0-9A-Za-z]{32}$`)
	idRE     = regexp.MustCompile(`^k_[0-9A-Za-z]{8}$`)
)

func create(t *testing.T, a faceswap.Accounts, opt faceswap.KeyOptions) (string, faceswap.Key) {
	t.Helper()
	secret, k, err := a.CreateKey(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	return secret, k
}

// sameKey compares keys field by field, times by instant (stores may
// return them in different locations).
func sameKey(a, b faceswap.Key) bool {
	ta, tb := a.CreatedAt, b.CreatedAt
	a.CreatedAt, b.CreatedAt = time.Time{}, time.Time{}
	return a == b && ta.Equal(tb)
}

func balance(t *testing.T, a faceswap.Accounts, id string) (paid, free int64) {
	t.Helper()
	k, err := a.Key(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return k.Credits, k.FreeCredits
}

func (s *suite) createAuthenticate(t *testing.T) {
	ctx := context.Background()
	a := s.open(t)
	opt := faceswap.KeyOptions{Name: "alice", Credits: 7, FreeCredits: 3, RatePerMinute: 5, Admin: true}
	before := time.Now()
	secret, k, err := a.CreateKey(ctx, opt)
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
	if k.CreatedAt.Before(before.Add(-time.Second)) || k.CreatedAt.After(time.Now().Add(time.Second)) {
		t.Errorf("CreatedAt = %v, want about now (%v)", k.CreatedAt, before)
	}

	got, err := a.Authenticate(ctx, secret)
	if err != nil {
		t.Fatalf("Authenticate(right secret) = %v", err)
	}
	if !sameKey(got, k) {
		t.Errorf("Authenticate = %+v, want %+v", got, k)
	}
	byID, err := a.Key(ctx, k.ID)
	if err != nil || !sameKey(byID, k) {
		t.Errorf("Key(%s) = %+v, %v; want %+v", k.ID, byID, err, k)
	}

	last := secret[len(secret)-1]
	wrong := secret[:len(secret)-1] + string(rune('a'+(last+1-'a')%26))
	for _, sec := range []string{"", wrong, "fs_", strings.ToUpper(secret), strings.ToLower(secret) + "x", secret[len(keysecret.Prefix):], k.ID, " " + secret} {
		if sec == secret {
			continue
		}
		if _, err := a.Authenticate(ctx, sec); !errors.Is(err, faceswap.ErrUnknownKey) {
			t.Errorf("Authenticate(%q) = %v, want ErrUnknownKey", sec, err)
		}
	}
	if _, err := a.Key(ctx, "k_nothere"); !errors.Is(err, faceswap.ErrUnknownKey) {
		t.Errorf("Key(unknown) = %v, want ErrUnknownKey", err)
	}

	secret2, k2 := create(t, a, faceswap.KeyOptions{Name: "bob"})
	if secret2 == secret || k2.ID == k.ID {
		t.Errorf("two keys share a secret or id: %s %s", secret2, k2.ID)
	}
	if k2.Admin || k2.Credits != 0 || k2.FreeCredits != 0 || k2.RatePerMinute != 0 {
		t.Errorf("a key made with default options = %+v", k2)
	}
	if err := a.DisableKey(ctx, k2.ID); err != nil {
		t.Fatal(err)
	}
	if err := a.DisableKey(ctx, k2.ID); err != nil {
		t.Errorf("disabling twice: %v", err)
	}
	got, err = a.Authenticate(ctx, secret2)
	if !errors.Is(err, faceswap.ErrKeyDisabled) {
		t.Errorf("Authenticate(disabled) = %v, want ErrKeyDisabled", err)
	}
	if faceswap.StatusOf(err) != 403 {
		t.Errorf("status of a disabled key = %d, want 403", faceswap.StatusOf(err))
	}
	if got.ID != k2.ID || got.Name != "bob" || !got.Disabled {
		t.Errorf("Authenticate(disabled) key = %+v, want %s disabled", got, k2.ID)
	}
	if byID, err := a.Key(ctx, k2.ID); err != nil || !byID.Disabled {
		t.Errorf("Key(disabled) = %+v, %v; want it disabled", byID, err)
	}
	if got, err := a.Authenticate(ctx, secret); err != nil || got.Disabled {
		t.Errorf("disabling bob affected alice: %+v, %v", got, err)
	}
	err = a.DisableKey(ctx, "k_nothere")
	if !errors.Is(err, faceswap.ErrUnknownKey) {
		t.Errorf("DisableKey(unknown) = %v, want ErrUnknownKey", err)
	}
	if faceswap.StatusOf(err) != 401 {
		t.Errorf("status of unknown key = %d, want 401", faceswap.StatusOf(err))
	}
}

func (s *suite) rejectsBadOptions(t *testing.T) {
	ctx := context.Background()
	a := s.open(t)
	for _, opt := range []faceswap.KeyOptions{
		{Credits: -1}, {FreeCredits: -1}, {RatePerMinute: -1},
		{Credits: keysecret.MaxCredits + 1}, {FreeCredits: keysecret.MaxCredits + 1},
	} {
		if _, _, err := a.CreateKey(ctx, opt); faceswap.StatusOf(err) != 400 {
			t.Errorf("CreateKey(%+v) = %v, want a 400 error", opt, err)
		}
	}
	if ks, err := a.Keys(ctx); err != nil || len(ks) != 0 {
		t.Errorf("rejected options made keys: %+v, %v", ks, err)
	}
	// The bounds themselves are fine.
	_, k := create(t, a, faceswap.KeyOptions{Credits: keysecret.MaxCredits, FreeCredits: keysecret.MaxCredits})
	if left, err := a.Charge(ctx, k.ID, keysecret.MaxCredits, "all-free"); err != nil || left != keysecret.MaxCredits {
		t.Errorf("Charge(MaxCredits of 2·MaxCredits) = %d, %v; want MaxCredits left", left, err)
	}
}

// Secrets are kept only as their hash: no Key field shows one and, when
// the back end can dump what it stores, neither does that.
func (s *suite) secretsNotStored(t *testing.T) {
	ctx := context.Background()
	a := s.open(t)
	var secrets []string
	for i := range 3 {
		sec, _ := create(t, a, faceswap.KeyOptions{Name: fmt.Sprint("k", i), Credits: 1})
		secrets = append(secrets, sec)
	}
	ks, err := a.Keys(ctx)
	if err != nil || len(ks) != 3 {
		t.Fatalf("Keys = %d keys, %v; want 3", len(ks), err)
	}
	for _, k := range ks {
		for _, sec := range secrets {
			if strings.Contains(fmt.Sprintf("%+v", k), sec[len(keysecret.Prefix):]) {
				t.Errorf("key %s shows a secret", k.ID)
			}
		}
	}
	if s.stored == nil {
		return
	}
	raw := s.stored(t, a)
	if len(raw) == 0 {
		t.Fatal("the store's dump is empty")
	}
	if !bytes.Contains(raw, []byte(ks[0].ID)) {
		t.Fatalf("the store's dump does not even hold key ID %s: it is not a dump of the keys", ks[0].ID)
	}
	for _, sec := range secrets {
		if bytes.Contains(raw, []byte(sec[len(keysecret.Prefix):])) {
			t.Errorf("the store holds a secret in the clear")
		}
	}
}

func (s *suite) keysOrder(t *testing.T) {
	ctx := context.Background()
	a := s.open(t)
	if ks, err := a.Keys(ctx); err != nil || len(ks) != 0 {
		t.Errorf("Keys of an empty store = %+v, %v", ks, err)
	}
	var made []faceswap.Key
	for i := range 5 {
		_, k := create(t, a, faceswap.KeyOptions{Name: fmt.Sprint("key", i), Credits: int64(i), FreeCredits: int64(10 * i), RatePerMinute: i})
		made = append(made, k)
	}
	ks, err := a.Keys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ks) != len(made) {
		t.Fatalf("Keys returned %d keys, want %d", len(ks), len(made))
	}
	for i, k := range ks {
		if !sameKey(k, made[i]) {
			t.Errorf("Keys[%d] = %+v, want %+v (oldest first)", i, k, made[i])
		}
	}
}

func (s *suite) addCredits(t *testing.T) {
	ctx := context.Background()
	a := s.open(t)
	_, k1 := create(t, a, faceswap.KeyOptions{Credits: 1})
	_, k2 := create(t, a, faceswap.KeyOptions{Name: "two", Credits: 2, FreeCredits: 3, RatePerMinute: 4, Admin: true})

	k, err := a.AddCredits(ctx, k2.ID, 10)
	want := k2
	want.Credits = 12
	if err != nil || !sameKey(k, want) {
		t.Errorf("AddCredits(+10) = %+v, %v; want %+v", k, err, want)
	}
	k, err = a.AddCredits(ctx, k2.ID, -5)
	if err != nil || k.Credits != 7 || k.FreeCredits != 3 {
		t.Errorf("AddCredits(-5) = %+v, %v; want 7 paid and 3 free credits", k, err)
	}
	// Not below zero, and free credits are left alone.
	k, err = a.AddCredits(ctx, k2.ID, -100)
	if err != nil || k.Credits != 0 || k.FreeCredits != 3 {
		t.Errorf("AddCredits(-100) = %+v, %v; want 0 paid (not below) and 3 free", k, err)
	}
	if paid, free := balance(t, a, k2.ID); paid != 0 || free != 3 {
		t.Errorf("after AddCredits(-100): paid %d free %d, want 0 and 3", paid, free)
	}
	if _, err := a.AddCredits(ctx, "k_nothere", 1); !errors.Is(err, faceswap.ErrUnknownKey) {
		t.Errorf("AddCredits(unknown) = %v, want ErrUnknownKey", err)
	}
	// Past the bound: refused, nothing changed.
	if _, err := a.AddCredits(ctx, k1.ID, keysecret.MaxCredits); faceswap.StatusOf(err) != 400 {
		t.Errorf("AddCredits past MaxCredits = %v, want a 400 error", err)
	}
	if _, err := a.AddCredits(ctx, k1.ID, keysecret.MaxCredits+1); faceswap.StatusOf(err) != 400 {
		t.Errorf("AddCredits(MaxCredits+1) = %v, want a 400 error", err)
	}
	if _, err := a.AddCredits(ctx, k1.ID, -keysecret.MaxCredits-1); faceswap.StatusOf(err) != 400 {
		t.Errorf("AddCredits(-MaxCredits-1) = %v, want a 400 error", err)
	}
	if paid, _ := balance(t, a, k1.ID); paid != 1 {
		t.Errorf("a refused AddCredits changed the balance to %d", paid)
	}
	// Up to the bound exactly is fine.
	if k, err := a.AddCredits(ctx, k1.ID, keysecret.MaxCredits-1); err != nil || k.Credits != keysecret.MaxCredits {
		t.Errorf("AddCredits up to MaxCredits = %+v, %v", k, err)
	}
	// A disabled key can still be credited (and stays disabled).
	if err := a.DisableKey(ctx, k2.ID); err != nil {
		t.Fatal(err)
	}
	if k, err := a.AddCredits(ctx, k2.ID, 1); err != nil || k.Credits != 1 || !k.Disabled {
		t.Errorf("AddCredits(disabled key) = %+v, %v", k, err)
	}
}

func (s *suite) charge(t *testing.T) {
	ctx := context.Background()
	a := s.open(t)
	_, k := create(t, a, faceswap.KeyOptions{Credits: 5, FreeCredits: 2})

	// 3: both free credits, then one paid.
	left, err := a.Charge(ctx, k.ID, 3, "r1")
	if err != nil || left != 4 {
		t.Fatalf("Charge(3) = %d, %v; want 4 left", left, err)
	}
	if paid, free := balance(t, a, k.ID); free != 0 || paid != 4 {
		t.Errorf("after Charge(3): free %d paid %d, want 0 and 4", free, paid)
	}
	// The same request again charges nothing.
	left, err = a.Charge(ctx, k.ID, 3, "r1")
	if err != nil || left != 4 {
		t.Errorf("repeated Charge(r1) = %d, %v; want 4 left and no error", left, err)
	}
	// Not enough: nothing taken, nothing recorded.
	_, err = a.Charge(ctx, k.ID, 5, "r2")
	if !errors.Is(err, faceswap.ErrInsufficientCredits) {
		t.Errorf("Charge(5 of 4) = %v, want ErrInsufficientCredits", err)
	}
	if faceswap.StatusOf(err) != 406 {
		t.Errorf("status = %d, want 406", faceswap.StatusOf(err))
	}
	if paid, free := balance(t, a, k.ID); paid != 4 || free != 0 {
		t.Errorf("a refused charge changed the key: paid %d free %d", paid, free)
	}
	// r2 was not recorded, so it can be used once there is enough.
	left, err = a.Charge(ctx, k.ID, 4, "r2")
	if err != nil || left != 0 {
		t.Errorf("Charge(4 of 4) = %d, %v; want 0 left", left, err)
	}
	// Repeating a recorded request on an empty key is still no error.
	if left, err := a.Charge(ctx, k.ID, 4, "r2"); err != nil || left != 0 {
		t.Errorf("repeated Charge(r2) on an empty key = %d, %v; want 0 and no error", left, err)
	}
	if _, err := a.Charge(ctx, k.ID, 1, "r3"); !errors.Is(err, faceswap.ErrInsufficientCredits) {
		t.Errorf("Charge on an empty key = %v, want ErrInsufficientCredits", err)
	}

	// Free credits only.
	_, k2 := create(t, a, faceswap.KeyOptions{Credits: 1, FreeCredits: 3})
	if left, err := a.Charge(ctx, k2.ID, 2, "s1"); err != nil || left != 2 {
		t.Errorf("Charge(2 of 3 free) = %d, %v; want 2 left", left, err)
	}
	if paid, free := balance(t, a, k2.ID); free != 1 || paid != 1 {
		t.Errorf("free first: free %d paid %d, want 1 and 1", free, paid)
	}
	// A request id belongs to one key.
	if _, err := a.Charge(ctx, k2.ID, 1, "r1"); err == nil {
		t.Error("charging another key's request id succeeded")
	}
	if _, err := a.Charge(ctx, k2.ID, 100, "r1"); err == nil {
		t.Error("charging another key's request id (more than it has) succeeded")
	}
	if paid, free := balance(t, a, k2.ID); free != 1 || paid != 1 {
		t.Errorf("a refused charge changed the key: free %d paid %d", free, paid)
	}
	if _, err := a.Charge(ctx, "k_nothere", 1, "u1"); !errors.Is(err, faceswap.ErrUnknownKey) {
		t.Errorf("Charge(unknown) = %v, want ErrUnknownKey", err)
	}
	if _, err := a.Charge(ctx, k2.ID, 1, ""); err == nil {
		t.Error("Charge with an empty request id succeeded")
	}
	if _, err := a.Charge(ctx, k2.ID, -1, "neg"); err == nil {
		t.Error("Charge with a negative cost succeeded")
	}
	if _, err := a.Charge(ctx, k2.ID, keysecret.MaxCredits+1, "huge"); err == nil {
		t.Error("Charge of more than MaxCredits succeeded")
	}
	if paid, free := balance(t, a, k2.ID); free != 1 || paid != 1 {
		t.Errorf("refused charges changed the key: free %d paid %d", free, paid)
	}
	// A charge of 0 is recorded like any other.
	if left, err := a.Charge(ctx, k2.ID, 0, "zero"); err != nil || left != 2 {
		t.Errorf("Charge(0) = %d, %v; want 2 left", left, err)
	}

	want := map[string]int64{"r1": 3, "r2": 4, "s1": 2, "zero": 0}
	if s.usage != nil {
		usage := s.usage(t, a)
		if len(usage) != len(want) {
			t.Errorf("usage rows = %v, want %v", usage, want)
		}
		for id, c := range want {
			if got, ok := usage[id]; !ok || got != c {
				t.Errorf("usage[%s] = %d (recorded %v), want %d", id, got, ok, c)
			}
		}
	}
	rec := recorded(t, a, k.ID, []string{"r1", "r2", "r3", "u1", "neg"})
	if !rec["r1"] || !rec["r2"] || rec["r3"] || rec["u1"] || rec["neg"] {
		t.Errorf("recorded request ids of the first key = %v, want r1 and r2 only", rec)
	}
}

// recorded tells which of the request ids are recorded for key id, through
// Charge alone: with enough credits, charging a recorded id again takes
// nothing, and any other id takes 1. It spends credits and records the ids.
func recorded(t *testing.T, a faceswap.Accounts, id string, requests []string) map[string]bool {
	t.Helper()
	ctx := context.Background()
	k, err := a.AddCredits(ctx, id, int64(len(requests)))
	if err != nil {
		t.Fatal(err)
	}
	left := k.Credits + k.FreeCredits
	rec := map[string]bool{}
	for _, r := range requests {
		now, err := a.Charge(ctx, id, 1, r)
		if err != nil {
			t.Fatalf("Charge(%s) while checking what was recorded: %v", r, err)
		}
		switch now {
		case left:
			rec[r] = true
		case left - 1:
		default:
			t.Fatalf("Charge(1, %s) went from %d to %d credits", r, left, now)
		}
		left = now
	}
	return rec
}

// Charge does not look at Disabled: work done before a key was disabled is
// still paid for.
func (s *suite) chargeDisabled(t *testing.T) {
	ctx := context.Background()
	a := s.open(t)
	_, k := create(t, a, faceswap.KeyOptions{Credits: 3})
	if err := a.DisableKey(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	if left, err := a.Charge(ctx, k.ID, 2, "late"); err != nil || left != 1 {
		t.Errorf("Charge(disabled key) = %d, %v; want 1 left", left, err)
	}
}

// chargeMany runs the charges at once, charge i through handles[i%len],
// and returns their errors.
func chargeMany(t *testing.T, handles []faceswap.Accounts, id string, n int, prefix string) (errs []error, elapsed time.Duration) {
	t.Helper()
	ctx := context.Background()
	errs = make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		a := handles[i%len(handles)]
		wg.Go(func() {
			<-start
			_, errs[i] = a.Charge(ctx, id, 1, fmt.Sprint(prefix, i))
		})
	}
	began := time.Now()
	close(start)
	wg.Wait()
	return errs, time.Since(began)
}

// count splits the errors of chargeMany into successes and refusals for
// want of credits, failing the test on any other error.
func count(t *testing.T, errs []error) (ok, short int, succeeded []int) {
	t.Helper()
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
			succeeded = append(succeeded, i)
		case errors.Is(err, faceswap.ErrInsufficientCredits):
			short++
		default:
			t.Errorf("charge %d: %v", i, err)
		}
	}
	return ok, short, succeeded
}

// 50 concurrent charges of 1 on a key with 10 credits: exactly 10 succeed,
// none fails with anything but ErrInsufficientCredits, and exactly the 10
// that succeeded are recorded.
func (s *suite) chargeConcurrent(t *testing.T) {
	a := s.open(t)
	_, k := create(t, a, faceswap.KeyOptions{Credits: 6, FreeCredits: 4})
	_, other := create(t, a, faceswap.KeyOptions{Credits: 5})
	const n = 50
	errs, elapsed := chargeMany(t, []faceswap.Accounts{a}, k.ID, n, "req-")
	ok, short, succeeded := count(t, errs)
	if ok != 10 || short != 40 {
		t.Errorf("%d charges succeeded and %d were refused, want 10 and 40", ok, short)
	}
	if paid, free := balance(t, a, k.ID); paid != 0 || free != 0 {
		t.Errorf("balance after = paid %d free %d; want 0 and 0", paid, free)
	}
	if paid, _ := balance(t, a, other.ID); paid != 5 {
		t.Errorf("charges to one key changed another's balance to %d", paid)
	}
	if s.usage != nil {
		if u := s.usage(t, a); len(u) != 10 {
			t.Errorf("%d usage rows, want 10", len(u))
		}
	}
	var ids []string
	for i := range n {
		ids = append(ids, fmt.Sprint("req-", i))
	}
	rec := recorded(t, a, k.ID, ids)
	if len(rec) != 10 {
		t.Errorf("%d request ids recorded, want 10", len(rec))
	}
	for _, i := range succeeded {
		if !rec[fmt.Sprint("req-", i)] {
			t.Errorf("charge req-%d succeeded but was not recorded", i)
		}
	}
	t.Logf("%d concurrent charges in %v (%.0f/s)", n, elapsed, n/elapsed.Seconds())
}

// The same request charged 20 times at once (a client retrying in a hurry)
// is charged once.
func (s *suite) chargeSameRequestConcurrent(t *testing.T) {
	ctx := context.Background()
	a := s.open(t)
	_, k := create(t, a, faceswap.KeyOptions{Credits: 100})
	const n = 20
	errs := make([]error, n)
	lefts := make([]int64, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			lefts[i], errs[i] = a.Charge(ctx, k.ID, 3, "same")
		})
	}
	close(start)
	wg.Wait()
	for i := range n {
		if errs[i] != nil || lefts[i] != 97 {
			t.Errorf("charge %d of the same request = %d, %v; want 97 left", i, lefts[i], errs[i])
		}
	}
	if paid, _ := balance(t, a, k.ID); paid != 97 {
		t.Errorf("balance after = %d, want 97 (charged once)", paid)
	}
	if s.usage != nil {
		if u := s.usage(t, a); len(u) != 1 || u["same"] != 3 {
			t.Errorf("usage = %v, want one row for 3", u)
		}
	}
}

// Two handles on one database, as two servers or a "faceswap keys"
// command beside a server: charges through both wait for each other
// instead of failing, and together never overspend.
func (s *suite) twoHandles(t *testing.T) {
	ctx := context.Background()
	a1 := s.open(t)
	a2 := s.open(t)
	_, k := create(t, a1, faceswap.KeyOptions{Credits: 40})
	if got, err := a2.Key(ctx, k.ID); err != nil || got.Credits != 40 {
		t.Fatalf("the second handle sees %+v, %v; want the key made through the first (is it the same database?)", got, err)
	}
	handles := []faceswap.Accounts{a1, a2}
	errs, _ := chargeMany(t, handles, k.ID, 40, "x")
	if ok, _, _ := count(t, errs); ok != 40 {
		t.Errorf("%d of 40 charges on 40 credits succeeded, want all", ok)
	}
	if paid, _ := balance(t, a2, k.ID); paid != 0 {
		t.Errorf("balance %d after 40 charges of 40 credits", paid)
	}

	_, k2 := create(t, a2, faceswap.KeyOptions{Credits: 20})
	errs, _ = chargeMany(t, handles, k2.ID, 40, "y")
	if ok, short, _ := count(t, errs); ok != 20 || short != 20 {
		t.Errorf("%d charges succeeded and %d were refused on 20 credits, want 20 and 20", ok, short)
	}
	if paid, _ := balance(t, a1, k2.ID); paid != 0 {
		t.Errorf("balance %d after 20 charges of 20 credits", paid)
	}
	if s.usage != nil {
		if u := s.usage(t, a1); len(u) != 60 {
			t.Errorf("%d usage rows, want 60", len(u))
		}
	}
}

// Closing and opening the database again keeps keys, balances and the
// record of charges.
func (s *suite) reopen(t *testing.T) {
	ctx := context.Background()
	a := s.open(t)
	secret, k := create(t, a, faceswap.KeyOptions{Name: "kept", Credits: 3, FreeCredits: 1, Admin: true})
	if _, err := a.Charge(ctx, k.ID, 2, "before"); err != nil {
		t.Fatal(err)
	}
	_, gone := create(t, a, faceswap.KeyOptions{Name: "gone"})
	if err := a.DisableKey(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		a = s.open(t)
		got, err := a.Authenticate(ctx, secret)
		if err != nil || got.Name != "kept" || got.Credits != 2 || got.FreeCredits != 0 || !got.Admin || !got.CreatedAt.Equal(k.CreatedAt) {
			t.Errorf("after reopening: %+v, %v; want kept with 2 paid credits", got, err)
		}
		if left, err := a.Charge(ctx, k.ID, 2, "before"); err != nil || left != 2 {
			t.Errorf("repeated request id after reopening: %d, %v; want 2 left, not charged again", left, err)
		}
		if g, err := a.Key(ctx, gone.ID); err != nil || !g.Disabled {
			t.Errorf("disabled key after reopening: %+v, %v", g, err)
		}
		if ks, err := a.Keys(ctx); err != nil || len(ks) != 2 {
			t.Errorf("Keys after reopening: %d keys, %v; want 2", len(ks), err)
		}
		if err := a.Close(); err != nil {
			t.Error(err)
		}
	}
}

func (s *suite) ping(t *testing.T) {
	ctx := context.Background()
	a := s.open(t)
	if err := a.Ping(ctx); err != nil {
		t.Errorf("Ping = %v", err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Ping(ctx); err == nil {
		t.Error("Ping after Close succeeded")
	}
}
