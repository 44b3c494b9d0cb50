// Package keysecret holds what every accounts store (store/sqlite,
// store/postgres) must agree on about API keys, so that a key made by one
// looks and checks the same as a key made by another: the secret's format
// and the hash stored in its place, the public key ID, and the bounds on
// credits.
package keysecret

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"net/http"
	"time"

	"faceswap"
)

// Prefix starts every key secret.
const Prefix = "fs_"

// IDPrefix starts every key's public ID.
const IDPrefix = "k_"

// MaxCredits bounds a key's paid and free credits, each, so that sums of
// them (and of a balance and a change within ±MaxCredits) never overflow.
const MaxCredits = 1_000_000_000_000_000

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// randomBase62 returns n characters drawn uniformly from crypto/rand
// (bytes ≥ 248 are dropped so that every character is equally likely).
func randomBase62(n int) (string, error) {
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/4+8)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("keysecret: random: %w", err)
		}
		for _, b := range buf {
			if b < 248 && len(out) < n {
				out = append(out, base62[b%62])
			}
		}
	}
	return string(out), nil
}

// New returns a new key secret: Prefix and 32 base-62 characters, about
// 190 random bits.
func New() (string, error) {
	s, err := randomBase62(32)
	return Prefix + s, err
}

// NewID returns a new public key ID: IDPrefix and 8 base-62 characters.
// Stores retry on the rare collision.
func NewID() (string, error) {
	s, err := randomBase62(8)
	return IDPrefix + s, err
}

// Hash is what a store keeps of a secret: its SHA-256. A plain hash is
// enough here, unlike for passwords: the secret is 190 random bits, so
// there is no dictionary to try and brute force of the hash is hopeless;
// a slow hash (bcrypt, argon2) would only slow every request down.
func Hash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// CheckOptions refuses the options of a new key that no store accepts,
// with a 400 error.
func CheckOptions(opt faceswap.KeyOptions) error {
	switch {
	case opt.Credits < 0 || opt.Credits > MaxCredits:
		return faceswap.Errorf(http.StatusBadRequest, "Credits must be between 0 and %d.", int64(MaxCredits))
	case opt.FreeCredits < 0 || opt.FreeCredits > MaxCredits:
		return faceswap.Errorf(http.StatusBadRequest, "Free credits must be between 0 and %d.", int64(MaxCredits))
	case opt.RatePerMinute < 0:
		return faceswap.Errorf(http.StatusBadRequest, "The rate per minute must not be negative (0 means the server's default).")
	}
	return nil
}

// CheckCreditChange refuses a change of credits larger than MaxCredits
// either way, with a 400 error.
func CheckCreditChange(n int64) error {
	if n > MaxCredits || n < -MaxCredits {
		return faceswap.Errorf(http.StatusBadRequest, "A credit change must be between %d and %d.", -int64(MaxCredits), int64(MaxCredits))
	}
	return nil
}

// ErrTooManyCredits is the 400 error for a change that would leave a key
// holding more than MaxCredits.
var ErrTooManyCredits = faceswap.Errorf(http.StatusBadRequest, "A key can hold at most %d credits.", int64(MaxCredits))

// Create makes a key for opt, as every store's CreateKey does: it checks
// opt, draws a secret and an ID, and calls insert with the ID, the
// secret's hash and the creation time (UTC, whole microseconds, which
// every store keeps exactly) until insert reports the row stored. An ID or
// hash collision is astronomically unlikely; on one, insert stores nothing
// and a new pair is drawn. It returns the secret and the key as stored;
// store names the store in its own error.
func Create(store string, opt faceswap.KeyOptions, insert func(id string, hash []byte, created time.Time) (bool, error)) (string, faceswap.Key, error) {
	if err := CheckOptions(opt); err != nil {
		return "", faceswap.Key{}, err
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	for range 5 {
		secret, err := New()
		if err != nil {
			return "", faceswap.Key{}, err
		}
		id, err := NewID()
		if err != nil {
			return "", faceswap.Key{}, err
		}
		stored, err := insert(id, Hash(secret), now)
		if err != nil {
			return "", faceswap.Key{}, err
		}
		if stored {
			return secret, faceswap.Key{
				ID:            id,
				Name:          opt.Name,
				Credits:       opt.Credits,
				FreeCredits:   opt.FreeCredits,
				RatePerMinute: opt.RatePerMinute,
				Admin:         opt.Admin,
				CreatedAt:     now,
			}, nil
		}
	}
	return "", faceswap.Key{}, fmt.Errorf("%s: create key: could not draw an unused id", store)
}
