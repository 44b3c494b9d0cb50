package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"faceswap"
)

var jobSeq int

func newJob(keyID string) faceswap.Job {
	jobSeq++
	return faceswap.Job{ID: fmt.Sprintf("job-%d-%d", time.Now().UnixNano(), jobSeq), KeyID: keyID, Input: []byte("input bytes"), Webhook: "https://example.com/hook"}
}

func (s *suite) jobs(t *testing.T) {
	ctx := context.Background()
	a := s.open(t)
	js := faceswap.Jobs(a)
	_, k := create(t, a, faceswap.KeyOptions{Credits: 5, FreeCredits: 1})

	if _, err := js.Job(ctx, "nope"); !errors.Is(err, faceswap.ErrJobNotFound) {
		t.Fatalf("unknown job: %v, want ErrJobNotFound", err)
	}
	want := newJob(k.ID)
	j, created, err := js.CreateJob(ctx, want)
	if err != nil || !created {
		t.Fatalf("CreateJob: created %v, %v", created, err)
	}
	if j.Status != faceswap.JobQueued || j.ID != want.ID || j.CreatedAt.IsZero() {
		t.Fatalf("created job %+v", j)
	}
	got, err := js.Job(ctx, want.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != faceswap.JobQueued || got.KeyID != k.ID || !bytes.Equal(got.Input, want.Input) || got.Webhook != want.Webhook ||
		got.Attempts != 0 || !got.CreatedAt.Equal(j.CreatedAt) || !got.StartedAt.IsZero() || !got.FinishedAt.IsZero() {
		t.Fatalf("stored job %+v", got)
	}
	// Started twice (a worker died, another took it over): two attempts.
	for want := 1; want <= 2; want++ {
		got, err = js.StartJob(ctx, j.ID)
		if err != nil || got.Status != faceswap.JobProcessing || got.Attempts != want || got.StartedAt.IsZero() {
			t.Fatalf("StartJob %d: %+v, %v", want, got, err)
		}
	}
	// Completing charges, once.
	out := faceswap.JobOutcome{Completed: true, ContentType: "image/jpeg", Result: []byte("jpeg"), FacesSwapped: 3,
		Metrics: []byte(`{"swap":1}`), Cost: 2, Keep: time.Hour}
	done, err := js.FinishJob(ctx, j.ID, out)
	if err != nil || done.Status != faceswap.JobCompleted || string(done.Result) != "jpeg" || done.Cost != 2 {
		t.Fatalf("FinishJob: %+v, %v", done, err)
	}
	if paid, free := balance(t, a, k.ID); paid+free != 4 {
		t.Fatalf("balance after completion %d, want 4", paid+free)
	}
	again, err := js.FinishJob(ctx, j.ID, faceswap.JobOutcome{ErrorStatus: 500, ErrorMessage: "late", Keep: time.Hour})
	if err != nil || again.Status != faceswap.JobCompleted || string(again.Result) != "jpeg" {
		t.Fatalf("second FinishJob changed the job: %+v, %v", again, err)
	}
	if st, err := js.StartJob(ctx, j.ID); err != nil || st.Status != faceswap.JobCompleted || st.Attempts != 2 {
		t.Fatalf("StartJob of a finished job: %+v, %v", st, err)
	}
	if paid, free := balance(t, a, k.ID); paid+free != 4 {
		t.Fatalf("balance after a second finish %d, want 4", paid+free)
	}
	got, err = js.Job(ctx, j.ID)
	if err != nil || got.Status != faceswap.JobCompleted || got.ContentType != "image/jpeg" || string(got.Result) != "jpeg" ||
		got.FacesSwapped != 3 || string(got.Metrics) != `{"swap":1}` || got.Cost != 2 || got.FinishedAt.IsZero() ||
		got.ExpiresAt.Sub(got.FinishedAt) != time.Hour {
		t.Fatalf("completed job %+v, %v", got, err)
	}
	if s.usage != nil {
		if u := s.usage(t, a); u[j.ID] != 2 {
			t.Fatalf("usage of the job: %v", u)
		}
	}

	// A failure charges nothing and keeps its status and message.
	f, _, err := js.CreateJob(ctx, newJob(k.ID))
	if err != nil {
		t.Fatal(err)
	}
	failed, err := js.FinishJob(ctx, f.ID, faceswap.JobOutcome{ErrorStatus: 422, ErrorMessage: "No face in source_img.", Keep: time.Hour})
	if err != nil || failed.Status != faceswap.JobFailed || failed.ErrorStatus != 422 || failed.ErrorMessage != "No face in source_img." || failed.Cost != 0 {
		t.Fatalf("failed job %+v, %v", failed, err)
	}
	if paid, free := balance(t, a, k.ID); paid+free != 4 {
		t.Fatalf("balance after a failure %d, want 4", paid+free)
	}
	if _, err := js.FinishJob(ctx, "nope", out); !errors.Is(err, faceswap.ErrJobNotFound) {
		t.Fatalf("finishing an unknown job: %v", err)
	}
}

func (s *suite) jobsIdempotency(t *testing.T) {
	ctx := context.Background()
	a := s.open(t)
	js := faceswap.Jobs(a)
	_, k1 := create(t, a, faceswap.KeyOptions{Credits: 5})
	_, k2 := create(t, a, faceswap.KeyOptions{Credits: 5})

	first := newJob(k1.ID)
	first.IdempotencyKey = "order-17"
	j1, created, err := js.CreateJob(ctx, first)
	if err != nil || !created {
		t.Fatal(created, err)
	}
	second := newJob(k1.ID)
	second.IdempotencyKey = "order-17"
	j2, created, err := js.CreateJob(ctx, second)
	if err != nil || created || j2.ID != j1.ID {
		t.Fatalf("repeated idempotency key: created %v, id %s (first %s), %v", created, j2.ID, j1.ID, err)
	}
	if _, err := js.Job(ctx, second.ID); !errors.Is(err, faceswap.ErrJobNotFound) {
		t.Fatalf("the repeated request was stored: %v", err)
	}
	// Another key's same idempotency key is its own; no key never collides.
	other := newJob(k2.ID)
	other.IdempotencyKey = "order-17"
	if j, created, err := js.CreateJob(ctx, other); err != nil || !created || j.ID != other.ID {
		t.Fatalf("another key's idempotency key: %v %v", created, err)
	}
	for range 2 {
		if _, created, err := js.CreateJob(ctx, newJob(k1.ID)); err != nil || !created {
			t.Fatalf("jobs without an idempotency key: %v %v", created, err)
		}
	}
	// Concurrent repeats: one job.
	const n = 20
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			j := newJobConcurrent(k1.ID, i)
			j.IdempotencyKey = "burst"
			got, _, err := js.CreateJob(ctx, j)
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = got.ID
		}()
	}
	wg.Wait()
	for i := range ids {
		if ids[i] != ids[0] {
			t.Fatalf("concurrent requests with one idempotency key got jobs %s and %s", ids[0], ids[i])
		}
	}
}

func newJobConcurrent(keyID string, i int) faceswap.Job {
	return faceswap.Job{ID: fmt.Sprintf("burst-%d-%d", time.Now().UnixNano(), i), KeyID: keyID, Input: []byte("x")}
}

// jobsFinishConcurrent: two workers finishing one job (one rescued after the
// other looked dead) record it and charge it once.
func (s *suite) jobsFinishConcurrent(t *testing.T) {
	ctx := context.Background()
	a1 := s.open(t)
	a2 := s.open(t)
	_, k := create(t, a1, faceswap.KeyOptions{Credits: 100})
	const jobs, finishers = 10, 4
	for range jobs {
		j, _, err := a1.CreateJob(ctx, newJob(k.ID))
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for w := range finishers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				h := []Store{a1, a2}[w%2]
				_, err := h.FinishJob(ctx, j.ID, faceswap.JobOutcome{Completed: true, ContentType: "image/png",
					Result: []byte{byte(w)}, Cost: 3, Keep: time.Hour})
				if err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
	}
	if paid, _ := balance(t, a1, k.ID); paid != 100-3*jobs {
		t.Fatalf("balance %d after %d jobs finished by %d workers each, want %d", paid, jobs, finishers, 100-3*jobs)
	}
}

// jobsInsufficientCredits: a key that spent its credits while its job was
// queued gets the job FAILED with the 406, and nothing charged.
func (s *suite) jobsInsufficientCredits(t *testing.T) {
	ctx := context.Background()
	a := s.open(t)
	js := faceswap.Jobs(a)
	_, k := create(t, a, faceswap.KeyOptions{Credits: 1})
	j, _, err := js.CreateJob(ctx, newJob(k.ID))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Charge(ctx, k.ID, 1, "spent-elsewhere"); err != nil {
		t.Fatal(err)
	}
	got, err := js.FinishJob(ctx, j.ID, faceswap.JobOutcome{Completed: true, Result: []byte("x"), Cost: 1, Keep: time.Hour})
	e := faceswap.ErrInsufficientCredits
	if err != nil || got.Status != faceswap.JobFailed || got.ErrorStatus != e.Status || got.ErrorMessage != e.Message || got.Result != nil || got.Cost != 0 {
		t.Fatalf("finishing without credits: %+v, %v", got, err)
	}
	if paid, free := balance(t, a, k.ID); paid+free != 0 {
		t.Fatalf("balance %d", paid+free)
	}
}

func (s *suite) jobsExpiry(t *testing.T) {
	ctx := context.Background()
	a := s.open(t)
	js := faceswap.Jobs(a)
	_, k := create(t, a, faceswap.KeyOptions{Credits: 5})
	short, _, _ := js.CreateJob(ctx, newJob(k.ID))
	long, _, _ := js.CreateJob(ctx, newJob(k.ID))
	queued, _, _ := js.CreateJob(ctx, newJob(k.ID))
	if _, err := js.FinishJob(ctx, short.ID, faceswap.JobOutcome{Completed: true, Result: []byte("a"), Keep: 50 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.FinishJob(ctx, long.ID, faceswap.JobOutcome{Completed: true, Result: []byte("b"), Keep: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Job(ctx, short.ID); err != nil {
		t.Fatalf("a job read before it expires: %v", err)
	}
	time.Sleep(100 * time.Millisecond)
	// Expired is gone for readers at once, before any sweep.
	if _, err := js.Job(ctx, short.ID); !errors.Is(err, faceswap.ErrJobNotFound) {
		t.Fatalf("an expired job: %v, want ErrJobNotFound", err)
	}
	n, err := js.DeleteExpiredJobs(ctx, time.Now())
	if err != nil || n != 1 {
		t.Fatalf("DeleteExpiredJobs: %d, %v; want 1", n, err)
	}
	for _, id := range []string{long.ID, queued.ID} {
		if _, err := js.Job(ctx, id); err != nil {
			t.Fatalf("job %s deleted with the expired one: %v", id, err)
		}
	}
}
