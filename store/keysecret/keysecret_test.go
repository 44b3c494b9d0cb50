package keysecret

import (
	"encoding/hex"
	"regexp"
	"testing"

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
