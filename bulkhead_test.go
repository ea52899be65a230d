package actions

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The tests of "Bounded execution" in the package documentation.

const bulkAction = "Fetch"

// gated is a body for the bulkhead's tests: it records its payload, counts
// the bodies running at once (and the most it saw), and returns its payload
// once gate is closed, or the cause of its ctx if that ends first.
type gated struct {
	gate    chan struct{}
	rec     recorder
	running atomic.Int64
	most    atomic.Int64
}

func newGated() *gated { return &gated{gate: make(chan struct{})} }

func (g *gated) body(ctx context.Context, p any) (any, error) {
	n := g.running.Add(1)
	defer g.running.Add(-1)
	for m := g.most.Load(); n > m && !g.most.CompareAndSwap(m, n); m = g.most.Load() {
	}
	g.rec.add(fmt.Sprint(p))
	select {
	case <-g.gate:
		runtime.Gosched() // let the bodies overlap once the gate is open
		return p, nil
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

// bulkRegistry returns a registry made with opts, with bulkAction registered
// on body with Bulkhead(limit, queue).
func bulkRegistry(t testing.TB, body Body, limit, queue int, opts ...Option) *Registry {
	t.Helper()
	r := New(opts...)
	mustRegister(t, r, bulkAction, body, Bulkhead(limit, queue))
	return r
}

// eventually polls cond until it holds, and fails the test if it does not
// within waitBound.
func eventually(t testing.TB, what string, cond func() bool) bool {
	t.Helper()
	deadline := time.Now().Add(waitBound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Errorf("%s: not within %v", what, waitBound)
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return true
}

// invokeVia invokes bulkAction by Call or by InvokeAction and waits for it.
func invokeVia(r *Registry, via string, ctx context.Context, p any) (any, error) {
	if via == "Call" {
		return r.Call(ctx, bulkAction, p)
	}
	return r.InvokeAction(ctx, bulkAction, p).Wait(context.Background())
}

// busyError checks that err is a bulkhead's refusal of bulkAction, and
// returns its message.
func busyError(t *testing.T, err error) string {
	t.Helper()
	require.ErrorIs(t, err, ErrBusy)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, bulkAction, e.Action)
	assert.Equal(t, StageNone, e.Stage)
	assert.Equal(t, StatusRejected, StatusOf(err))
	return err.Error()
}

func TestBulkhead(t *testing.T) {
	bg := context.Background()

	for _, via := range []string{"Call", "InvokeAction"} {
		t.Run("Bounded_execution_limit_never_exceeded_by_64_callers_"+via, func(t *testing.T) {
			const callers, limit = 64, 4
			g := newGated()
			r := bulkRegistry(t, g.body, limit, callers)
			errs := make(chan error, callers)
			var wg sync.WaitGroup
			for i := range callers {
				wg.Go(func() {
					_, err := invokeVia(r, via, bg, i)
					errs <- err
				})
			}
			// InFlight counts an invocation from its admission, before its body
			// starts: wait for the bodies themselves too.
			eventually(t, "limit running and the others waiting", func() bool {
				return r.InFlight(bulkAction) == limit && r.Waiting(bulkAction) == callers-limit &&
					g.running.Load() == limit
			})
			assert.EqualValues(t, limit, g.most.Load(), "the most bodies running while the others wait")
			close(g.gate)
			_, ok := within(t, "the invocations", func() bool { wg.Wait(); return true })
			require.True(t, ok)
			close(errs)
			for err := range errs {
				assert.NoError(t, err)
			}
			assert.EqualValues(t, limit, g.most.Load(), "the most bodies running at once")
			assert.Zero(t, r.InFlight(bulkAction))
			assert.Zero(t, r.Waiting(bulkAction))
		})
	}

	t.Run("Bounded_execution_waiters_run_in_order_of_arrival", func(t *testing.T) {
		// Calls and InvokeActions wait in one line.
		g := newGated()
		r := bulkRegistry(t, g.body, 1, 8)
		first := r.InvokeAction(bg, bulkAction, 0)
		eventually(t, "the first running", func() bool { return r.InFlight(bulkAction) == 1 })
		futs := []*Future[any]{first}
		calls := make(chan error, 8)
		for i := 1; i <= 8; i++ {
			if i%2 == 0 {
				futs = append(futs, r.InvokeAction(bg, bulkAction, i))
			} else {
				go func() {
					_, err := r.Call(bg, bulkAction, i)
					calls <- err
				}()
			}
			eventually(t, fmt.Sprintf("%d waiting", i), func() bool { return r.Waiting(bulkAction) == i })
		}
		close(g.gate)
		for _, fut := range futs {
			_, err, _ := awaitFuture(t, fut)
			assert.NoError(t, err)
		}
		for range 4 {
			err, _ := awaitChan(t, calls, "a Call")
			assert.NoError(t, err)
		}
		assert.Equal(t, "0 1 2 3 4 5 6 7 8", g.rec.trace())
	})

	t.Run("Bounded_execution_a_full_line_fails_at_once_with_ErrBusy", func(t *testing.T) {
		g := newGated()
		r := bulkRegistry(t, g.body, 2, 3)
		var futs []*Future[any]
		for i := range 5 { // two run, three wait
			futs = append(futs, r.InvokeAction(bg, bulkAction, i))
		}
		eventually(t, "two running", func() bool { return r.InFlight(bulkAction) == 2 })
		assert.Equal(t, 3, r.Waiting(bulkAction))

		_, err, ok := awaitFuture(t, r.InvokeAction(bg, bulkAction, "late"))
		require.True(t, ok, "InvokeAction waited although the line is full")
		assert.Equal(t, "actions: Fetch: action busy: limit 2, queue 3, all taken", busyError(t, err))
		out, ok := callWithin(t, r, bg, bulkAction, "late")
		require.True(t, ok, "Call waited although the line is full")
		busyError(t, out.err)
		assert.Equal(t, 3, r.Waiting(bulkAction), "a refused invocation joined the line")

		close(g.gate)
		for i, fut := range futs {
			res, err, _ := awaitFuture(t, fut)
			assert.NoError(t, err)
			assert.Equal(t, i, res)
		}
		assert.Equal(t, "0 1 2 3 4", g.rec.sorted(), "the refused invocations' bodies ran")
	})

	t.Run("Bounded_execution_a_waiter_whose_ctx_ends_leaves_the_line", func(t *testing.T) {
		g := newGated()
		r := bulkRegistry(t, g.body, 1, 4)
		first := r.InvokeAction(bg, bulkAction, "first")
		eventually(t, "the first running", func() bool { return r.InFlight(bulkAction) == 1 })

		causeA, causeC := errors.New("client A went away"), errors.New("client C went away")
		ctxA, cancelA := context.WithCancelCause(bg)
		defer cancelA(nil)
		ctxC, cancelC := context.WithCancelCause(bg)
		defer cancelC(nil)
		a := r.InvokeAction(ctxA, bulkAction, "a")
		b := r.InvokeAction(bg, bulkAction, "b")
		called := make(chan error, 1)
		go func() {
			_, err := r.Call(ctxC, bulkAction, "c")
			called <- err
		}()
		eventually(t, "three waiting", func() bool { return r.Waiting(bulkAction) == 3 })

		cancelA(causeA)
		_, err, _ := awaitFuture(t, a)
		assert.ErrorIs(t, err, causeA)
		assert.Equal(t, StatusCancelled, StatusOf(err))
		assert.Equal(t, 2, r.Waiting(bulkAction))
		cancelC(causeC)
		err, _ = awaitChan(t, called, "the Call")
		assert.ErrorIs(t, err, causeC)
		assert.Equal(t, StatusCancelled, StatusOf(err))
		assert.Equal(t, 1, r.Waiting(bulkAction))
		assert.Equal(t, 1, r.InFlight(bulkAction), "a waiter that left took a slot")

		close(g.gate)
		for _, fut := range []*Future[any]{first, b} {
			_, err, _ := awaitFuture(t, fut)
			assert.NoError(t, err)
		}
		assert.Equal(t, "first b", g.rec.trace(), "only the invocations that kept waiting ran")
	})

	t.Run("Bounded_execution_waiting_InvokeActions_hold_no_goroutine", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			g := newGated()
			r := bulkRegistry(t, g.body, 1, 2000)
			ctx, cancel := context.WithCancel(bg)
			defer cancel()
			first := r.InvokeAction(ctx, bulkAction, -1)
			synctest.Wait()
			before := runtime.NumGoroutine()
			futs := make([]*Future[any], 1000)
			for i := range futs {
				futs[i] = r.InvokeAction(ctx, bulkAction, i)
			}
			synctest.Wait()
			assert.LessOrEqual(t, runtime.NumGoroutine(), before, "goroutines held by 1000 waiting invocations")
			assert.Equal(t, 1000, r.Waiting(bulkAction))

			// Made from a stage with the stage's ctx: the same.
			mustRegister(t, r, "Fan", func(ctx context.Context, _ any) (any, error) {
				for i := range 1000 {
					futs = append(futs, r.InvokeAction(ctx, bulkAction, 1000+i))
				}
				return nil, nil
			})
			_, err := r.Call(ctx, "Fan", nil)
			require.NoError(t, err)
			synctest.Wait()
			assert.LessOrEqual(t, runtime.NumGoroutine(), before, "goroutines held by 2000 waiting invocations")
			assert.Equal(t, 2000, r.Waiting(bulkAction))

			close(g.gate)
			res, err := first.Result()
			assert.NoError(t, err)
			assert.Equal(t, -1, res)
			for i, fut := range futs {
				res, err := fut.Result()
				if !assert.NoError(t, err) || !assert.Equal(t, i, res) {
					break
				}
			}
		})
	})

	t.Run("Bounded_execution_Close_waits_for_the_waiting_InvokeActions", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			g := newGated()
			r := bulkRegistry(t, g.body, 1, 8)
			var futs []*Future[any]
			for i := range 5 { // one runs, four wait
				futs = append(futs, r.InvokeAction(bg, bulkAction, i))
			}
			synctest.Wait()
			closed := make(chan error, 1)
			go func() { closed <- r.Close(bg) }()
			synctest.Wait()
			assert.Empty(t, closed, "Close returned while invocations wait for a slot")

			// What the closed registry refuses does not wait for a slot.
			late := r.InvokeAction(bg, bulkAction, "late")
			synctest.Wait()
			require.True(t, isDone(late), "an InvokeAction after Close waits for a slot")
			_, err := late.Result()
			assert.ErrorIs(t, err, ErrClosed)
			_, err = r.Call(bg, bulkAction, "late")
			assert.ErrorIs(t, err, ErrClosed)
			assert.Equal(t, 4, r.Waiting(bulkAction))

			close(g.gate)
			assert.NoError(t, <-closed)
			for i, fut := range futs {
				require.True(t, isDone(fut), "Close returned before invocation %d completed", i)
				res, err := fut.Result()
				assert.NoError(t, err)
				assert.Equal(t, i, res)
			}
			assert.Equal(t, "0 1 2 3 4", g.rec.trace())
		})
	})

	t.Run("Bounded_execution_Stop_fails_the_waiting_invocations", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			g := newGated() // its gate stays shut: the running body ends by its ctx
			r := bulkRegistry(t, g.body, 1, 8)
			var futs []*Future[any]
			for i := range 4 {
				futs = append(futs, r.InvokeAction(bg, bulkAction, i))
			}
			called := make(chan error, 1)
			go func() {
				_, err := r.Call(bg, bulkAction, "call")
				called <- err
			}()
			synctest.Wait()
			assert.Equal(t, 4, r.Waiting(bulkAction))

			assert.NoError(t, r.Stop(bg))
			for i, fut := range futs {
				require.True(t, isDone(fut), "Stop returned before invocation %d completed", i)
				_, err := fut.Result()
				assert.ErrorIs(t, err, ErrClosed)
				assert.Equal(t, StatusCancelled, StatusOf(err))
				want := StageNone // failed at step 0
				if i == 0 {
					want = StageBody // the running one, cancelled
				}
				assert.Equal(t, want, ErrorOf(err).Stage, "invocation %d", i)
			}
			err := <-called
			assert.ErrorIs(t, err, ErrClosed)
			assert.Equal(t, "0", g.rec.trace(), "a waiting invocation's body ran after Stop")
			assert.Zero(t, r.Waiting(bulkAction))
		})
	})

	t.Run("Bounded_execution_a_nested_invocation_does_not_wait_for_its_ancestor", func(t *testing.T) {
		for _, tc := range []struct {
			name  string
			limit int
			relay bool // through another action
			want  string
		}{
			{"no_slot_free", 1, false, "busy busy"},
			{"no_slot_free_through_another_action", 1, true, "busy busy"},
			{"a_slot_free", 2, false, "ok ok"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := New()
				var msgs []string
				inner := func(ctx context.Context) string {
					_, callErr := r.Call(ctx, bulkAction, "inner")
					_, invokeErr := r.InvokeAction(ctx, bulkAction, "inner").Wait(ctx)
					var got []string
					for _, err := range []error{callErr, invokeErr} {
						switch {
						case err == nil:
							got = append(got, "ok")
						case errors.Is(err, ErrBusy):
							got = append(got, "busy")
							msgs = append(msgs, err.Error())
						default:
							got = append(got, err.Error())
						}
					}
					return fmt.Sprint(got[0], " ", got[1])
				}
				mustRegister(t, r, "Relay", func(ctx context.Context, _ any) (any, error) { return inner(ctx), nil })
				mustRegister(t, r, bulkAction, func(ctx context.Context, p any) (any, error) {
					if p != "outer" {
						return p, nil
					}
					if tc.relay {
						return r.Call(ctx, "Relay", nil)
					}
					return inner(ctx), nil
				}, Bulkhead(tc.limit, 4))
				out, ok := callWithin(t, r, bg, bulkAction, "outer")
				require.True(t, ok, "a nested invocation waited for its ancestor")
				require.NoError(t, out.err)
				assert.Equal(t, tc.want, out.res)
				for _, msg := range msgs {
					assert.Equal(t, "actions: Fetch: action busy: limit 1, a slot held by an ancestor of this invocation, which would wait for itself", msg)
				}
			})
		}
	})

	t.Run("Observability_Waited_and_one_begin_and_end_per_invocation", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			spy := &spyObserver{}
			r := bulkRegistry(t, func(ctx context.Context, p any) (any, error) {
				if p == "slow" {
					time.Sleep(3 * time.Second)
				}
				return p, nil
			}, 1, 2, WithObserver(spy))
			ctx, cancel := context.WithCancelCause(bg)
			defer cancel(nil)
			cause := errors.New("gave up")

			slow := r.InvokeAction(bg, bulkAction, "slow")
			synctest.Wait()
			waiter := r.InvokeAction(bg, bulkAction, "waiter")
			gaveUp := r.InvokeAction(ctx, bulkAction, "gave up")
			busy := r.InvokeAction(bg, bulkAction, "busy")
			time.Sleep(time.Second)
			cancel(cause)
			for _, fut := range []*Future[any]{slow, waiter, gaveUp, busy} {
				_, _ = fut.Result()
			}
			synctest.Wait()

			for _, tc := range []struct {
				payload string
				waited  time.Duration
				status  Status
			}{
				{"slow", 0, StatusOK},
				{"waiter", 3 * time.Second, StatusOK},
				{"gave up", time.Second, StatusCancelled},
				{"busy", 0, StatusRejected},
			} {
				assert.Equal(t, "begin end", spy.kinds(tc.payload), tc.payload)
				for _, ev := range spy.where(func(ev obsEvent) bool { return ev.inv.Payload == tc.payload }) {
					assert.Equal(t, tc.waited, ev.inv.Waited, "%s: Waited at %s", tc.payload, ev.kind)
					if ev.kind == "end" {
						assert.Equal(t, tc.status, ev.out.Status(), tc.payload)
					}
				}
			}
		})
	})

	t.Run("Blocking_deduplication_in_flight_InFlight_counts_running_Waiting_counts_waiting", func(t *testing.T) {
		g := newGated()
		r := bulkRegistry(t, g.body, 2, 5)
		mustRegister(t, r, "Plain", g.body)
		var futs []*Future[any]
		for i := range 5 {
			futs = append(futs, r.InvokeAction(bg, bulkAction, i))
		}
		eventually(t, "two running", func() bool { return r.InFlight(bulkAction) == 2 })
		assert.Equal(t, 3, r.Waiting(bulkAction))
		assert.Zero(t, r.Waiting("Plain"), "an action without a bulkhead")
		assert.Zero(t, r.Waiting("Unknown"))
		for _, info := range r.Actions() {
			switch info.Name {
			case bulkAction:
				assert.Equal(t, []int{2, 5, 2}, []int{info.Limit, info.Queue, info.InFlight}, "Limit, Queue, InFlight")
			case "Plain":
				assert.Equal(t, []int{0, 0}, []int{info.Limit, info.Queue}, "Limit, Queue")
			}
		}
		close(g.gate)
		for _, fut := range futs {
			_, err, _ := awaitFuture(t, fut)
			assert.NoError(t, err)
		}
		assert.Zero(t, r.InFlight(bulkAction))
		assert.Zero(t, r.Waiting(bulkAction))
	})

	for _, via := range []string{"Call", "InvokeAction"} {
		t.Run("User_code_that_does_not_return_a_panic_releases_the_slot_"+via, func(t *testing.T) {
			r := bulkRegistry(t, func(_ context.Context, p any) (any, error) {
				if p == "boom" {
					panic("boom")
				}
				return p, nil
			}, 1, 0) // no line: a slot still held fails the next with ErrBusy
			for range 3 {
				_, err := invokeVia(r, via, bg, "boom")
				assert.ErrorIs(t, err, ErrPanicked)
				res, err := invokeVia(r, via, bg, "ok")
				assert.NoError(t, err)
				assert.Equal(t, "ok", res)
			}
		})

		t.Run("User_code_that_does_not_return_a_Goexit_releases_the_slot_"+via, func(t *testing.T) {
			r := bulkRegistry(t, func(_ context.Context, p any) (any, error) {
				if p == "exit" {
					runtime.Goexit()
				}
				return p, nil
			}, 1, 0)
			for range 3 {
				done := make(chan error, 1)
				returned := false
				go func() {
					defer close(done)
					_, err := invokeVia(r, via, bg, "exit")
					returned = true
					done <- err
				}()
				err, _ := awaitChan(t, done, "the invocation that called Goexit")
				if via == "Call" {
					assert.False(t, returned, "Call returned, though its body called runtime.Goexit")
				} else {
					assert.ErrorIs(t, err, ErrGoexit)
				}
				res, err := invokeVia(r, via, bg, "ok")
				assert.NoError(t, err)
				assert.Equal(t, "ok", res)
			}
		})
	}

	t.Run("Bounded_execution_each_registration_has_its_own_bulkhead", func(t *testing.T) {
		g := newGated()
		r := New()
		opt := Bulkhead(1, 0)
		mustRegister(t, r, bulkAction, g.body, opt)
		mustRegister(t, r, "Other", func(_ context.Context, p any) (any, error) { return p, nil }, opt)
		held := r.InvokeAction(bg, bulkAction, "held")
		eventually(t, "the first running", func() bool { return r.InFlight(bulkAction) == 1 })
		_, err := r.Call(bg, bulkAction, "second")
		busyError(t, err)
		res, err := r.Call(bg, "Other", "other")
		assert.NoError(t, err, "the same option's bulkhead on another action")
		assert.Equal(t, "other", res)
		close(g.gate)
		_, err, _ = awaitFuture(t, held)
		assert.NoError(t, err)
	})

	t.Run("Typed_handles_Register_takes_a_bulkhead", func(t *testing.T) {
		g := newGated()
		r := New()
		act := Typed[int, string](r, bulkAction)
		_, err := act.Register(func(ctx context.Context, p int) (string, error) {
			_, err := g.body(ctx, p)
			return fmt.Sprint(p), err
		}, Bulkhead(1, 1))
		require.NoError(t, err)
		first := act.Invoke(bg, 1)
		second := act.Invoke(bg, 2)
		eventually(t, "one running, one waiting", func() bool { return act.InFlight() == 1 && r.Waiting(bulkAction) == 1 })
		_, err = act.Call(bg, 3)
		busyError(t, err)
		close(g.gate)
		for i, fut := range []*Future[string]{first, second} {
			res, err, _ := awaitFuture(t, fut)
			assert.NoError(t, err)
			assert.Equal(t, fmt.Sprint(i+1), res)
		}
	})

	t.Run("Aborting_and_errors_Bulkhead_setup_errors_panic", func(t *testing.T) {
		assert.Contains(t, setupPanicMessage(t, "Bulkhead(0, 0)", func() { Bulkhead(0, 0) }), "limit 0")
		assert.Contains(t, setupPanicMessage(t, "Bulkhead(1, -1)", func() { Bulkhead(1, -1) }), "queue -1")
	})
}

// BenchmarkBulkhead measures an invocation through a bulkhead whose slots are
// free against the same action without one, in the same run: compare each
// bulkhead=free row with the bulkhead=none row of its mode. mode=parallel is
// Call under b.RunParallel, with a limit no run reaches.
func BenchmarkBulkhead(b *testing.B) {
	body := func(_ context.Context, p any) (any, error) { return p, nil }
	for _, mode := range []string{"call", "invoke", "parallel"} {
		for _, bh := range []string{"none", "free"} {
			b.Run("mode="+mode+"/bulkhead="+bh, func(b *testing.B) {
				var opts []ActionOption
				if bh == "free" {
					opts = append(opts, Bulkhead(1<<20, 0))
				}
				r := New()
				mustRegister(b, r, bulkAction, body, opts...)
				ctx := context.Background()
				b.ReportAllocs()
				b.ResetTimer()
				switch mode {
				case "call":
					for range b.N {
						if _, err := r.Call(ctx, bulkAction, nil); err != nil {
							b.Fatal(err)
						}
					}
				case "invoke":
					for range b.N {
						if _, err := r.InvokeAction(ctx, bulkAction, nil).Wait(ctx); err != nil {
							b.Fatal(err)
						}
					}
				case "parallel":
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							if _, err := r.Call(ctx, bulkAction, nil); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
			})
		}
	}
}
