package natsactions_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-actions/actions"
	"github.com/go-actions/actions/natsactions"
	"github.com/go-actions/actions/natsactions/internal/natstest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// leakCheck fails t if goroutines are left once its cleanups (servers,
// connections) have run: registered first, it runs last.
func leakCheck(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
}

// jetStream connects to url for t, with opts, and returns its JetStream.
func jetStream(t *testing.T, url string, opts ...nats.Option) (jetstream.JetStream, *nats.Conn) {
	t.Helper()
	nc := natstest.Connect(t, url, opts...)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js, nc
}

// newJetStream starts an embedded server for t and returns the JetStream of
// a connection to it: the setup of the tests of one replica's events and
// options. Both end with t. A test with several connections (replicas,
// services) starts the server itself and calls jetStream for each.
func newJetStream(t *testing.T) (jetstream.JetStream, *nats.Conn) {
	t.Helper()
	return jetStream(t, natstest.Server(t).ClientURL())
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

// within fails t if fn has not returned after d: the tests that could hang
// run under it.
func within(t *testing.T, d time.Duration, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("did not finish within %v", d)
	}
}

// env is one embedded server, a connection for the serving side and one for
// the calling side.
type env struct {
	url            string
	serveNC, useNC *nats.Conn
	client         *natsactions.Client
}

func newEnv(t *testing.T, opts ...natsactions.Option) *env {
	t.Helper()
	s := natstest.Server(t)
	e := &env{url: s.ClientURL(), serveNC: natstest.Connect(t, s.ClientURL()), useNC: natstest.Connect(t, s.ClientURL())}
	e.client = natsactions.NewClient(e.useNC, opts...)
	return e
}

// serve starts a server on reg serving names, closed when t ends.
func (e *env) serve(t *testing.T, reg *actions.Registry, names []string, opts ...natsactions.Option) *natsactions.Server {
	t.Helper()
	return serveOn(t, e.serveNC, reg, names, opts...)
}

func serveOn(t *testing.T, nc *nats.Conn, reg *actions.Registry, names []string, opts ...natsactions.Option) *natsactions.Server {
	t.Helper()
	srv, err := natsactions.NewServer(nc, reg, opts...)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	for _, n := range names {
		require.NoError(t, srv.Serve(n))
	}
	return srv
}

// recorder records steps, from any goroutine.
type recorder struct {
	mu    sync.Mutex
	steps []string
}

func (r *recorder) add(step string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.steps = append(r.steps, step)
}

func (r *recorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.steps = nil
}

func (r *recorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.steps, ", ")
}

func (r *recorder) count(step string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, s := range r.steps {
		if s == step {
			n++
		}
	}
	return n
}

// instrument puts a recorded step at every stage of name on reg, payload
// update aside (an option of the registration): block match, before,
// replacement, after.
func instrument(reg *actions.Registry, name, prefix string, rec *recorder) {
	reg.BlockAction(name, func(any) bool { rec.add(prefix + "block"); return false })
	reg.AddListener("before"+name, func(context.Context, any) error { rec.add(prefix + "before"); return nil })
	reg.AddListener("after"+name, func(context.Context, any) error { rec.add(prefix + "after"); return nil })
	reg.ReplaceAction(name, func(ctx context.Context, p any, original actions.Body) (any, error) {
		rec.add(prefix + "replace>")
		defer rec.add(prefix + "<replace")
		return original(ctx, p)
	})
}

// idObserver makes the registry hand out invocation IDs.
type idObserver struct{}

func (idObserver) InvocationBegin(ctx context.Context, _ actions.Invocation) context.Context {
	return ctx
}
func (idObserver) InvocationEnd(context.Context, actions.Invocation, actions.Outcome) {}

func echo(_ context.Context, p any) (any, error) { return fmt.Sprint("echo ", p), nil }
