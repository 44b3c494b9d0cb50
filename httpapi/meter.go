package httpapi

import (
	"context"
	"math"
	"net/http"
	"strconv"

	"faceswap"
)

var errNoKey = faceswap.Errorf(http.StatusUnauthorized, "The x-api-key header is missing; every request needs an API key.")

// begin authenticates the x-api-key of a metered request and, when
// limited, counts it against the key's rate limit. It sets the headers
// every metered response carries: X-Remaining-Credits, and X-RateLimit-*
// once the limiter has counted the request (plus Retry-After on a 429).
func (a *API) begin(ctx context.Context, w http.ResponseWriter, r *http.Request, limited bool) (faceswap.Key, error) {
	secret := r.Header.Get("X-Api-Key")
	if secret == "" {
		return faceswap.Key{}, errNoKey
	}
	k, err := a.opt.Accounts.Authenticate(ctx, secret)
	if err != nil {
		return faceswap.Key{}, err
	}
	stateOf(r).key = k.ID
	h := w.Header()
	h.Set("X-Remaining-Credits", strconv.FormatInt(k.Credits+k.FreeCredits, 10))
	if !limited {
		return k, nil
	}
	per := k.RatePerMinute
	if per <= 0 {
		per = a.opt.RatePerMinute
	}
	d, err := a.opt.Limiter.Allow(ctx, k.ID, per)
	if err != nil {
		return k, faceswap.Wrap(http.StatusServiceUnavailable, err, "The rate limiter is unavailable; retry shortly.")
	}
	h.Set("X-RateLimit-Limit", strconv.Itoa(d.Limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(d.Remaining, 0)))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(d.Reset.Unix(), 10))
	if !d.Allowed {
		secs := int(math.Ceil(d.RetryAfter.Seconds()))
		secs = max(secs, 1)
		h.Set("Retry-After", strconv.Itoa(secs))
		return k, faceswap.Errorf(http.StatusTooManyRequests,
			"Rate limit exceeded: this key may make %d requests per minute; retry in %d seconds.", d.Limit, secs)
	}
	return k, nil
}

// beginSwap is begin for a swap (rate limited) that also refuses a key
// whose balance cannot pay for one face. It returns the key and its balance.
func (a *API) beginSwap(ctx context.Context, w http.ResponseWriter, r *http.Request) (faceswap.Key, int64, error) {
	key, err := a.begin(ctx, w, r, true)
	if err != nil {
		return key, 0, err
	}
	balance := key.Credits + key.FreeCredits
	if balance < a.opt.Price.Of(1) {
		return key, balance, faceswap.ErrInsufficientCredits
	}
	return key, balance, nil
}

// handleCredits answers the calling key's balance.
func (a *API) handleCredits(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), a.opt.Deadline)
	defer cancel()
	k, err := a.begin(ctx, w, r, false)
	if err != nil {
		a.fail(w, r, ctx, err)
		return
	}
	writeJSON(w, http.StatusOK, creditsBody{Credits: k.Credits, FreeCredits: k.FreeCredits})
}

type creditsBody struct {
	Credits     int64 `json:"credits"`
	FreeCredits int64 `json:"free-credits"`
}
