package keysecret

import (
	"bytes"
	"encoding/hex"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"faceswap"
)

func TestRandomBase62(t *testing.T) {
	seen := map[byte]int{}
	for range 200 {
		s, err := randomBase62(32)
		if err != nil {
			t.Fatal(err)
		}
		if len(s) != 32 {
			t.Fatalf("randomBase62(32) has %d characters", len(s))
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

func TestFormats(t *testing.T) {
	secretRE := regexp.MustCompile(`^fs_[0-9A-Za-z]{32}$`)
	idRE := regexp.MustCompile(`^k_[0-9A-Za-z]{8}$`)
	seen := map[string]bool{}
	for range 100 {
		s, err := New()
		if err != nil || !secretRE.MatchString(s) {
			t.Fatalf("New() = %q, %v; want fs_ and 32 base-62 characters", s, err)
		}
		id, err := NewID()
		if err != nil || !idRE.MatchString(id) {
			t.Fatalf("NewID() = %q, %v; want k_ and 8 base-62 characters", id, err)
		}
		if seen[s] || seen[id] {
			t.Fatalf("drew %q or %q twice", s, id)
		}
		seen[s], seen[id] = true, true
	}
}

// The stored hash is the plain SHA-256 of the whole secret: changing it
// would lock every existing key out.
func TestHash(t *testing.T) {
	got := hex.EncodeToString(Hash("abc"))
	if want := "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; got != want {
		t.Errorf("Hash(abc) = %s, want %s", got, want)
	}
}

func TestChecks(t *testing.T) {
	for _, opt := range []faceswap.KeyOptions{
		{Credits: -1}, {FreeCredits: -1}, {RatePerMinute: -1}, {Credits: MaxCredits + 1}, {FreeCredits: MaxCredits + 1},
	} {
		if err := CheckOptions(opt); faceswap.StatusOf(err) != 400 {
			t.Errorf("CheckOptions(%+v) = %v, want a 400 error", opt, err)
		}
	}
	if err := CheckOptions(faceswap.KeyOptions{Credits: MaxCredits, FreeCredits: MaxCredits, RatePerMinute: 1}); err != nil {
		t.Errorf("CheckOptions(at the bounds) = %v", err)
	}
	for n, ok := range map[int64]bool{0: true, MaxCredits: true, -MaxCredits: true, MaxCredits + 1: false, -MaxCredits - 1: false} {
		if err := CheckCreditChange(n); (err == nil) != ok || (err != nil && faceswap.StatusOf(err) != 400) {
			t.Errorf("CheckCreditChange(%d) = %v", n, err)
		}
	}
}

func TestCreateRetriesCollisions(t *testing.T) {
	opt := faceswap.KeyOptions{Name: "n", Credits: 5, FreeCredits: 2, RatePerMinute: 7, Admin: true}
	var ids []string
	var hashes [][]byte
	var times []time.Time
	secret, k, err := Create("test", opt, func(id string, hash []byte, created time.Time) (bool, error) {
		ids, hashes, times = append(ids, id), append(hashes, hash), append(times, created)
		return len(ids) == 3, nil // two collisions, then stored
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 3 || ids[0] == ids[1] || ids[1] == ids[2] {
		t.Fatalf("ids drawn %v, want three different", ids)
	}
	if k.ID != ids[2] || !bytes.Equal(Hash(secret), hashes[2]) || !k.CreatedAt.Equal(times[2]) {
		t.Errorf("key %+v with secret %s is not the third insert's (%s)", k, secret, ids[2])
	}
	if k.CreatedAt.Location() != time.UTC || k.CreatedAt.Nanosecond()%1000 != 0 {
		t.Errorf("created %v: want UTC in whole microseconds", k.CreatedAt)
	}
	want := faceswap.Key{ID: k.ID, Name: "n", Credits: 5, FreeCredits: 2, RatePerMinute: 7, Admin: true, CreatedAt: k.CreatedAt}
	if k != want {
		t.Errorf("key %+v, want %+v", k, want)
	}

	calls := 0
	_, _, err = Create("test", opt, func(string, []byte, time.Time) (bool, error) { calls++; return false, nil })
	if err == nil || !strings.HasPrefix(err.Error(), "test: create key: ") || calls != 5 {
		t.Errorf("always colliding: %v after %d draws, want the store's error after 5", err, calls)
	}
	boom := errors.New("boom")
	if _, _, err = Create("test", opt, func(string, []byte, time.Time) (bool, error) { return false, boom }); err != boom {
		t.Errorf("insert failing: %v, want its error", err)
	}
	calls = 0
	_, _, err = Create("test", faceswap.KeyOptions{Credits: -1}, func(string, []byte, time.Time) (bool, error) { calls++; return true, nil })
	if faceswap.StatusOf(err) != 400 || calls != 0 {
		t.Errorf("bad options: %v with %d inserts, want a 400 and none", err, calls)
	}
}
