package actions

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// funcObserver calls fn from every Observer and InFlightObserver method,
// with the method's name.
type funcObserver struct {
	fn func(method string, ctx context.Context, inv Invocation)
}

func (o funcObserver) InvocationBegin(ctx context.Context, inv Invocation) context.Context {
	o.fn("observer-begin", ctx, inv)
	return ctx
}
func (o funcObserver) InvocationEnd(ctx context.Context, inv Invocation, _ Outcome) {
	o.fn("observer-end", ctx, inv)
}
func (o funcObserver) InFlightBegin(ctx context.Context, inv Invocation) {
	o.fn("inflight-begin", ctx, inv)
}
func (o funcObserver) InFlightEnd(ctx context.Context, inv Invocation) {
	o.fn("inflight-end", ctx, inv)
}

func TestConcurrency(t *testing.T) {
	t.Run("Concurrency_every_method_concurrently", func(t *testing.T) {
		var handled atomic.Int64
		r := New(WithObserver(funcObserver{func(string, context.Context, Invocation) {}}),
			WithErrorHandler(func(error) { handled.Add(1) }))
		mustRegister(t, r, "Shared", func(_ context.Context, p any) (any, error) { return p, nil },
			Deduplicate(func(p any) string { return fmt.Sprint(p) }, SharePending))
		typed := Typed[int, int](r, "Shared")
		ctx := context.Background()

		const workers, rounds = 8, 40
		var registered atomic.Int64 // registrations of Contended currently held
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for i := range rounds {
					p := w*rounds + i
					removeBefore := r.AddListener("beforeShared", func(context.Context, any) error { return nil }, Priority(i%3))
					removeAfter := r.AddListener("afterShared", func(context.Context, any) error { return nil }, Once())
					removeLayer := r.ReplaceAction("Shared", func(ctx context.Context, p any, original Body) (any, error) {
						return original(ctx, p)
					})
					unblock := r.BlockAction("Shared", func(p any) bool { return p == -1 })
					_ = r.Listeners("beforeShared")
					_ = r.InFlight("Shared")
					_ = r.Registered("Contended")

					res, err := r.Call(ctx, "Shared", p)
					assert.NoError(t, err)
					assert.Equal(t, p, res)
					fut := r.InvokeAction(ctx, "Shared", p)
					n, err := typed.Call(ctx, p)
					assert.NoError(t, err)
					assert.Equal(t, p, n)
					res, err = fut.Wait(ctx)
					assert.NoError(t, err)
					assert.Equal(t, p, res)
					n, err = typed.Invoke(ctx, p).Result()
					assert.NoError(t, err)
					assert.Equal(t, p, n)

					if unregister, err := r.RegisterAction("Contended", func(context.Context, any) (any, error) { return nil, nil }); err == nil {
						assert.EqualValues(t, 1, registered.Add(1), "two registrations of one name")
						_, err := r.Call(ctx, "Contended", nil)
						assert.NoError(t, err)
						registered.Add(-1)
						assert.True(t, unregister())
					} else {
						assert.ErrorIs(t, err, ErrAlreadyRegistered)
					}
					if i%10 == 0 {
						r.RemoveAllListeners("afterShared")
					}

					assert.True(t, removeBefore())
					_ = removeAfter() // a once-listener may have been claimed or removed by RemoveAllListeners
					assert.True(t, removeLayer())
					assert.True(t, unblock())
				}
			})
		}
		wg.Wait()
		assert.Empty(t, r.Listeners("beforeShared"))
		assert.Zero(t, r.InFlight("Shared"))
		assert.False(t, r.Registered("Contended"))
		assert.Zero(t, handled.Load())

		// Close while invocations keep coming: each either completes or is
		// rejected as closed, and Close returns once the accepted ones are done.
		var stop atomic.Bool
		for w := range workers {
			wg.Go(func() {
				for i := 0; ; i++ {
					_, err := r.InvokeAction(ctx, "Shared", w*1000+i).Result()
					if err != nil {
						assert.ErrorIs(t, err, ErrClosed)
						if stop.Load() {
							return
						}
					}
				}
			})
		}
		require.True(t, returnsWithin(t, func() {
			assert.NoError(t, r.Close(ctx))
			stop.Store(true)
			wg.Wait()
		}))
		assert.Zero(t, r.InFlight("Shared"))
	})

	t.Run("Concurrency_no_user_code_under_a_lock", func(t *testing.T) {
		stages := []string{
			"update", "block", "key", "before", "concurrent-before", "replacement", "body", "after",
			"observer-begin", "observer-end", "inflight-begin", "inflight-end", "error-handler",
		}
		for _, stage := range stages {
			for _, way := range invokeWays {
				t.Run(stage+"/"+way.name, func(t *testing.T) {
					var (
						r   *Registry
						rec recorder
						ran atomic.Int64
					)
					cause := errors.New("stop waiting")
					// exercise calls every kind of method from inside a stage;
					// any of them blocking on a lock held around user code would
					// deadlock.
					exercise := func(at string, ctx context.Context) {
						if at != stage {
							return
						}
						if ran.Add(1) > 1 {
							t.Errorf("stage %s ran twice", at)
							return
						}
						unregister, err := r.RegisterAction("Other", func(_ context.Context, p any) (any, error) { return "other", nil })
						assert.NoError(t, err)
						removeListener := r.AddListener("beforeOther", rec.listen("beforeOther", nil))
						removeLayer := r.ReplaceAction("Other", layer(&rec, "otherReplacement"))
						unblock := r.BlockAction("Other", func(p any) bool { return p == "blocked" })
						assert.Len(t, r.Listeners("beforeOther"), 1)
						_ = r.InFlight("Outer")
						assert.True(t, r.Registered("Other"))
						res, err := r.Call(ctx, "Other", nil)
						assert.NoError(t, err)
						assert.Equal(t, "other", res)
						res, err = r.InvokeAction(ctx, "Other", nil).Wait(ctx)
						assert.NoError(t, err)
						assert.Equal(t, "other", res)
						_, err = r.Call(ctx, "Other", "blocked")
						assert.ErrorIs(t, err, ErrBlocked)
						assert.True(t, removeListener())
						assert.True(t, removeLayer())
						assert.True(t, unblock())
						assert.Zero(t, r.RemoveAllListeners("afterOther"))
						assert.True(t, unregister())

						done, cancel := context.WithCancelCause(context.Background())
						cancel(cause)
						err = r.Close(done)
						if at == "observer-begin" && way.name == "Call" {
							// Outer is not accepted yet: nothing to wait for.
							// (InvokeAction admitted it when it was called.)
							assert.NoError(t, err)
						} else {
							// Outer is in flight, so Close cannot drain; it
							// gives up with the ctx's cause.
							assert.Equal(t, cause, err)
						}
						_, err = r.Call(ctx, "Outer", "nested")
						assert.ErrorIs(t, err, ErrClosed)
						rec.add("exercised:" + at)
					}

					r = New(
						WithObserver(funcObserver{func(method string, ctx context.Context, inv Invocation) {
							if inv.Action == "Outer" && inv.Payload == "outer" {
								exercise(method, ctx)
							}
						}}),
						WithErrorHandler(func(error) { exercise("error-handler", context.Background()) }),
					)
					mustRegister(t, r, "Outer", func(ctx context.Context, p any) (any, error) {
						exercise("body", ctx)
						return "outer-result", nil
					},
						Concurrent(stage == "concurrent-before"),
						UpdatePayload(func(ctx context.Context, p any) (any, error) {
							exercise("update", ctx)
							return p, nil
						}),
						Deduplicate(func(p any) string {
							if p == "outer" {
								exercise("key", context.Background())
							}
							return fmt.Sprint(p)
						}, RejectPending))
					r.BlockAction("Outer", func(p any) bool {
						if p == "outer" {
							exercise("block", context.Background())
						}
						return false
					})
					r.AddListener("beforeOuter", func(ctx context.Context, _ any) error {
						exercise("before", ctx)
						exercise("concurrent-before", ctx)
						return nil
					})
					r.AddListener("beforeOuter", func(context.Context, any) error { return nil })
					r.ReplaceAction("Outer", func(ctx context.Context, p any, original Body) (any, error) {
						exercise("replacement", ctx)
						return original(ctx, p)
					})
					r.AddListener("afterOuter", func(ctx context.Context, _ any) error {
						exercise("after", ctx)
						if stage == "error-handler" {
							return errors.New("after failed")
						}
						return nil
					})

					var (
						res any
						err error
					)
					require.True(t, returnsWithin(t, func() {
						res, err = way.run(context.Background(), r, "Outer", "outer")
					}))
					// Other ran its listener and replacement twice (Call, then
					// InvokeAction); the blocked call ran nothing.
					assert.Equal(t, "beforeOther otherReplacement beforeOther otherReplacement exercised:"+stage, rec.trace())
					if stage == "observer-begin" && way.name == "Call" {
						// Close ran before Outer was accepted.
						assert.ErrorIs(t, err, ErrClosed)
					} else {
						require.NoError(t, err)
						assert.Equal(t, "outer-result", res)
					}
					require.True(t, returnsWithin(t, func() { assert.NoError(t, r.Close(context.Background())) }))
				})
			}
		}
	})

	t.Run("Concurrency_invoking_never_waits_for_a_writer", func(t *testing.T) {
		// Hold the writers' mutex, as a writer in the middle of a change
		// does: invocations of every kind, typed and untyped, sync and
		// async, with listeners, a replacement, a block, de-duplication and
		// a payload update, still complete.
		r := New()
		var rec recorder
		mustRegister(t, r, "A", rec.body("body", "ok"), UpdatePayload(func(_ context.Context, p any) (any, error) { return p, nil }))
		mustRegister(t, r, "D", rec.body("dedupe", "ok"), Deduplicate(func(any) string { return "k" }, RejectPending))
		r.AddListener("beforeA", rec.listen("before", nil), Priority(1))
		r.AddListener("afterA", rec.listen("after", nil))
		r.ReplaceAction("A", func(ctx context.Context, p any, original Body) (any, error) { return original(ctx, p) })
		r.BlockAction("A", func(p any) bool { return p == "blocked" })
		typed := Typed[string, string](r, "A")

		r.mu.Lock()
		defer r.mu.Unlock()
		ok := returnsWithin(t, func() {
			ctx := context.Background()
			_, err := r.Call(ctx, "A", "p")
			assert.NoError(t, err)
			_, err = r.InvokeAction(ctx, "A", "p").Wait(ctx)
			assert.NoError(t, err)
			_, err = typed.Call(ctx, "p")
			assert.NoError(t, err)
			_, err = r.Call(ctx, "A", "blocked")
			assert.ErrorIs(t, err, ErrBlocked)
			_, err = r.Call(ctx, "D", nil)
			assert.NoError(t, err)
			_, err = r.Call(ctx, "Unknown", nil)
			assert.ErrorIs(t, err, ErrActionNotFound)
			assert.Equal(t, 0, r.InFlight("A"))
		})
		require.True(t, ok)
		assert.Equal(t, "before body after before body after before body after dedupe", rec.trace())
	})

	t.Run("Concurrency_writers_do_not_wait_for_invocations", func(t *testing.T) {
		r := New()
		var rec recorder
		started, release := make(chan struct{}), make(chan struct{})
		unregister := mustRegister(t, r, "Act", func(context.Context, any) (any, error) {
			rec.add("body")
			close(started)
			<-release
			return "res", nil
		})
		removeBefore := r.AddListener("beforeAct", rec.listen("before", nil))
		mustRegister(t, r, "Other", func(context.Context, any) (any, error) { return "other", nil })
		fut := r.InvokeAction(context.Background(), "Act", nil)
		<-started

		require.True(t, returnsWithin(t, func() {
			r.AddListener("afterAct", rec.listen("added-while-body-runs", nil))
			assert.True(t, removeBefore())
			assert.Equal(t, 0, r.RemoveAllListeners("beforeAct"))
			removeLayer := r.ReplaceAction("Act", layer(&rec, "replacement"))
			assert.True(t, removeLayer())
			unblock := r.BlockAction("Act", nil)
			assert.True(t, unblock())
			unregisterNew, err := r.RegisterAction("New", func(context.Context, any) (any, error) { return nil, nil })
			assert.NoError(t, err)
			assert.True(t, unregisterNew())
			assert.True(t, unregister())
			res, err := r.Call(context.Background(), "Other", nil)
			assert.NoError(t, err)
			assert.Equal(t, "other", res)
			assert.Equal(t, 1, r.InFlight("Act"))
		}))
		assert.False(t, isDone(fut))
		close(release)
		res, err := fut.Result()
		require.NoError(t, err, "unregistering does not disturb an invocation past its lookup")
		assert.Equal(t, "res", res)
		assert.Equal(t, "before body added-while-body-runs", rec.trace())
	})

	t.Run("Concurrency_every_library_goroutine_ends", func(t *testing.T) {
		// synctest.Test fails if any goroutine of the bubble is still
		// blocked when the function returns; most futures here are never
		// waited for.
		synctest.Test(t, func(t *testing.T) {
			r := New(WithErrorHandler(func(error) {}), WithObserver(&spyObserver{}))
			errBoom := errors.New("boom")
			mustRegister(t, r, "Ok", func(_ context.Context, p any) (any, error) { return p, nil })
			mustRegister(t, r, "Fail", func(context.Context, any) (any, error) { return nil, errBoom })
			mustRegister(t, r, "Panic", func(context.Context, any) (any, error) { panic("kaboom") })
			mustRegister(t, r, "Concurrent", func(_ context.Context, p any) (any, error) { return p, nil }, Concurrent(true))
			for i := range 3 {
				r.AddListener("beforeConcurrent", func(ctx context.Context, p any) error {
					if p != "abort" {
						return nil
					}
					if i == 1 {
						return Abort(nil)
					}
					<-ctx.Done() // the abort cancels the others' ctx
					return nil
				}, Priority(i))
			}
			r.AddListener("beforeConcurrent", func(context.Context, any) error { return nil })
			mustRegister(t, r, "Sleepy", func(context.Context, any) (any, error) {
				time.Sleep(time.Minute)
				return "awake", nil
			}, Deduplicate(func(any) string { return "k" }, SharePending))
			mustRegister(t, r, "Nested", func(ctx context.Context, _ any) (any, error) {
				r.InvokeAction(ctx, "Sleepy", nil)
				return r.Call(ctx, "Ok", "nested")
			})
			r.AddListener("afterFail", func(context.Context, any) error { return errBoom })
			r.AddListener("afterOk", func(ctx context.Context, p any) error {
				if p == "once" {
					r.InvokeAction(ctx, "Ok", "from-after")
				}
				return nil
			}, Once())
			r.BlockAction("Ok", func(p any) bool { return p == "blocked" })

			for _, c := range []struct{ name, payload string }{
				{"Ok", "once"}, {"Ok", "blocked"}, {"Fail", ""}, {"Panic", ""}, {"Missing", ""},
				{"Concurrent", "abort"}, {"Sleepy", ""}, {"Sleepy", ""}, {"Nested", ""},
			} {
				r.InvokeAction(context.Background(), c.name, c.payload)
			}
			_, err := r.Call(context.Background(), "Concurrent", "abort")
			require.ErrorIs(t, err, ErrAborted)

			// A bounded Close gives up on the sleeping ones; they still end.
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			assert.ErrorIs(t, r.Close(ctx), context.DeadlineExceeded)
			// The bubble's clock stops when this function returns: let it
			// run past the sleeping bodies, then every goroutine must end.
			time.Sleep(2 * time.Minute)
		})
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
