package actions

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConcurrency(t *testing.T) {
	t.Run("Concurrency_every_method_concurrently", func(t *testing.T) {
		var sink errorSink
		r := New(WithObserver(hookObserver{}), WithErrorHandler(sink.handle))
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
		assert.Empty(t, sink.all())

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
		_, ok := within(t, "Close while invocations keep coming", func() bool {
			assert.NoError(t, r.Close(ctx))
			stop.Store(true)
			wg.Wait()
			return true
		})
		require.True(t, ok)
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
						WithObserver(everyHook(func(method string, ctx context.Context, inv Invocation) {
							if inv.Action == "Outer" && inv.Payload == "outer" {
								exercise(method, ctx)
							}
						})),
						WithErrorHandler(func(context.Context, error) { exercise("error-handler", context.Background()) }),
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
					_, ok := within(t, "invoking Outer", func() bool {
						res, err = way.run(context.Background(), r, "Outer", "outer")
						return true
					})
					require.True(t, ok)
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
					closeErr, ok := within(t, "Close", func() error { return r.Close(context.Background()) })
					require.True(t, ok)
					assert.NoError(t, closeErr)
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
		_, ok := within(t, "invoking while a writer holds the lock", func() bool {
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
			return true
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

		_, ok := within(t, "changing the registry while a body runs", func() bool {
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
			return true
		})
		require.True(t, ok)
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
			r := New(WithErrorHandler(func(context.Context, error) {}), WithObserver(&spyObserver{}))
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

func TestInFlight(t *testing.T) {
	t.Run("In_flight_counts_from_before_phase_to_completion", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := New()
			var rec recorder
			see := func(stage string) { rec.add(fmt.Sprintf("%s:%d", stage, r.InFlight("Act"))) }
			release := make(chan struct{})
			mustRegister(t, r, "Act", func(_ context.Context, p any) (any, error) {
				see("body")
				if p == "wait" {
					<-release
				}
				return p, nil
			}, UpdatePayload(func(_ context.Context, p any) (any, error) {
				see("update")
				return p, nil
			}))
			r.AddListener("beforeAct", func(context.Context, any) error { see("before"); return nil })
			r.AddListener("afterAct", func(context.Context, any) error { see("after"); return nil })
			assert.Zero(t, r.InFlight("Act"))
			assert.Zero(t, r.InFlight("Unknown"))

			_, err := r.Call(context.Background(), "Act", nil)
			require.NoError(t, err)
			assert.Equal(t, "update:0 before:1 body:1 after:1", rec.trace())
			assert.Zero(t, r.InFlight("Act"))

			f1 := r.InvokeAction(context.Background(), "Act", "wait")
			f2 := r.InvokeAction(context.Background(), "Act", "wait")
			synctest.Wait()
			assert.Equal(t, 2, r.InFlight("Act"))
			r.BlockAction("Act", func(p any) bool { return p == "blocked" })
			_, err = r.Call(context.Background(), "Act", "blocked")
			require.ErrorIs(t, err, ErrBlocked)
			assert.Equal(t, 2, r.InFlight("Act"), "a rejected invocation is not in flight")
			close(release)
			for _, f := range []*Future[any]{f1, f2} {
				_, err := f.Result()
				require.NoError(t, err)
				// The count is down by the time the future completes.
			}
			assert.Zero(t, r.InFlight("Act"))
		})
	})

	t.Run("In_flight_count_drops_when_each_future_completes", func(t *testing.T) {
		errBoom := errors.New("boom")
		for _, tc := range []struct {
			name string
			opt  func(r *Registry)
		}{
			{"success", func(*Registry) {}},
			{"aborted", func(r *Registry) {
				r.AddListener("beforeAct", func(context.Context, any) error { return Abort(nil) })
			}},
			{"after_error", func(r *Registry) {
				r.AddListener("afterAct", func(context.Context, any) error { return errBoom })
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := New(WithErrorHandler(func(context.Context, error) {}))
				mustRegister(t, r, "Act", func(context.Context, any) (any, error) { return nil, nil })
				tc.opt(r)
				for range 50 {
					f := r.InvokeAction(context.Background(), "Act", nil)
					<-f.Done()
					require.Zero(t, r.InFlight("Act"))
				}
			})
		}
	})

	t.Run("In_flight_window_ends_before_future_completes", func(t *testing.T) {
		// An observer that blocks in InFlightEnd or InvocationEnd holds the
		// future back: the end of the window is visible before completion.
		for _, method := range []string{"inflight-end", "observer-end"} {
			t.Run(method, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					release := make(chan struct{})
					r := New(WithObserver(everyHook(func(m string, _ context.Context, inv Invocation) {
						if m == method && inv.Payload == "held" {
							<-release
						}
					})))
					mustRegister(t, r, "Act", func(context.Context, any) (any, error) { return "res", nil })
					fut := r.InvokeAction(context.Background(), "Act", "held")
					synctest.Wait()
					assert.False(t, isDone(fut), "the future completed before the observer saw the end")
					close(release)
					res, err := fut.Result()
					require.NoError(t, err)
					assert.Equal(t, "res", res)
					assert.Zero(t, r.InFlight("Act"))
				})
			})
		}
	})

	t.Run("In_flight_in_flight_observer", func(t *testing.T) {
		for _, way := range invokeWays {
			t.Run(way.name, func(t *testing.T) {
				obs := &spyObserver{}
				r := New(WithObserver(inFlightSpy{obs}))
				var rec recorder
				mark := func(stage string) {
					// Interleave the stages with the observer's events by
					// recording them through the same observer.
					obs.record(obsEvent{kind: stage, inv: Invocation{Payload: "p"}})
					rec.add(stage)
				}
				mustRegister(t, r, "Act", func(context.Context, any) (any, error) {
					mark("body")
					return nil, nil
				}, UpdatePayload(func(_ context.Context, p any) (any, error) {
					mark("update")
					return p, nil
				}))
				r.AddListener("beforeAct", func(context.Context, any) error { mark("before"); return nil })
				r.AddListener("afterAct", func(context.Context, any) error { mark("after"); return nil })
				_, err := way.run(context.Background(), r, "Act", "p")
				require.NoError(t, err)
				kinds := strings.Fields(obs.kinds("p"))
				require.Len(t, kinds, 8)
				assert.Equal(t, "begin update inflight-begin before body after", strings.Join(kinds[:6], " "))
				// The window closes before the future completes; its order
				// relative to InvocationEnd is not part of the contract.
				assert.ElementsMatch(t, []string{"end", "inflight-end"}, kinds[6:])

				r.BlockAction("Act", nil)
				_, err = way.run(context.Background(), r, "Act", "blocked")
				require.ErrorIs(t, err, ErrBlocked)
				assert.Equal(t, "begin end", obs.kinds("blocked"), "a rejected invocation has no in-flight window")
			})
		}
	})
}

// A registry lives as long as its program, and names come and go: plugins
// loaded and unloaded, actions named after the objects they act on. Every
// registration returns its undo; once it has been undone, nothing of it may
// remain, whatever the number of names it used.

// memNames is how many distinct names each cycle uses.
const memNames = 100_000

// memBudget is how much the heap may grow over memNames cycles: a few bytes
// a name at most, where keeping each name's bookkeeping costs hundreds.
const memBudget = 2 << 20

func memBody(context.Context, any) (any, error) { return nil, nil }

func memListener(context.Context, any) error { return nil }

func memReplacement(ctx context.Context, p any, original Body) (any, error) { return original(ctx, p) }

// heapGrowth returns how much the live heap grew over fn. An entry with
// nothing left on it is collected by a GC, and its name removed by a cleanup
// that runs after that GC: the heap is read again, after more GCs, until it
// is within budget or ten seconds have passed (cleanups run one after another
// on one goroutine, slowly under -race on a loaded machine).
func heapGrowth(fn func()) int64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	deadline := time.Now().Add(10 * time.Second)
	for {
		runtime.GC()
		runtime.ReadMemStats(&after)
		growth := int64(after.HeapAlloc) - int64(before.HeapAlloc)
		if growth < memBudget || time.Now().After(deadline) {
			return growth
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("makes hundreds of thousands of registrations")
	}
	cycles := []struct {
		name  string
		cycle func(t *testing.T, r *Registry, name string)
	}{
		{"Registry: an action registered then unregistered", func(t *testing.T, r *Registry, name string) {
			unregister, err := r.RegisterAction(name, memBody)
			require.NoError(t, err)
			require.True(t, unregister())
		}},
		{"Listeners: a listener added then removed", func(t *testing.T, r *Registry, name string) {
			require.True(t, r.AddListener("before"+name, memListener)())
		}},
		{"Blocking, de-duplication, in flight: a block placed then removed", func(t *testing.T, r *Registry, name string) {
			require.True(t, r.BlockAction(name, nil)())
		}},
		{"Replacing actions: a replacement pushed then removed", func(t *testing.T, r *Registry, name string) {
			require.True(t, r.ReplaceAction(name, memReplacement)())
		}},
		{"Registry: a typed handle made then dropped", func(t *testing.T, r *Registry, name string) {
			_ = Typed[int, int](r, name)
		}},
		{"Listeners: a Once listener that fired, on an action then unregistered", func(t *testing.T, r *Registry, name string) {
			unregister, err := r.RegisterAction(name, memBody)
			require.NoError(t, err)
			r.AddListener("before"+name, memListener, Once())
			_, err = r.Call(context.Background(), name, nil)
			require.NoError(t, err)
			require.True(t, unregister())
		}},
	}
	for _, c := range cycles {
		t.Run(c.name+", for each of many names, leaves the heap as it was", func(t *testing.T) {
			r := New()
			growth := heapGrowth(func() {
				for i := range memNames {
					c.cycle(t, r, "Action"+strconv.Itoa(i))
				}
			})
			runtime.KeepAlive(r)
			t.Logf("heap growth over %d names: %d bytes", memNames, growth)
			assert.Less(t, growth, int64(memBudget), "heap growth in bytes over %d names", memNames)
		})
	}
}

// The table of held entries finds every registered name, however many, and
// forgets a name with nothing left on it; a name that keeps coming and going
// does not grow it.
func TestHeldTable(t *testing.T) {
	r := New()
	body := func(context.Context, any) (any, error) { return nil, nil }
	const n = 3000
	for i := range n {
		mustRegister(t, r, fmt.Sprint("A", i), body)
	}
	for i := range n {
		name := fmt.Sprint("A", i)
		e := r.held.Load().find(name)
		require.NotNil(t, e, name)
		assert.Equal(t, name, e.name)
	}
	assert.Nil(t, r.held.Load().find("B"))
	assert.Nil(t, r.held.Load().find(""), "the removed marker has no name of its own")

	r = New()
	mustRegister(t, r, "A", body)
	remove := r.AddListener("beforeC", func(context.Context, any) error { return nil })
	require.NotNil(t, r.held.Load().find("C"))
	remove()
	assert.Nil(t, r.held.Load().find("C"), "a name with nothing on it is not held")
	size := len(r.held.Load().slots)
	for range 4 * size {
		r.AddListener("beforeC", func(context.Context, any) error { return nil })()
	}
	assert.Equal(t, size, len(r.held.Load().slots), "removed slots are dropped when the table is copied")
	assert.NotNil(t, r.held.Load().find("A"))
}

// The table finds an entry by where its name's bytes are before hashing:
// only the very string it was registered with (same bytes, same length)
// finds it that way, any equal string finds it by hash, and a shorter
// string over the same bytes is another name.
func TestHeldTableByData(t *testing.T) {
	ctx := context.Background()
	r := New()
	var rec recorder
	long := strings.Clone("Prefixed")
	short := long[:6] // "Prefix", over long's bytes
	mustRegister(t, r, long, rec.body("long", nil))
	tab := r.held.Load()
	assert.Same(t, tab.find(long), tab.byData[dataIndex(long, uint64(len(tab.slots)-1))].Load(), "the registered string is indexed by its bytes")
	_, err := r.Call(ctx, short, nil)
	require.ErrorIs(t, err, ErrActionNotFound, "a prefix over the same bytes")

	mustRegister(t, r, strings.Clone("Prefix"), rec.body("short", nil))
	for _, name := range []string{short, strings.Clone(short), long, strings.Clone(long)} {
		_, err := r.Call(ctx, name, nil)
		require.NoError(t, err, name)
	}
	assert.Equal(t, "short short long long", rec.trace())

	// Unregistered and registered again with an equal string elsewhere: the
	// old string finds the new entry, by hash.
	unregister := mustRegister(t, r, "Other", rec.body("old", nil))
	old := r.held.Load().find("Other")
	unregister()
	runtime.GC() // the old entry may be collected and its name forgotten
	mustRegister(t, r, strings.Clone("Other"), rec.body("new", nil))
	_, err = r.Call(ctx, "Other", nil)
	require.NoError(t, err)
	assert.Equal(t, "short short long long new", rec.trace())
	runtime.KeepAlive(old)
}
