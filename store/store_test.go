package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"faceswap"
	"faceswap/jobs/river"
)

// handler records the jobs a queue's workers hand it.
type handler struct{ processed chan string }

func (h handler) Process(ctx context.Context, id string) error { h.processed <- id; return nil }
func (h handler) Deliver(ctx context.Context, id string) error { return nil }

// TestOneDatabase: the store opened from a SQLite path gives accounts and
// jobs in one database (completing a job charges the key the accounts
// see), and a queue on that database whose workers run what is queued.
func TestOneDatabase(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, Config{Path: filepath.Join(t.TempDir(), "faceswap.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, k, err := st.Accounts().CreateKey(ctx, faceswap.KeyOptions{Credits: 5})
	if err != nil {
		t.Fatal(err)
	}
	j, _, err := st.Jobs().CreateJob(ctx, faceswap.Job{ID: "req_000000000000000000000001", KeyID: k.ID, Input: []byte("{}")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Jobs().FinishJob(ctx, j.ID, faceswap.JobOutcome{Completed: true, Cost: 2, Keep: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if got, err := st.Accounts().Key(ctx, k.ID); err != nil || got.Credits != 3 {
		t.Errorf("the key after its job was charged 2: %+v, %v; want 3 credits", got, err)
	}

	q, err := st.OpenQueue(ctx, river.Config{Workers: 1, PollInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	h := handler{processed: make(chan string, 1)}
	if err := q.Start(ctx, h); err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx, h); err == nil {
		t.Error("a queue started twice")
	}
	if err := q.Enqueue(ctx, j.ID); err != nil {
		t.Fatal(err)
	}
	select {
	case id := <-h.processed:
		if id != j.ID {
			t.Errorf("the worker ran %q, want %q", id, j.ID)
		}
	case <-time.After(30 * time.Second):
		t.Error("the queued job was not run")
	}
	stop, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := q.Stop(stop); err != nil {
		t.Error(err)
	}
	// Stopping the queue leaves the store open.
	if err := st.Accounts().Ping(ctx); err != nil {
		t.Errorf("the store after the queue stopped: %v", err)
	}
}
