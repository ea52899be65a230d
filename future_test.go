package actions

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// invokeWay is one of the two ways to run an invocation: the package docs'
// Lifecycle promises that Call and InvokeAction have the same semantics, so
// tests that can run through both do.
type invokeWay struct {
	name string
	run  func(ctx context.Context, r *Registry, name string, payload any) (any, error)
}

var invokeWays = []invokeWay{
	{"Call", func(ctx context.Context, r *Registry, name string, payload any) (any, error) {
		return r.Call(ctx, name, payload)
	}},
	{"InvokeAction", func(ctx context.Context, r *Registry, name string, payload any) (any, error) {
		return r.InvokeAction(ctx, name, payload).Wait(context.Background())
	}},
}

// returnsWithin runs fn in a goroutine and reports whether it returned within
// a generous bound, failing the test if not, so that a deadlock is a failure
// rather than a hung test. The bound only matters when something is broken.
// fn must not call t.FailNow (use assert).
func returnsWithin(t *testing.T, fn func()) bool {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
		return true
	case <-time.After(10 * time.Second):
		t.Error("did not return: deadlock")
		return false
	}
}

// setupPanicMessage returns what fn panicked with, failing the test unless it
// panicked with a string prefixed "actions: " (programmer errors, see the
// package docs' "Aborting and errors").
func setupPanicMessage(t *testing.T, fn func()) (msg string) {
	t.Helper()
	defer func() {
		v := recover()
		require.NotNil(t, v, "no panic")
		s, ok := v.(string)
		require.True(t, ok, "panic value %T %v is not a string", v, v)
		assert.True(t, strings.HasPrefix(s, "actions: "), "panic %q lacks the prefix", s)
		msg = s
	}()
	fn()
	return ""
}

func isDone(f *Future[any]) bool {
	select {
	case <-f.Done():
		return true
	default:
		return false
	}
}

func TestInvokeAction(t *testing.T) {
	t.Run("InvokeAction_returns_before_body_runs", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := New()
			var rec recorder
			release := make(chan struct{})
			mustRegister(t, r, "Slow", func(context.Context, any) (any, error) {
				<-release // a synchronous InvokeAction would deadlock here
				rec.add("body")
				return "done", nil
			})
			fut := r.InvokeAction(context.Background(), "Slow", nil)
			rec.add("returned")
			synctest.Wait()
			assert.False(t, isDone(fut), "future done while the body is blocked")
			close(release)
			res, err := fut.Wait(context.Background())
			require.NoError(t, err)
			assert.Equal(t, "done", res)
			assert.Equal(t, "returned body", rec.trace())
		})
	})

	t.Run("Future_done_wait_result", func(t *testing.T) {
		errBoom := errors.New("boom")
		for _, tc := range []struct {
			name    string
			body    Body
			wantRes any
			wantErr error
		}{
			{"success", func(context.Context, any) (any, error) { return 42, nil }, 42, nil},
			{"failure", func(context.Context, any) (any, error) { return 42, errBoom }, nil, errBoom},
		} {
			t.Run(tc.name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					r := New()
					release := make(chan struct{})
					mustRegister(t, r, "Act", func(ctx context.Context, p any) (any, error) {
						<-release
						return tc.body(ctx, p)
					})
					fut := r.InvokeAction(context.Background(), "Act", nil)
					synctest.Wait()
					require.False(t, isDone(fut))
					close(release)
					<-fut.Done()
					res, err := fut.Wait(context.Background())
					res2, err2 := fut.Result()
					assert.Equal(t, tc.wantRes, res)
					assert.Equal(t, tc.wantRes, res2)
					if tc.wantErr == nil {
						assert.NoError(t, err)
						assert.NoError(t, err2)
					} else {
						assert.ErrorIs(t, err, tc.wantErr)
						assert.ErrorIs(t, err, ErrFailed)
						assert.Same(t, err, err2)
					}
				})
			})
		}
	})

	t.Run("Future_wait_giving_up_does_not_cancel", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := New()
			var rec recorder
			release := make(chan struct{})
			mustRegister(t, r, "Slow", func(ctx context.Context, any any) (any, error) {
				<-release
				rec.add(fmt.Sprintf("body:ctxErr=%v", ctx.Err()))
				return "done", nil
			})
			r.AddListener("afterSlow", rec.listen("after", nil))
			fut := r.InvokeAction(context.Background(), "Slow", nil)

			cause := errors.New("tired of waiting")
			waitCtx, cancel := context.WithCancelCause(context.Background())
			cancel(cause)
			res, err := fut.Wait(waitCtx)
			assert.Nil(t, res)
			assert.Equal(t, cause, err, "Wait returns the raw cause of its own ctx")

			deadlineCtx, cancelDeadline := context.WithTimeout(context.Background(), time.Second)
			defer cancelDeadline()
			_, err = fut.Wait(deadlineCtx)
			assert.Equal(t, context.DeadlineExceeded, err)

			synctest.Wait()
			assert.False(t, isDone(fut), "the invocation went on")
			close(release)
			res, err = fut.Result()
			require.NoError(t, err)
			assert.Equal(t, "done", res)
			assert.Equal(t, "body:ctxErr=<nil> after", rec.trace())
		})
	})

	t.Run("Future_wait_many_times_many_goroutines", func(t *testing.T) {
		errBoom := errors.New("boom")
		for _, tc := range []struct {
			name string
			res  any
			err  error
		}{
			{"success", "result", nil},
			{"failure", nil, errBoom},
		} {
			t.Run(tc.name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					r := New()
					release := make(chan struct{})
					mustRegister(t, r, "Act", func(context.Context, any) (any, error) {
						<-release
						return tc.res, tc.err
					})
					fut := r.InvokeAction(context.Background(), "Act", nil)

					const waiters = 16
					type got struct {
						res any
						err error
					}
					results := make(chan got, 3*waiters)
					var wg sync.WaitGroup
					for i := range waiters {
						wg.Go(func() {
							var g got
							if i%2 == 0 {
								g.res, g.err = fut.Wait(context.Background())
							} else {
								g.res, g.err = fut.Result()
							}
							results <- g
						})
					}
					synctest.Wait()
					require.Empty(t, results, "a waiter returned before completion")
					close(release)
					wg.Wait()
					for range waiters {
						wg.Go(func() {
							var g got
							g.res, g.err = fut.Wait(context.Background())
							results <- g
						})
					}
					wg.Wait()
					for range waiters {
						res, err := fut.Wait(context.Background())
						results <- got{res, err}
					}
					close(results)
					first := <-results
					if tc.err == nil {
						assert.NoError(t, first.err)
						assert.Equal(t, tc.res, first.res)
					} else {
						assert.ErrorIs(t, first.err, tc.err)
					}
					n := 1
					for g := range results {
						n++
						assert.Equal(t, first.res, g.res)
						assert.True(t, first.err == g.err, "waiters saw different errors: %v, %v", first.err, g.err)
					}
					assert.Equal(t, 3*waiters, n)
				})
			})
		}
	})

	t.Run("Lifecycle_call_has_the_same_semantics", func(t *testing.T) {
		errBoom := errors.New("boom")
		reason := errors.New("agent declined")
		cancelled, cancel := context.WithCancel(context.Background())
		cancel()
		for _, tc := range []struct {
			name      string
			setup     func(r *Registry, rec *recorder)
			ctx       context.Context
			payload   any
			wantRes   any
			wantErr   []error
			wantTrace string
		}{
			{
				name: "success",
				setup: func(r *Registry, rec *recorder) {
					mustRegister(t, r, "Act", rec.body("body", "res"))
					r.AddListener("beforeAct", rec.listen("before", nil))
					r.AddListener("afterAct", rec.listen("after", nil))
				},
				wantRes: "res", wantTrace: "before body after",
			},
			{
				name: "payload_update_and_replacement",
				setup: func(r *Registry, rec *recorder) {
					mustRegister(t, r, "Act", func(_ context.Context, p any) (any, error) {
						rec.add("body")
						return p.(int) * 10, nil
					}, UpdatePayload(func(_ context.Context, p any) (any, error) {
						rec.add("update")
						return p.(int) + 1, nil
					}))
					r.ReplaceAction("Act", func(ctx context.Context, p any, original Body) (any, error) {
						rec.add("replacement")
						return original(ctx, p)
					})
				},
				payload: 1, wantRes: 20, wantTrace: "update replacement body",
			},
			{
				name:    "not_found",
				setup:   func(r *Registry, rec *recorder) { r.AddListener("beforeAct", rec.listen("before", nil)) },
				wantErr: []error{ErrActionNotFound},
			},
			{
				name: "blocked",
				setup: func(r *Registry, rec *recorder) {
					mustRegister(t, r, "Act", rec.body("body", "res"))
					r.BlockAction("Act", nil)
				},
				wantErr: []error{ErrBlocked},
			},
			{
				name: "aborted",
				setup: func(r *Registry, rec *recorder) {
					mustRegister(t, r, "Act", rec.body("body", "res"))
					r.AddListener("beforeAct", rec.listen("before", Abort(reason)))
					r.AddListener("afterAct", rec.listen("after", nil))
				},
				wantErr: []error{ErrAborted, reason}, wantTrace: "before",
			},
			{
				name: "body_error",
				setup: func(r *Registry, rec *recorder) {
					mustRegister(t, r, "Act", func(context.Context, any) (any, error) {
						rec.add("body")
						return nil, errBoom
					})
					r.AddListener("afterAct", rec.listen("after", nil))
				},
				wantErr: []error{ErrFailed, errBoom}, wantTrace: "body",
			},
			{
				name: "body_panic",
				setup: func(r *Registry, rec *recorder) {
					mustRegister(t, r, "Act", func(context.Context, any) (any, error) {
						rec.add("body")
						panic("kaboom")
					})
				},
				wantErr: []error{ErrFailed, ErrPanicked}, wantTrace: "body",
			},
			{
				name: "ctx_done",
				setup: func(r *Registry, rec *recorder) {
					mustRegister(t, r, "Act", rec.body("body", "res"))
					r.AddListener("beforeAct", rec.listen("before", nil))
				},
				ctx: cancelled, wantErr: []error{context.Canceled},
			},
			{
				name: "closed",
				setup: func(r *Registry, rec *recorder) {
					mustRegister(t, r, "Act", rec.body("body", "res"))
					require.NoError(t, r.Close(context.Background()))
				},
				wantErr: []error{ErrClosed},
			},
		} {
			for _, way := range invokeWays {
				t.Run(tc.name+"/"+way.name, func(t *testing.T) {
					r := New()
					var rec recorder
					tc.setup(r, &rec)
					ctx := tc.ctx
					if ctx == nil {
						ctx = context.Background()
					}
					res, err := way.run(ctx, r, "Act", tc.payload)
					assert.Equal(t, tc.wantRes, res)
					if tc.wantErr == nil {
						assert.NoError(t, err)
					}
					for _, want := range tc.wantErr {
						assert.ErrorIs(t, err, want)
					}
					assert.Equal(t, tc.wantTrace, rec.trace())
				})
			}
		}
	})

	t.Run("Lifecycle_ctx_values_reach_every_stage", func(t *testing.T) {
		type key struct{}
		for _, concurrent := range []bool{false, true} {
			for _, way := range invokeWays {
				t.Run(fmt.Sprintf("concurrent=%v/%s", concurrent, way.name), func(t *testing.T) {
					r := New()
					var rec recorder
					see := func(stage string, ctx context.Context) {
						rec.add(fmt.Sprintf("%s=%v", stage, ctx.Value(key{})))
					}
					registerEveryStage(t, r, concurrent, see)
					ctx := context.WithValue(context.Background(), key{}, "v")
					_, err := way.run(ctx, r, "Act", nil)
					require.NoError(t, err)
					assert.Equal(t, "afterAct0=v afterAct1=v beforeAct0=v beforeAct1=v body=v replacement=v update=v", rec.sorted())
				})
			}
		}
	})

	t.Run("Lifecycle_cancellation_checkpoints", func(t *testing.T) {
		custom := errors.New("custom cause")
		for _, cause := range []struct {
			name  string
			cause error // given to cancel; nil means context.Canceled
			want  error
		}{
			{"canceled", nil, context.Canceled},
			{"cause", custom, custom},
		} {
			for _, tc := range []struct {
				name      string
				cancelIn  string // the stage that cancels the ctx; "" cancels before invoking
				wantTrace string
			}{
				{"step0_already_done", "", ""},
				{"before_before_phase", "update", "update"},
				{"between_sequential_before_listeners", "before1", "update before1"},
				{"before_body", "before2", "update before1 before2"},
			} {
				for _, way := range invokeWays {
					t.Run(cause.name+"/"+tc.name+"/"+way.name, func(t *testing.T) {
						r := New()
						var rec recorder
						ctx, cancel := context.WithCancelCause(context.Background())
						defer cancel(nil)
						stage := func(name string) {
							rec.add(name)
							if name == tc.cancelIn {
								cancel(cause.cause)
							}
						}
						mustRegister(t, r, "Act", func(context.Context, any) (any, error) {
							stage("body")
							return "res", nil
						}, UpdatePayload(func(_ context.Context, p any) (any, error) {
							stage("update")
							return p, nil
						}))
						for _, name := range []string{"before1", "before2"} {
							r.AddListener("beforeAct", func(context.Context, any) error {
								stage(name)
								return nil
							})
						}
						r.ReplaceAction("Act", func(ctx context.Context, p any, original Body) (any, error) {
							stage("replacement")
							return original(ctx, p)
						})
						r.AddListener("afterAct", func(context.Context, any) error {
							stage("after")
							return nil
						})
						if tc.cancelIn == "" {
							cancel(cause.cause)
						}
						res, err := way.run(ctx, r, "Act", nil)
						assert.Nil(t, res)
						assert.ErrorIs(t, err, cause.want)
						assert.NotErrorIs(t, err, ErrAborted)
						assert.NotErrorIs(t, err, ErrFailed)
						var e *Error
						if assert.ErrorAs(t, err, &e) {
							assert.Nil(t, e.Kind)
							assert.Equal(t, "Act", e.Action)
							assert.Equal(t, cause.want, e.Err)
						}
						assert.Equal(t, tc.wantTrace, rec.trace())
					})
				}
			}
		}
	})

	t.Run("Lifecycle_result_stands_once_body_returned", func(t *testing.T) {
		custom := errors.New("custom cause")
		for _, way := range invokeWays {
			t.Run(way.name, func(t *testing.T) {
				r := New()
				var rec recorder
				ctx, cancel := context.WithCancelCause(context.Background())
				defer cancel(nil)
				mustRegister(t, r, "Act", func(context.Context, any) (any, error) {
					rec.add("body")
					cancel(custom)
					return "res", nil
				})
				for _, name := range []string{"after1", "after2"} {
					r.AddListener("afterAct", func(ctx context.Context, _ any) error {
						rec.add(fmt.Sprintf("%s:%v", name, context.Cause(ctx) == custom))
						return nil
					})
				}
				res, err := way.run(ctx, r, "Act", nil)
				require.NoError(t, err)
				assert.Equal(t, "res", res)
				assert.Equal(t, "body after1:true after2:true", rec.trace())
			})
		}
	})

	t.Run("Lifecycle_after_listener_invokes_and_waits", func(t *testing.T) {
		// Seed example: an afterCompleteTask listener invokes MyAction; its
		// wait delays the outer future.
		synctest.Test(t, func(t *testing.T) {
			r := New()
			var rec recorder
			release := make(chan struct{})
			mustRegister(t, r, "CompleteTask", rec.body("CompleteTask", "completed"))
			mustRegister(t, r, "MyAction", func(context.Context, any) (any, error) {
				rec.add("MyAction:start")
				<-release
				rec.add("MyAction:end")
				return "mine", nil
			})
			r.AddListener("afterCompleteTask", func(ctx context.Context, p any) error {
				res, err := r.InvokeAction(ctx, "MyAction", p).Wait(ctx)
				rec.add(fmt.Sprintf("after:%v", res))
				return err
			})
			fut := r.InvokeAction(context.Background(), "CompleteTask", nil)
			synctest.Wait()
			assert.False(t, isDone(fut), "outer future done while its after-listener waits")
			assert.Equal(t, "CompleteTask MyAction:start", rec.trace())
			close(release)
			res, err := fut.Result()
			require.NoError(t, err)
			assert.Equal(t, "completed", res)
			assert.Equal(t, "CompleteTask MyAction:start MyAction:end after:mine", rec.trace())
		})
	})

	t.Run("Lifecycle_replacement_invokes_then_original", func(t *testing.T) {
		// Seed example: a WrapupTask replacement invokes SendMessage, then
		// its original.
		for _, way := range invokeWays {
			t.Run(way.name, func(t *testing.T) {
				r := New()
				var rec recorder
				mustRegister(t, r, "WrapupTask", rec.body("WrapupTask", "wrapped"))
				mustRegister(t, r, "SendMessage", func(_ context.Context, p any) (any, error) {
					rec.add("SendMessage:" + p.(string))
					return "sent", nil
				})
				r.AddListener("beforeSendMessage", rec.listen("beforeSendMessage", nil))
				r.ReplaceAction("WrapupTask", func(ctx context.Context, p any, original Body) (any, error) {
					if _, err := way.run(ctx, r, "SendMessage", "goodbye"); err != nil {
						return nil, err
					}
					return original(ctx, p)
				})
				res, err := way.run(context.Background(), r, "WrapupTask", nil)
				require.NoError(t, err)
				assert.Equal(t, "wrapped", res)
				assert.Equal(t, "beforeSendMessage SendMessage:goodbye WrapupTask", rec.trace())
			})
		}
	})

	t.Run("Lifecycle_invoke_from_every_stage", func(t *testing.T) {
		for _, stage := range []string{"update", "before", "replacement", "body", "after"} {
			for _, way := range invokeWays {
				t.Run(stage+"/"+way.name, func(t *testing.T) {
					r := New()
					var rec recorder
					mustRegister(t, r, "Inner", func(_ context.Context, p any) (any, error) {
						rec.add("inner")
						return "inner-result", nil
					})
					nested := func(ctx context.Context, at string) {
						if at == stage {
							res, err := way.run(ctx, r, "Inner", nil)
							assert.NoError(t, err)
							rec.add(fmt.Sprintf("%s:%v", at, res))
						}
					}
					mustRegister(t, r, "Outer", func(ctx context.Context, p any) (any, error) {
						nested(ctx, "body")
						return "outer", nil
					}, UpdatePayload(func(ctx context.Context, p any) (any, error) {
						nested(ctx, "update")
						return p, nil
					}))
					r.AddListener("beforeOuter", func(ctx context.Context, _ any) error { nested(ctx, "before"); return nil })
					r.AddListener("afterOuter", func(ctx context.Context, _ any) error { nested(ctx, "after"); return nil })
					r.ReplaceAction("Outer", func(ctx context.Context, p any, original Body) (any, error) {
						nested(ctx, "replacement")
						return original(ctx, p)
					})
					res, err := r.Call(context.Background(), "Outer", nil)
					require.NoError(t, err)
					assert.Equal(t, "outer", res)
					assert.Equal(t, "inner "+stage+":inner-result", rec.trace())
				})
			}
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

	t.Run("InvokeAction_nil_ctx_panics", func(t *testing.T) {
		r := New()
		mustRegister(t, r, "Act", func(context.Context, any) (any, error) { return nil, nil })
		var nilCtx context.Context
		setupPanicMessage(t, func() { r.InvokeAction(nilCtx, "Act", nil) })
		setupPanicMessage(t, func() { _, _ = r.Call(nilCtx, "Act", nil) })
	})
}
