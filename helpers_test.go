package actions

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// recorder records calls in order, safe for concurrent use; tests assert
// order by comparing its trace.
type recorder struct {
	mu    sync.Mutex
	calls []string
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	r.calls = append(r.calls, s)
	r.mu.Unlock()
}

func (r *recorder) trace() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.calls, " ")
}

func (r *recorder) sorted() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := slices.Clone(r.calls)
	slices.Sort(s)
	return strings.Join(s, " ")
}

// listen returns a listener that records tag and returns err.
func (r *recorder) listen(tag string, err error) Listener {
	return func(context.Context, any) error {
		r.add(tag)
		return err
	}
}

// body returns a body that records tag and returns res.
func (r *recorder) body(tag string, res any) Body {
	return func(context.Context, any) (any, error) {
		r.add(tag)
		return res, nil
	}
}

// mustRegister registers an action and fails the test on error.
func mustRegister(t testing.TB, r *Registry, name string, body Body, opts ...ActionOption) func() bool {
	t.Helper()
	unregister, err := r.RegisterAction(name, body, opts...)
	require.NoError(t, err)
	return unregister
}

func TestRecorder(t *testing.T) {
	var rec recorder
	rec.add("b")
	rec.add("a")
	require.Equal(t, "b a", rec.trace())
	require.Equal(t, "a b", rec.sorted())
}
