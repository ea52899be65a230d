package actions

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Nesting: the depth limit stops a runaway recursion, whatever path it takes
// and whatever the limit, before it exhausts the stack; and nesting is
// carried by the ctx a stage receives, including the observer's, while the
// ancestors it names are still running.

func TestNest(t *testing.T) {
	ctx := context.Background()

	// Nesting must not cost more per level the deeper it is: a stage's ctx
	// answers Done, Err, Deadline and Value from the caller's context in one
	// step, however many nests are stacked over it (a recursion through
	// InvokeAction to 8,000 levels used to take seconds).
	t.Run("Concurrency: a stage's context reaches the caller's in one step at any depth", func(t *testing.T) {
		type key struct{}
		caller, cancel := context.WithCancel(context.WithValue(ctx, key{}, "v"))
		defer cancel()
		r := New(WithMaxDepth(500))
		var deepest *nest
		mustRegister(t, r, "A", func(ctx context.Context, p any) (any, error) {
			n := ctx.(*nest)
			if n.depth == 500 {
				deepest = n
				return nil, nil
			}
			return r.Call(ctx, "A", p)
		})
		_, err := r.Call(caller, "A", nil)
		require.NoError(t, err)
		require.NotNil(t, deepest)
		assert.Same(t, caller, deepest.inner, "the nest's inner context is the caller's")
		assert.Equal(t, "v", deepest.Value(key{}))
		done := deepest.Done()
		cancel()
		_, ok := awaitChan(t, done, "the deepest stage's Done")
		assert.True(t, ok)
		assert.ErrorIs(t, deepest.Err(), context.Canceled)
	})

	t.Run("Observability: InvocationFrom gives a stage its invocation", func(t *testing.T) {
		for _, observed := range []bool{false, true} {
			var opts []Option
			if observed {
				opts = append(opts, WithObserver(hookObserver{}))
			}
			r := New(opts...)
			seen := map[string]Invocation{}
			var mu sync.Mutex
			see := func(ctx context.Context) {
				inv, ok := InvocationFrom(ctx)
				assert.True(t, ok)
				mu.Lock()
				seen[inv.Action] = inv
				mu.Unlock()
			}
			mustRegister(t, r, "A", func(ctx context.Context, p any) (any, error) {
				see(ctx)
				for _, name := range []string{"B", "C", "B"} { // siblings from one stage ctx
					if _, err := r.Call(ctx, name, p); err != nil {
						return nil, err
					}
				}
				return nil, nil
			})
			for _, name := range []string{"B", "C"} {
				mustRegister(t, r, name, func(ctx context.Context, _ any) (any, error) {
					see(ctx)
					return nil, nil
				})
			}
			_, err := r.Call(ctx, "A", "p")
			require.NoError(t, err)
			assert.Equal(t, 1, seen["A"].Depth)
			for _, name := range []string{"B", "C"} {
				assert.Equal(t, name, seen[name].Action)
				assert.Equal(t, 2, seen[name].Depth, name)
			}
			if observed {
				assert.NotZero(t, seen["A"].ID)
				assert.Equal(t, seen["A"].ID, seen["B"].ParentID)
				assert.Equal(t, "p", seen["B"].Payload)
				assert.False(t, seen["B"].Start.IsZero())
			} else {
				assert.Zero(t, seen["A"].ID, "without an observer there are no IDs")
			}
		}
		_, ok := InvocationFrom(context.Background())
		assert.False(t, ok, "a context from no invocation")
	})

	t.Run("Concurrency: WithMaxDepth above MaxDepthLimit panics", func(t *testing.T) {
		setupPanicMessage(t, "WithMaxDepth(MaxDepthLimit+1)", func() { WithMaxDepth(MaxDepthLimit + 1) })
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

	t.Run("Concurrency_depth_limit", func(t *testing.T) {
		for _, tc := range []struct {
			name  string
			reg   func() *Registry
			limit int
		}{
			{"WithMaxDepth_1", func() *Registry { return New(WithMaxDepth(1)) }, 1},
			{"WithMaxDepth_2", func() *Registry { return New(WithMaxDepth(2)) }, 2},
			{"WithMaxDepth_5", func() *Registry { return New(WithMaxDepth(5)) }, 5},
			{"default_New", func() *Registry { return New() }, DefaultMaxDepth},
			{"default_zero_value", func() *Registry { return &Registry{} }, DefaultMaxDepth},
		} {
			for _, way := range invokeWays {
				t.Run(tc.name+"/"+way.name, func(t *testing.T) {
					r := tc.reg()
					// Nest invokes itself until its payload, the number of levels
					// still to go, reaches 1: a top-level invocation with payload
					// n reaches depth n.
					mustRegister(t, r, "Nest", func(ctx context.Context, p any) (any, error) {
						if n := p.(int); n > 1 {
							return way.run(ctx, r, "Nest", n-1)
						}
						return "leaf", nil
					})
					res, err := way.run(context.Background(), r, "Nest", tc.limit)
					require.NoError(t, err, "depth %d is within the limit", tc.limit)
					assert.Equal(t, "leaf", res)

					_, err = way.run(context.Background(), r, "Nest", tc.limit+1)
					assert.ErrorIs(t, err, ErrDepthExceeded)
					var e *Error
					require.ErrorAs(t, err, &e)
					assert.Equal(t, "Nest", e.Action)
					assert.True(t, strings.HasPrefix(err.Error(), "actions: "), err.Error())
				})
			}
		}
	})

	t.Run("Concurrency_nesting_is_carried_by_ctx", func(t *testing.T) {
		r := New(WithMaxDepth(1))
		mustRegister(t, r, "Leaf", func(context.Context, any) (any, error) { return "leaf", nil })
		mustRegister(t, r, "Root", func(ctx context.Context, _ any) (any, error) {
			// A fresh ctx starts a new top-level invocation, not a nested one.
			return r.Call(context.Background(), "Leaf", nil)
		})
		res, err := r.Call(context.Background(), "Root", nil)
		require.NoError(t, err)
		assert.Equal(t, "leaf", res)

		type key struct{}
		mustRegister(t, r, "Nested", func(ctx context.Context, _ any) (any, error) {
			// A ctx derived from the stage's ctx still carries the nesting.
			return r.Call(context.WithValue(ctx, key{}, 1), "Leaf", nil)
		})
		_, err = r.Call(context.Background(), "Nested", nil)
		assert.ErrorIs(t, err, ErrDepthExceeded)
	})

	t.Run("Concurrency_self_recursion_through_listener_is_caught", func(t *testing.T) {
		for _, limit := range []int{8, DefaultMaxDepth} {
			for _, way := range invokeWays {
				t.Run(fmt.Sprintf("limit_%d/%s", limit, way.name), func(t *testing.T) {
					synctest.Test(t, func(t *testing.T) {
						r := New(WithMaxDepth(limit))
						if limit == DefaultMaxDepth {
							r = New()
						}
						var runs, live, peak atomic.Int64
						mustRegister(t, r, "Loop", func(context.Context, any) (any, error) { return "never", nil })
						r.AddListener("beforeLoop", func(ctx context.Context, p any) error {
							runs.Add(1)
							n := live.Add(1)
							defer live.Add(-1)
							for {
								m := peak.Load()
								if n <= m || peak.CompareAndSwap(m, n) {
									break
								}
							}
							_, err := way.run(ctx, r, "Loop", p)
							return err
						})
						_, err := way.run(context.Background(), r, "Loop", nil)
						assert.ErrorIs(t, err, ErrDepthExceeded)
						assert.EqualValues(t, limit, runs.Load())
						assert.LessOrEqual(t, peak.Load(), int64(limit))
						assert.Zero(t, live.Load())
						// synctest.Test fails if any goroutine started by the
						// recursion is still blocked when this returns.
					})
				})
			}
		}
	})

	t.Run("Concurrency_fire_and_forget_recursion_ends", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			obs := &spyObserver{}
			r := New(WithObserver(obs))
			var runs atomic.Int64
			mustRegister(t, r, "Echo", func(context.Context, any) (any, error) {
				runs.Add(1)
				return nil, nil
			})
			r.AddListener("afterEcho", func(ctx context.Context, p any) error {
				r.InvokeAction(ctx, "Echo", p) // not waited for
				return nil
			})
			_, err := r.InvokeAction(context.Background(), "Echo", nil).Result()
			require.NoError(t, err)
			synctest.Wait() // every invocation of the chain has ended
			assert.EqualValues(t, DefaultMaxDepth, runs.Load())
			ends := obs.ends("Echo")
			require.Len(t, ends, DefaultMaxDepth+1)
			var exceeded int
			for _, ev := range ends {
				if errors.Is(ev.out.Err, ErrDepthExceeded) {
					exceeded++
					assert.Equal(t, DefaultMaxDepth+1, ev.inv.Depth)
				}
			}
			assert.Equal(t, 1, exceeded)
		})
	})
}

// recursionGoroutines counts the goroutines that InvokeAction started and whose
// stack passes through a function of the test named test: the invocations of
// that test alive at the moment of the call.
func recursionGoroutines(test string) int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "created by github.com/go-actions/actions.(*Registry).spawn") &&
			strings.Contains(g, "."+test+".") {
			count++
		}
	}
	return count
}

// recursionDepthError returns the *Error of err's tree whose kind is
// ErrDepthExceeded: the invocation that was refused.
func recursionDepthError(err error) *Error {
	if e, ok := err.(*Error); ok && e.Kind == ErrDepthExceeded {
		return e
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		return recursionDepthError(u.Unwrap())
	case interface{ Unwrap() []error }:
		for _, err := range u.Unwrap() {
			if e := recursionDepthError(err); e != nil {
				return e
			}
		}
	}
	return nil
}

// recursionObserver is an Observer that records the depth of every invocation
// that ended with ErrDepthExceeded.
type recursionObserver struct {
	mu       sync.Mutex
	exceeded []int
}

func (o *recursionObserver) InvocationBegin(ctx context.Context, _ Invocation) context.Context {
	return ctx
}

func (o *recursionObserver) InvocationEnd(_ context.Context, inv Invocation, out Outcome) {
	if e, ok := out.Err.(*Error); ok && e.Kind == ErrDepthExceeded {
		o.mu.Lock()
		o.exceeded = append(o.exceeded, inv.Depth)
		o.mu.Unlock()
	}
}

// TestRecursion covers the depth limit (WithMaxDepth): an action that re-invokes
// itself through its own listeners, with the ctx the listener received,
// stops at the limit with ErrDepthExceeded, runs its listener exactly limit
// times (depths 1..limit; depth limit+1 is refused before any stage), holds
// at most one goroutine per level at the deepest point (none for Call), and
// leaves no goroutine behind (synctest).
func TestRecursion(t *testing.T) {
	type invokeMode string
	const (
		syncCall      invokeMode = "sync"              // Call
		asyncWait     invokeMode = "async_wait"        // InvokeAction, then Wait in the listener
		asyncNoWait   invokeMode = "async_fire_forget" // InvokeAction, never waited for
		recursionName            = "Rec"
	)
	limits := []struct {
		name  string
		opts  []Option
		limit int
	}{
		{"default", nil, DefaultMaxDepth},
		{"WithMaxDepth_1", []Option{WithMaxDepth(1)}, 1},
		{"WithMaxDepth_5", []Option{WithMaxDepth(5)}, 5},
	}
	for _, lim := range limits {
		for _, via := range []string{"before", "after"} {
			for _, mode := range []invokeMode{syncCall, asyncWait, asyncNoWait} {
				name := fmt.Sprintf("Concurrency_limit=%s/via=%s/mode=%s", lim.name, via, mode)
				t.Run(name, func(t *testing.T) {
					synctest.Test(t, func(t *testing.T) {
						var (
							sink errorSink
							obs  recursionObserver
						)
						opts := append([]Option{WithObserver(&obs), WithErrorHandler(sink.handle)}, lim.opts...)
						reg := New(opts...)
						var bodies, runs atomic.Int32
						mustRegister(t, reg, recursionName, func(context.Context, any) (any, error) {
							bodies.Add(1)
							return "done", nil
						})
						deepest := -1
						reg.AddListener(via+recursionName, func(ctx context.Context, p any) error {
							depth := p.(int)
							runs.Add(1)
							if depth == lim.limit && mode != asyncNoWait {
								// Every level is waiting for the next one here:
								// this is the most the recursion ever holds.
								deepest = recursionGoroutines("TestRecursion")
							}
							switch mode {
							case syncCall:
								_, err := reg.Call(ctx, recursionName, depth+1)
								return err
							case asyncWait:
								_, err := reg.InvokeAction(ctx, recursionName, depth+1).Wait(ctx)
								return err
							default:
								reg.InvokeAction(ctx, recursionName, depth+1)
								return nil
							}
						})

						var err error
						if mode == syncCall {
							_, err = reg.Call(context.Background(), recursionName, 1)
						} else {
							_, err = reg.InvokeAction(context.Background(), recursionName, 1).Wait(context.Background())
						}
						// Fire-and-forget levels outlive the top one; let them end.
						synctest.Wait()

						assert.Equal(t, int32(lim.limit), runs.Load(), "listener runs: one per depth 1..limit")
						obs.mu.Lock()
						assert.Equal(t, []int{lim.limit + 1}, obs.exceeded, "exactly one invocation refused, at depth limit+1")
						obs.mu.Unlock()
						switch mode {
						case syncCall:
							assert.Equal(t, 0, deepest, "Call starts no goroutine")
						case asyncWait:
							assert.Equal(t, lim.limit, deepest, "one goroutine per level at the deepest point")
						}

						var refused error
						switch {
						case mode == asyncNoWait:
							// Nobody waits, so nobody can fail: the refusal is
							// seen by the observer only.
							require.NoError(t, err)
							assert.Equal(t, int32(lim.limit), bodies.Load(), "every accepted level runs its body")
							assert.Empty(t, sink.all())
							return
						case via == "before":
							// Each level's listener fails with the level below's
							// error, so the top one carries the whole chain.
							require.Error(t, err)
							assert.ErrorIs(t, err, ErrDepthExceeded)
							assert.ErrorIs(t, err, ErrFailed)
							var top *Error
							require.ErrorAs(t, err, &top)
							assert.Equal(t, StageBefore, top.Stage)
							assert.Zero(t, bodies.Load(), "no body runs once a before-listener fails")
							assert.Empty(t, sink.all())
							refused = err
						default: // after
							// After-listener errors never change the result: every
							// level succeeds and the deepest one's listener
							// reports the refusal to the error handler.
							require.NoError(t, err)
							assert.Equal(t, int32(lim.limit), bodies.Load())
							handled := sink.all()
							require.Len(t, handled, 1)
							refused = handled[0]
							assert.ErrorIs(t, refused, ErrDepthExceeded)
							var e *Error
							require.ErrorAs(t, refused, &e)
							assert.Equal(t, StageAfter, e.Stage)
						}
						de := recursionDepthError(refused)
						require.NotNil(t, de, "the chain holds the refused invocation's error")
						assert.Equal(t, recursionName, de.Action)
						assert.Equal(t, StageNone, de.Stage, "refused before any stage ran")
						want := fmt.Sprintf("actions: Rec: invocation depth limit exceeded: depth %d, limit %d", lim.limit+1, lim.limit)
						assert.Equal(t, want, de.Error())
						assert.True(t, strings.HasPrefix(refused.Error(), "actions: Rec: "), "message: %s", refused)
						assert.True(t, strings.HasSuffix(refused.Error(), want[len("actions: "):]), "message: %s", refused)
					})
				})
			}
		}
	}
}

// TestRecursionNotNested covers the other side of the depth limit: it counts
// nesting, not invocations. A listener that invokes its own action with a
// fresh context starts a top-level invocation, so a chain longer than the
// limit is allowed (it is the caller's to bound).
func TestRecursionNotNested(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const limit, chain = 2, 6
		reg := New(WithMaxDepth(limit))
		var runs atomic.Int32
		mustRegister(t, reg, "Rec", func(context.Context, any) (any, error) { return nil, nil })
		reg.AddListener("beforeRec", func(_ context.Context, p any) error {
			runs.Add(1)
			if n := p.(int); n < chain {
				_, err := reg.Call(context.Background(), "Rec", n+1)
				return err
			}
			return nil
		})
		_, err := reg.Call(context.Background(), "Rec", 1)
		require.NoError(t, err)
		assert.Equal(t, int32(chain), runs.Load())
		assert.False(t, errors.Is(err, ErrDepthExceeded))
	})
}
