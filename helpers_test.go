package actions

import (
	"context"
	"fmt"
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

// registerEveryStage registers "Act" with a payload update, two before- and
// two after-listeners and a replacement, each of which passes its stage's
// name and ctx to see.
func registerEveryStage(t testing.TB, r *Registry, concurrent bool, see func(stage string, ctx context.Context)) {
	t.Helper()
	mustRegister(t, r, "Act", func(ctx context.Context, p any) (any, error) {
		see("body", ctx)
		return p, nil
	}, Concurrent(concurrent), UpdatePayload(func(ctx context.Context, p any) (any, error) {
		see("update", ctx)
		return p, nil
	}))
	for _, ev := range []string{"beforeAct", "afterAct"} {
		for i := range 2 {
			r.AddListener(ev, func(ctx context.Context, _ any) error {
				see(fmt.Sprintf("%s%d", ev, i), ctx)
				return nil
			})
		}
	}
	r.ReplaceAction("Act", func(ctx context.Context, p any, original Body) (any, error) {
		see("replacement", ctx)
		return original(ctx, p)
	})
}

func TestRecorder(t *testing.T) {
	var rec recorder
	rec.add("b")
	rec.add("a")
	require.Equal(t, "b a", rec.trace())
	require.Equal(t, "a b", rec.sorted())
}
