package actions

import (
	"context"
	"errors"
	"runtime/debug"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Nesting: the depth limit stops a runaway recursion, whatever path it takes
// and whatever the limit, before it exhausts the stack; and nesting is
// carried by the ctx a stage receives, including the observer's, while the
// ancestors it names are still running.

func TestNest(t *testing.T) {
	ctx := context.Background()

	t.Run("Concurrency: WithMaxDepth above MaxDepthLimit panics", func(t *testing.T) {
		v, panicked := panicValue(func() { WithMaxDepth(MaxDepthLimit + 1) })
		assertSetupPanic(t, "WithMaxDepth(MaxDepthLimit+1)", v, panicked)
	})

	t.Run("Concurrency: WithMaxDepth(MaxDepthLimit) is accepted", func(t *testing.T) {
		v, panicked := panicValue(func() { New(WithMaxDepth(MaxDepthLimit)) })
		assert.False(t, panicked, "WithMaxDepth(MaxDepthLimit) panicked with %s", safeSprint(v))
	})

	// Each level of a synchronous recursion takes stack; at the highest
	// limit the recursion must still stop with an error, not with the
	// runtime's fatal stack overflow, which no recover can catch.
	t.Run("Concurrency: a runaway recursion at MaxDepthLimit fails with ErrDepthExceeded", func(t *testing.T) {
		t.Parallel()
		inChild(t, nil, func(t *testing.T) {
			r := New(WithMaxDepth(MaxDepthLimit))
			var bodies atomic.Int64
			mustRegister(t, r, "A", func(ctx context.Context, p any) (any, error) {
				bodies.Add(1)
				return r.Call(ctx, "A", p)
			})
			out, ok := callWithin(t, r, ctx, "A", nil)
			if !ok {
				return
			}
			// Only errors.Is: a message of ten thousand levels is not the
			// point here.
			isDepth, ok := within(t, "errors.Is", func() bool { return errors.Is(out.err, ErrDepthExceeded) })
			if ok {
				assert.True(t, isDepth, "the outermost error does not match ErrDepthExceeded")
			}
			assert.Equal(t, int64(MaxDepthLimit), bodies.Load(), "bodies run")
		})
	})

	// The observer's InvocationEnd receives the invocation's ctx: an
	// invocation it makes with it is nested in the one it observes, so an
	// observer that invokes for every invocation it sees end, its own
	// included, is stopped by the depth limit instead of recursing for ever.
	t.Run("Observability: an observer invoking from InvocationEnd for every invocation is stopped by the depth limit", func(t *testing.T) {
		t.Parallel()
		inChild(t, nil, func(t *testing.T) {
			// Without a bound on nesting the recursion is unbounded: let it
			// overflow well before the default gigabyte.
			debug.SetMaxStack(256 << 20)
			var r *Registry
			var audits, exceeded atomic.Int64
			r = New(WithObserver(hookObserver{end: func(ctx context.Context, _ Invocation, _ Outcome) {
				if _, err := r.Call(ctx, "Audit", nil); errors.Is(err, ErrDepthExceeded) {
					exceeded.Add(1)
				}
			}}))
			mustRegister(t, r, "Audit", func(context.Context, any) (any, error) {
				audits.Add(1)
				return nil, nil
			})
			mustRegister(t, r, "A", func(context.Context, any) (any, error) { return "res", nil })
			out, ok := callWithin(t, r, ctx, "A", nil)
			if !ok {
				return
			}
			assert.NoError(t, out.err)
			assert.Equal(t, "res", out.res)
			assert.LessOrEqual(t, audits.Load(), int64(DefaultMaxDepth), "Audit invocations run")
			assert.Positive(t, exceeded.Load(), "no Audit invocation failed with ErrDepthExceeded")
		})
	})

	// The error of a runaway recursion wraps one failure per level; its
	// message must stay readable.
	recursions := []struct {
		name  string
		setup func(t *testing.T, r *Registry)
	}{
		{"a body that calls its own action", func(t *testing.T, r *Registry) {
			mustRegister(t, r, "A", func(ctx context.Context, p any) (any, error) { return r.Call(ctx, "A", p) })
		}},
		{"a before-listener that calls its own action", func(t *testing.T, r *Registry) {
			mustRegister(t, r, "A", func(context.Context, any) (any, error) { return "res", nil })
			r.AddListener("beforeA", func(ctx context.Context, p any) error {
				_, err := r.Call(ctx, "A", p)
				return err
			})
		}},
		{"a body that waits for its own action's future", func(t *testing.T, r *Registry) {
			mustRegister(t, r, "A", func(ctx context.Context, p any) (any, error) {
				return r.InvokeAction(ctx, "A", p).Wait(ctx)
			})
		}},
	}
	for _, c := range recursions {
		t.Run("Aborting and errors: the error of "+c.name+" recursing to the depth limit stays short", func(t *testing.T) {
			t.Parallel()
			r := New()
			c.setup(t, r)
			out, ok := callWithin(t, r, ctx, "A", nil)
			if !ok {
				return
			}
			if out.err == nil {
				t.Fatal("the recursion succeeded; want ErrDepthExceeded")
			}
			f, ok := inspect(t, out.err)
			if !ok {
				return
			}
			assert.True(t, f.depth, "the error does not match ErrDepthExceeded")
			assert.Less(t, len(f.msg), 1024, "message length; it begins %.200q", f.msg)
		})
	}

	// An ancestor is an invocation still running: a ctx kept past the end of
	// its invocation nests nothing in it, so the invocation's key is free
	// once it has ended.
	t.Run("Blocking, de-duplication, in flight: a finished invocation's ctx does not make its key pending", func(t *testing.T) {
		t.Parallel()
		r := New()
		var saved atomic.Pointer[context.Context]
		mustRegister(t, r, "A", func(ctx context.Context, _ any) (any, error) {
			c := context.WithoutCancel(ctx)
			saved.CompareAndSwap(nil, &c)
			return "res", nil
		}, Deduplicate(func(any) string { return "k" }, RejectPending))
		out, ok := callWithin(t, r, ctx, "A", nil)
		require.True(t, ok)
		require.NoError(t, out.err)
		require.Zero(t, r.InFlight("A"))
		require.NotNil(t, saved.Load())

		out, ok = callWithin(t, r, *saved.Load(), "A", nil)
		if ok {
			assert.NoError(t, out.err, "an invocation with the ctx of one that has ended")
			assert.Equal(t, "res", out.res)
		}
	})
}
