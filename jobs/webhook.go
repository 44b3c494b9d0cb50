package jobs

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"faceswap"
)

// Webhook headers. The signature is "sha256=" and the lowercase hex of
// HMAC-SHA256(secret, body), computed over the exact bytes of the body.
const (
	SignatureHeader = "X-Faceswap-Signature"
	RequestIDHeader = "X-Faceswap-Request-Id"
)

// Sign returns the signature header's value for body.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether header is body's signature under secret (what a
// receiver does; constant time).
func Verify(secret, body []byte, header string) bool {
	got, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return false
	}
	sum, err := hex.DecodeString(got)
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return hmac.Equal(sum, m.Sum(nil))
}

// ErrPermanent marks a delivery that retrying cannot fix (the URL or its
// address is refused, the job is gone): the queue gives up at once.
var ErrPermanent = errors.New("permanent webhook failure")

// Deliver POSTs job id's final status body to its webhook, signed. It
// returns an error to be retried later (with the queue's backoff) when the
// receiver could not be reached or did not answer 2xx, and one wrapping
// ErrPermanent when retrying cannot help.
func (s *Service) Deliver(ctx context.Context, id string) error {
	j, err := s.jobs.Job(ctx, id)
	if errors.Is(err, faceswap.ErrJobNotFound) {
		return fmt.Errorf("jobs: webhook of %s: the job expired before delivery: %w", id, ErrPermanent)
	}
	if err != nil {
		return err
	}
	if j.Webhook == "" || !j.Status.Finished() {
		return fmt.Errorf("jobs: webhook of %s: nothing to deliver (status %s): %w", id, j.Status, ErrPermanent)
	}
	if s.cfg.WebhookSecret == "" {
		return fmt.Errorf("jobs: webhook of %s: no webhook secret: %w", id, ErrPermanent)
	}
	body, err := json.Marshal(StatusOf(j))
	if err != nil {
		return err
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(SignatureHeader, Sign([]byte(s.cfg.WebhookSecret), body))
	h.Set(RequestIDHeader, j.ID)
	code, err := s.poster.Post(ctx, j.Webhook, body, h)
	log := s.log.With(slog.String("job", j.ID), slog.Int("answer", code))
	if err != nil {
		if faceswap.StatusOf(err) == http.StatusBadRequest {
			log.Warn("webhook refused", slog.Any("err", err))
			return fmt.Errorf("jobs: webhook of %s: %w: %w", id, err, ErrPermanent)
		}
		log.Info("webhook not delivered; will retry", slog.Any("err", err))
		return fmt.Errorf("jobs: webhook of %s: %w", id, err)
	}
	log.Info("webhook delivered")
	return nil
}
