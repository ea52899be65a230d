package actions

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// drainKey is the key of a value a stage adds to its ctx before passing it on.
type drainKey struct{}

func TestDrain(t *testing.T) {
	// A Close made from inside a stage stops new invocations and returns at
	// once, without waiting: the invocation it is made from cannot end before
	// its stage returns, so waiting for it would wait for ever. The
	// invocation goes on and completes normally; a Close from outside waits
	// for it as usual.
	ctxs := []struct {
		name   string
		derive func(context.Context) context.Context
	}{
		{"its ctx", func(ctx context.Context) context.Context { return ctx }},
		{"a ctx derived from it", func(ctx context.Context) context.Context {
			return context.WithValue(ctx, drainKey{}, "v")
		}},
	}
	stages := []struct {
		name  string
		setup func(t *testing.T, closeInside func(context.Context)) *Registry
	}{
		{"the body", func(t *testing.T, closeInside func(context.Context)) *Registry {
			r := New()
			mustRegister(t, r, "A", func(ctx context.Context, _ any) (any, error) {
				closeInside(ctx)
				return "res", nil
			})
			return r
		}},
		{"a before-listener", func(t *testing.T, closeInside func(context.Context)) *Registry {
			r := New()
			mustRegister(t, r, "A", func(context.Context, any) (any, error) { return "res", nil })
			r.AddListener("beforeA", func(ctx context.Context, _ any) error {
				closeInside(ctx)
				return nil
			})
			return r
		}},
		{"an after-listener", func(t *testing.T, closeInside func(context.Context)) *Registry {
			r := New()
			mustRegister(t, r, "A", func(context.Context, any) (any, error) { return "res", nil })
			r.AddListener("afterA", func(ctx context.Context, _ any) error {
				closeInside(ctx)
				return nil
			})
			return r
		}},
		{"the observer's InvocationEnd", func(t *testing.T, closeInside func(context.Context)) *Registry {
			r := New(WithObserver(hookObserver{end: func(ctx context.Context, inv Invocation, _ Outcome) {
				if inv.Action == "A" {
					closeInside(ctx)
				}
			}}))
			mustRegister(t, r, "A", func(context.Context, any) (any, error) { return "res", nil })
			return r
		}},
	}
	for _, st := range stages {
		for _, c := range ctxs {
			t.Run(fmt.Sprintf("Concurrency: Close from inside %s, with %s, returns at once and the invocation completes", st.name, c.name), func(t *testing.T) {
				t.Parallel()
				var r *Registry
				closed := make(chan error, 1)
				var calledClose atomic.Bool
				closeInside := func(ctx context.Context) {
					if calledClose.CompareAndSwap(false, true) {
						closed <- r.Close(c.derive(ctx))
					}
				}
				r = st.setup(t, closeInside)
				// Cancelled when the test ends, so that a Close that waits
				// for its own invocation gives up then.
				ictx, cancel := context.WithCancel(context.Background())
				t.Cleanup(cancel)
				fut := r.InvokeAction(ictx, "A", nil)

				err, ok := awaitChan(t, closed, "Close from inside "+st.name)
				require.True(t, ok, "Close from inside the invocation waited for it")
				assert.NoError(t, err, "Close from inside the invocation")
				res, err, ok := awaitFuture(t, fut)
				require.True(t, ok)
				assert.Equal(t, "res", res)
				assert.NoError(t, err)

				if out, ok := callWithin(t, r, context.Background(), "A", nil); ok {
					assert.ErrorIs(t, out.err, ErrClosed, "an invocation after Close")
				}
				assert.NoError(t, closeWithin(r, waitBound), "Close from outside afterwards")
			})
		}
	}

	t.Run("Aborting and errors: Close(nil) panics and leaves an idle registry open", func(t *testing.T) {
		t.Parallel()
		r := New()
		mustRegister(t, r, "A", func(context.Context, any) (any, error) { return "res", nil })
		setupPanicMessage(t, "Close(nil)", func() { _ = r.Close(nilCtx) })
		if out, ok := callWithin(t, r, context.Background(), "A", nil); ok {
			assert.NoError(t, out.err, "a Call after Close(nil)")
			assert.Equal(t, "res", out.res)
		}
	})

	t.Run("Aborting and errors: Close(nil) panics and leaves a busy registry open", func(t *testing.T) {
		t.Parallel()
		r := New()
		entered, release := make(chan struct{}), make(chan struct{})
		var bodies atomic.Int32
		mustRegister(t, r, "A", func(context.Context, any) (any, error) {
			if bodies.Add(1) == 1 {
				close(entered)
				<-release
			}
			return "res", nil
		})
		fut := r.InvokeAction(context.Background(), "A", nil)
		defer func() {
			close(release)
			awaitFuture(t, fut)
		}()
		_, ok := awaitChan(t, entered, "the body")
		require.True(t, ok)
		setupPanicMessage(t, "Close(nil)", func() { _ = r.Close(nilCtx) })
		if out, ok := callWithin(t, r, context.Background(), "A", nil); ok {
			assert.NoError(t, out.err, "a Call after Close(nil)")
			assert.Equal(t, "res", out.res)
		}
	})

	// InFlight counts each invocation in flight once: a sum that can see an
	// invocation that has ended together with one that began after it
	// counts one invocation twice.
	t.Run("Blocking, de-duplication, in flight: InFlight never counts more invocations than are in flight", func(t *testing.T) {
		r := New()
		var sawSelfMissing atomic.Bool
		mustRegister(t, r, "A", func(context.Context, any) (any, error) {
			if r.InFlight("A") < 1 {
				sawSelfMissing.Store(true)
			}
			return nil, nil
		})
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		// Pollers enough to keep every core busy, so that the scheduler
		// also preempts them in the middle of an InFlight.
		pollers := runtime.GOMAXPROCS(0)
		stop := make(chan struct{})
		polled := make(chan int, pollers)
		for range pollers {
			go func() {
				most := 0
				for {
					select {
					case <-stop:
						polled <- most
						return
					default:
					}
					most = max(most, r.InFlight("A"))
				}
			}()
		}
		stopPolling := func() (most int) {
			close(stop)
			for range pollers {
				most = max(most, <-polled)
			}
			return most
		}
		n := 0
		start := time.Now()
		// One invocation at a time, alternately in a goroutine of its own
		// and in this one, for a few seconds at most.
		for ; n < drainInFlightRounds && time.Since(start) < 4*time.Second; n++ {
			var err error
			if n%2 == 0 {
				_, err = r.InvokeAction(ctx, "A", nil).Wait(ctx)
			} else {
				_, err = r.Call(ctx, "A", nil)
			}
			if err != nil {
				stopPolling()
				t.Fatalf("invocation %d: %v", n, err)
			}
		}
		most := stopPolling()
		t.Logf("%d invocations", n)
		assert.LessOrEqual(t, most, 1, "InFlight with at most one invocation in flight")
		assert.False(t, sawSelfMissing.Load(), "a body saw InFlight not count its own invocation")
		assert.Zero(t, r.InFlight("A"))
	})
}

func TestClose(t *testing.T) {
	t.Run("Concurrency_close_waits_for_invocations_started_before_it", func(t *testing.T) {
		// InvokeAction returns before its goroutine runs: the invocation is
		// admitted when InvokeAction is called, so a Close that follows
		// waits for it, and it runs instead of failing with ErrClosed.
		for range 100 {
			r := New()
			mustRegister(t, r, "A", func(context.Context, any) (any, error) { return "ok", nil })
			fut := r.InvokeAction(context.Background(), "A", nil)
			typed := Typed[any, string](r, "A").Invoke(context.Background(), nil)
			require.NoError(t, r.Close(context.Background()))
			require.True(t, isDone(fut), "Close returned before an admitted invocation completed")
			res, err := fut.Result()
			require.NoError(t, err)
			assert.Equal(t, "ok", res)
			tres, err := typed.Result()
			require.NoError(t, err)
			assert.Equal(t, "ok", tres)
			_, err = r.InvokeAction(context.Background(), "A", nil).Result()
			assert.ErrorIs(t, err, ErrClosed)
		}
	})

	t.Run("Concurrency_stops_new_invocations", func(t *testing.T) {
		r := New()
		var rec recorder
		mustRegister(t, r, "Act", rec.body("body", "res"))
		r.AddListener("beforeAct", rec.listen("before", nil))
		require.NoError(t, r.Close(context.Background()))
		require.NoError(t, r.Close(context.Background()), "Close may be called again")
		for _, way := range invokeWays {
			res, err := way.run(context.Background(), r, "Act", nil)
			assert.Nil(t, res)
			assert.ErrorIs(t, err, ErrClosed)
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, ErrClosed, e.Kind)
			assert.Equal(t, "Act", e.Action)
		}
		_, err := Typed[any, any](r, "Act").Call(context.Background(), nil)
		assert.ErrorIs(t, err, ErrClosed)
		assert.Empty(t, rec.trace())
	})

	t.Run("Concurrency_waits_for_in_flight", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := New()
			var rec recorder
			release, fut := startInFlight(t, r, &rec)

			closeErrs := make(chan error, 2)
			for range 2 {
				go func() { closeErrs <- r.Close(context.Background()) }()
			}
			synctest.Wait()
			assert.Empty(t, closeErrs, "Close returned while an invocation is in flight")
			_, err := r.Call(context.Background(), "Act", nil)
			assert.ErrorIs(t, err, ErrClosed, "new invocations are rejected while Close waits")

			close(release)
			assert.NoError(t, <-closeErrs)
			assert.NoError(t, <-closeErrs)
			assert.True(t, isDone(fut), "Close returned before the future completed")
			res, err := fut.Result()
			require.NoError(t, err)
			assert.Equal(t, "res", res)
			assert.Equal(t, "body after", rec.trace())
		})
	})

	t.Run("Concurrency_ctx_done_first_returns_cause", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			// ctx returns the ctx to close with, a func that ends it (nil when
			// it ends by itself) and what Close should then return.
			ctx func(t *testing.T) (ctx context.Context, stop func(), want error)
		}{
			{"cancel_cause", func(t *testing.T) (context.Context, func(), error) {
				cause := errors.New("shutdown took too long")
				ctx, cancel := context.WithCancelCause(context.Background())
				t.Cleanup(func() { cancel(nil) })
				return ctx, func() { cancel(cause) }, cause
			}},
			{"deadline", func(t *testing.T) (context.Context, func(), error) {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				t.Cleanup(cancel)
				return ctx, nil, context.DeadlineExceeded
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					r := New()
					var rec recorder
					release, fut := startInFlight(t, r, &rec)

					ctx, stop, want := tc.ctx(t)
					closeErr := make(chan error, 1)
					go func() { closeErr <- r.Close(ctx) }()
					synctest.Wait()
					if stop != nil {
						assert.Empty(t, closeErr)
						stop()
					}
					assert.Equal(t, want, <-closeErr, "Close returns the raw cause")
					assert.False(t, isDone(fut), "the in-flight invocation goes on")

					close(release)
					res, err := fut.Result()
					require.NoError(t, err)
					assert.Equal(t, "res", res)
					assert.Equal(t, "body after", rec.trace())
					_, err = r.Call(context.Background(), "Act", nil)
					assert.ErrorIs(t, err, ErrClosed)
				})
			})
		}
	})

	t.Run("Concurrency_invocations_started_after_close_began_fail", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := New()
			var rec recorder
			release := make(chan struct{})
			mustRegister(t, r, "Inner", rec.body("inner", "inner"))
			mustRegister(t, r, "Outer", func(ctx context.Context, _ any) (any, error) {
				<-release
				_, err := r.Call(ctx, "Inner", nil)
				assert.ErrorIs(t, err, ErrClosed)
				_, err = r.InvokeAction(ctx, "Inner", nil).Result()
				assert.ErrorIs(t, err, ErrClosed)
				rec.add("body")
				return "outer", nil
			})
			r.AddListener("afterOuter", func(ctx context.Context, _ any) error {
				_, err := r.InvokeAction(ctx, "Inner", nil).Wait(ctx)
				assert.ErrorIs(t, err, ErrClosed)
				rec.add("after")
				return nil
			})
			fut := r.InvokeAction(context.Background(), "Outer", nil)
			synctest.Wait()
			closeErr := make(chan error, 1)
			go func() { closeErr <- r.Close(context.Background()) }()
			synctest.Wait()
			close(release)
			assert.NoError(t, <-closeErr, "Close does not wait for invocations it rejected")
			res, err := fut.Result()
			require.NoError(t, err)
			assert.Equal(t, "outer", res)
			assert.Equal(t, "body after", rec.trace(), "Inner never ran")
		})
	})

	t.Run("Concurrency_idle_close_with_done_ctx_is_deterministic", func(t *testing.T) {
		// With nothing in flight there is nothing to wait for; whatever Close
		// then returns for a done ctx, it must not be decided by a coin toss.
		cause := errors.New("done already")
		ctx, cancel := context.WithCancelCause(context.Background())
		cancel(cause)
		results := map[string]int{}
		for range 200 {
			err := New().Close(ctx)
			results[fmt.Sprint(err)]++
		}
		assert.Len(t, results, 1, "Close(done ctx) on an idle registry returned %v", results)
	})
}

// startInFlight registers "Act", whose body waits for release and whose
// after-listener records, invokes it, and returns once the invocation is
// blocked in its body (call it inside a synctest bubble).
func startInFlight(t *testing.T, r *Registry, rec *recorder) (release chan struct{}, fut *Future[any]) {
	t.Helper()
	release = make(chan struct{})
	mustRegister(t, r, "Act", func(context.Context, any) (any, error) {
		<-release
		rec.add("body")
		return "res", nil
	})
	r.AddListener("afterAct", rec.listen("after", nil))
	fut = r.InvokeAction(context.Background(), "Act", nil)
	synctest.Wait()
	return release, fut
}

// drainInFlightRounds is how many invocations the InFlight test makes, if
// it has time.
const drainInFlightRounds = 1_000_000

// BenchmarkClosedReject measures the rejection of an invocation by a closed
// registry, which must not depend on how many actions it holds.
func BenchmarkClosedReject(b *testing.B) {
	for _, n := range []int{1, 100_000} {
		b.Run("actions="+strconv.Itoa(n), func(b *testing.B) {
			r := New()
			body := func(context.Context, any) (any, error) { return nil, nil }
			for i := range n {
				mustRegister(b, r, "A"+strconv.Itoa(i), body)
			}
			require.NoError(b, r.Close(context.Background()))
			ctx := context.Background()
			_, err := r.Call(ctx, "A0", nil)
			require.ErrorIs(b, err, ErrClosed)
			for b.Loop() {
				r.Call(ctx, "A0", nil)
			}
		})
	}
}

// TestStop covers Stop: Close that cancels the invocations in flight first
// (Concurrency).
func TestStop(t *testing.T) {
	for _, caller := range []string{"context.Background", "a cancellable context"} {
		t.Run("Concurrency: Stop cancels the stages of invocations in flight, with ErrClosed as the cause, from "+caller, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx := context.Background()
				if caller != "context.Background" {
					var cancel context.CancelFunc
					ctx, cancel = context.WithCancel(ctx)
					defer cancel()
				}
				r := New()
				var causes sync.Map
				mustRegister(t, r, "Inner", func(ctx context.Context, p any) (any, error) {
					<-ctx.Done()
					causes.Store(p, context.Cause(ctx))
					return nil, ctx.Err()
				})
				mustRegister(t, r, "Outer", func(ctx context.Context, p any) (any, error) {
					return r.Call(ctx, "Inner", p) // a nested stage is cancelled too
				})
				futs := []*Future[any]{r.InvokeAction(ctx, "Inner", "direct"), r.InvokeAction(ctx, "Outer", "nested")}
				synctest.Wait()
				require.NoError(t, r.Stop(context.Background()), "Stop waits for the cancelled invocations")
				for _, fut := range futs {
					require.True(t, isDone(fut), "complete once Stop returned")
					_, err := fut.Result()
					assert.ErrorIs(t, err, context.Canceled)
					assert.Equal(t, StatusCancelled, StatusOf(err))
				}
				for _, p := range []string{"direct", "nested"} {
					cause, _ := causes.Load(p)
					assert.ErrorIs(t, cause.(error), ErrClosed, "context.Cause of the %s stage's ctx", p)
				}
				_, err := r.Call(ctx, "Inner", "late")
				assert.ErrorIs(t, err, ErrClosed)
			})
		})
	}

	t.Run("Concurrency: Stop after a Close whose wait ran out; a stage that ignores its ctx still bounds Stop by its own ctx", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := New()
			release := make(chan struct{})
			mustRegister(t, r, "Polite", func(ctx context.Context, _ any) (any, error) {
				<-ctx.Done()
				return nil, ctx.Err()
			})
			mustRegister(t, r, "Stubborn", func(context.Context, any) (any, error) {
				<-release
				return "done", nil
			})
			polite := r.InvokeAction(context.Background(), "Polite", nil)
			stubborn := r.InvokeAction(context.Background(), "Stubborn", nil)
			synctest.Wait()
			graceful, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			assert.ErrorIs(t, r.Close(graceful), context.DeadlineExceeded, "Close only waits")
			assert.False(t, isDone(polite))
			hard, cancel2 := context.WithTimeout(context.Background(), time.Second)
			defer cancel2()
			assert.ErrorIs(t, r.Stop(hard), context.DeadlineExceeded, "the stubborn stage is still running")
			assert.True(t, isDone(polite), "the polite stage stopped")
			close(release)
			res, err := stubborn.Result()
			assert.NoError(t, err)
			assert.Equal(t, "done", res)
			assert.NoError(t, r.Stop(context.Background()))
		})
	})

	t.Run("Concurrency: Stop from inside a stage returns at once", func(t *testing.T) {
		r := New()
		var stopErr error
		mustRegister(t, r, "A", func(ctx context.Context, _ any) (any, error) {
			stopErr = r.Stop(ctx)
			return "res", nil
		})
		out, ok := callWithin(t, r, context.Background(), "A", nil)
		require.True(t, ok)
		assert.NoError(t, stopErr)
		assert.Equal(t, "res", out.res, "the body's own ctx check comes after it returned")
	})

	t.Run("Aborting and errors: Stop(nil) panics and leaves the registry open", func(t *testing.T) {
		r := New()
		mustRegister(t, r, "A", func(context.Context, any) (any, error) { return "res", nil })
		setupPanicMessage(t, "Stop(nil)", func() { _ = r.Stop(nilCtx) })
		_, err := r.Call(context.Background(), "A", nil)
		assert.NoError(t, err)
	})

	t.Run("Concurrency: a stage's ctx merged with the stop costs nothing once collected", func(t *testing.T) {
		if testing.Short() {
			t.Skip("runs 100,000 invocations")
		}
		// A long-lived caller ctx that is never cancelled: each stage that
		// asks for Done registers its merge on it and on the stop; the
		// registrations must end with the invocation's nest.
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		r := New()
		mustRegister(t, r, "A", func(ctx context.Context, _ any) (any, error) {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			default:
				return nil, nil
			}
		})
		growth := heapGrowth(func() {
			for range 100_000 {
				_, err := r.Call(ctx, "A", nil)
				require.NoError(t, err)
			}
		})
		t.Logf("heap growth over 100,000 merged stage contexts: %d bytes", growth)
		assert.Less(t, growth, int64(memBudget))
		runtime.KeepAlive(ctx)
	})
}

type derivedKey struct{}

// valueObserver returns a context derived from the one it is given, as a
// tracing observer does.
type valueObserver struct{}

func (valueObserver) InvocationBegin(ctx context.Context, _ Invocation) context.Context {
	return context.WithValue(ctx, derivedKey{}, "span")
}
func (valueObserver) InvocationEnd(context.Context, Invocation, Outcome) {}

// TestStopMergeCost: merging a stage's context with the registry's stop
// starts no goroutine, whether the stage's context comes from an observer
// or a stage derives one from it (synctest fails a bubble that leaves one).
func TestStopMergeCost(t *testing.T) {
	for _, observed := range []bool{false, true} {
		t.Run(fmt.Sprintf("Concurrency: observed=%v: derived stage contexts start no goroutine", observed), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var opts []Option
				if observed {
					opts = append(opts, WithObserver(valueObserver{}))
				}
				r := New(opts...)
				mustRegister(t, r, "A", func(ctx context.Context, _ any) (any, error) {
					c, cancel := context.WithTimeout(ctx, time.Hour)
					defer cancel()
					select {
					case <-c.Done():
						return nil, c.Err()
					case <-ctx.Done():
						return nil, ctx.Err()
					default:
						return "res", nil
					}
				})
				res, err := r.Call(context.Background(), "A", nil)
				require.NoError(t, err)
				assert.Equal(t, "res", res)
			})
		})
	}
}
