package faceswap

import (
	"context"
	"net/http"
	"time"
)

// Key is an API key's account. The secret itself is never stored; ID is
// its public, non-secret identifier (shown by "keys list").
type Key struct {
	ID            string
	Name          string
	Credits       int64 // paid credits
	FreeCredits   int64 // spent before paid credits
	RatePerMinute int   // 0: the server's default
	Disabled      bool
	Admin         bool // may call admin endpoints
	CreatedAt     time.Time
}

// KeyOptions describe a new key.
type KeyOptions struct {
	Name          string
	Credits       int64
	FreeCredits   int64
	RatePerMinute int
	Admin         bool
}

// Price is what a swap costs: Credits per successful request, or per
// swapped face when PerFace. The sync and async calls charge Of the faces
// swapped, and check a balance against Of the faces asked for.
type Price struct {
	Credits int64
	PerFace bool
}

// Of is the price of a request swapping faces faces.
func (p Price) Of(faces int) int64 {
	if p.PerFace {
		return p.Credits * int64(faces)
	}
	return p.Credits
}

// Accounts stores API keys and their credits. Implementations (store/sqlite,
// later store/postgres) must be safe for concurrent use, and Charge must be
// atomic: concurrent charges never spend more than the balance.
type Accounts interface {
	// CreateKey makes a key and returns its secret, which is shown once and
	// stored only as a hash.
	CreateKey(ctx context.Context, opt KeyOptions) (secret string, k Key, err error)
	// Authenticate returns the key whose secret this is: ErrUnknownKey when
	// none is, ErrKeyDisabled when it is disabled.
	Authenticate(ctx context.Context, secret string) (Key, error)
	// Key returns a key by ID (ErrUnknownKey when there is none).
	Key(ctx context.Context, id string) (Key, error)
	// Keys lists every key, oldest first.
	Keys(ctx context.Context) ([]Key, error)
	// DisableKey disables a key for good.
	DisableKey(ctx context.Context, id string) error
	// AddCredits adds n paid credits (n may be negative, not below zero).
	AddCredits(ctx context.Context, id string, n int64) (Key, error)
	// Charge takes cost credits, free credits first, only if the key has
	// them all (ErrInsufficientCredits otherwise, nothing taken), records
	// the use under requestID, and returns the credits left (free + paid).
	Charge(ctx context.Context, id string, cost int64, requestID string) (remaining int64, err error)
	// Ping checks that the store is reachable.
	Ping(ctx context.Context) error
	Close() error
}

// Errors of Accounts, each a *Error with the status the API answers.
var (
	ErrUnknownKey          = &Error{Status: http.StatusUnauthorized, Message: "The x-api-key header is missing or the key is unknown."}
	ErrKeyDisabled         = &Error{Status: http.StatusForbidden, Message: "This API key is disabled."}
	ErrInsufficientCredits = &Error{Status: http.StatusNotAcceptable, Message: "Insufficient credits: this request needs more credits than the key has left."}
)

// RateDecision is a rate limiter's answer for one request.
type RateDecision struct {
	Allowed    bool
	Limit      int           // requests per window
	Remaining  int           // left in the current window
	Reset      time.Time     // when the window resets
	RetryAfter time.Duration // when not allowed: how long to wait
}

// Limiter limits requests per key. Implementations (limit/memory, later
// limit/redis) must be safe for concurrent use.
type Limiter interface {
	// Allow counts one request for key against perMinute.
	Allow(ctx context.Context, key string, perMinute int) (RateDecision, error)
}

// Fetcher fetches an input image from a URL the client gave, refusing what
// the server must not fetch (SPEC §5).
type Fetcher interface {
	Fetch(ctx context.Context, url string) ([]byte, error)
}
