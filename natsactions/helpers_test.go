package natsactions_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/go-actions/actions/natsactions/internal/natstest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"
)

// leakCheck fails t if goroutines are left once its cleanups (servers,
// connections) have run: registered first, it runs last.
func leakCheck(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
}

// jetStream connects to url for t and returns its JetStream.
func jetStream(t *testing.T, url string) (jetstream.JetStream, *nats.Conn) {
	t.Helper()
	nc := natstest.Connect(t, url)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js, nc
}

// deadline returns a context that ends after d, so that a test that would
// hang fails instead.
func deadline(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// errs records what an error handler receives.
type errs struct {
	mu   sync.Mutex
	list []error
}

func (e *errs) handle(_ context.Context, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, err)
}

func (e *errs) all() []error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]error(nil), e.list...)
}

// matching returns the errors recorded that match target.
func (e *errs) matching(target error) []error {
	var out []error
	for _, err := range e.all() {
		if errors.Is(err, target) {
			out = append(out, err)
		}
	}
	return out
}

// eventually polls cond every 10 ms until it holds or ctx ends.
func eventually(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("%s: not within the deadline", what)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func jsonUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

func natsRetryOnFailedConnect() nats.Option { return nats.RetryOnFailedConnect(true) }
