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

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// registerTraced registers name with a payload update, a before- and an
// after-listener and a replacement, all recorded in rec, so that a test can
// check that nothing of an invocation ran. The update appends "+updated" to
// a string payload.
func registerTraced(t *testing.T, r *Registry, rec *recorder, name string, opts ...ActionOption) {
	t.Helper()
	opts = append(opts, UpdatePayload(func(_ context.Context, p any) (any, error) {
		rec.add("update")
		return fmt.Sprint(p, "+updated"), nil
	}))
	mustRegister(t, r, name, func(_ context.Context, p any) (any, error) {
		rec.add("body")
		return p, nil
	}, opts...)
	r.AddListener("before"+name, rec.listen("before", nil))
	r.AddListener("after"+name, rec.listen("after", nil))
	r.ReplaceAction(name, func(ctx context.Context, p any, original Body) (any, error) {
		rec.add("replacement")
		return original(ctx, p)
	})
}

const tracedFull = "update before replacement body after"

func TestBlockAction(t *testing.T) {
	for _, way := range invokeWays {
		t.Run("Blocking_nil_match_blocks_every_invocation/"+way.name, func(t *testing.T) {
			r := New()
			var rec recorder
			registerTraced(t, r, &rec, "Act")
			unblock := r.BlockAction("Act", nil)
			for _, p := range []any{nil, "a", 42} {
				res, err := way.run(context.Background(), r, "Act", p)
				assert.Nil(t, res)
				assert.ErrorIs(t, err, ErrBlocked)
				var e *Error
				require.ErrorAs(t, err, &e)
				assert.Equal(t, "Act", e.Action)
			}
			assert.Empty(t, rec.trace(), "a blocked invocation runs nothing")
			assert.True(t, unblock())
			assert.False(t, unblock())
			res, err := way.run(context.Background(), r, "Act", "a")
			require.NoError(t, err)
			assert.Equal(t, "a+updated", res)
			assert.Equal(t, tracedFull, rec.trace())
		})

		t.Run("Blocking_match_blocks_only_matching/"+way.name, func(t *testing.T) {
			r := New()
			var rec recorder
			registerTraced(t, r, &rec, "Act")
			r.BlockAction("Act", func(p any) bool { return p == "a" })
			_, err := way.run(context.Background(), r, "Act", "a")
			assert.ErrorIs(t, err, ErrBlocked)
			assert.Empty(t, rec.trace())
			_, err = way.run(context.Background(), r, "Act", "b")
			require.NoError(t, err)
			assert.Equal(t, tracedFull, rec.trace())
		})
	}

	t.Run("Blocking_unblock_removes_exactly_that_block", func(t *testing.T) {
		r := New()
		mustRegister(t, r, "Act", func(_ context.Context, p any) (any, error) { return p, nil })
		unblockA := r.BlockAction("Act", func(p any) bool { return p == "a" })
		unblockB := r.BlockAction("Act", func(p any) bool { return p == "b" })
		unblockA2 := r.BlockAction("Act", func(p any) bool { return p == "a" })
		for _, step := range []struct {
			unblock     func() bool
			wantRemoved bool
			wantBlocked map[string]bool
		}{
			{nil, false, map[string]bool{"a": true, "b": true, "c": false}},
			{unblockA, true, map[string]bool{"a": true, "b": true, "c": false}}, // unblockA2 still blocks "a"
			{unblockA, false, map[string]bool{"a": true, "b": true, "c": false}},
			{unblockA2, true, map[string]bool{"a": false, "b": true, "c": false}},
			{unblockB, true, map[string]bool{"a": false, "b": false, "c": false}},
		} {
			if step.unblock != nil {
				assert.Equal(t, step.wantRemoved, step.unblock())
			}
			for p, blocked := range step.wantBlocked {
				_, err := r.Call(context.Background(), "Act", p)
				if blocked {
					assert.ErrorIs(t, err, ErrBlocked, p)
				} else {
					assert.NoError(t, err, p)
				}
			}
		}
	})

	t.Run("Blocking_match_sees_callers_payload", func(t *testing.T) {
		r := New()
		var rec recorder
		registerTraced(t, r, &rec, "Act")
		var seen recorder
		r.BlockAction("Act", func(p any) bool {
			seen.add(fmt.Sprint(p))
			return p == "raw"
		})
		r.BlockAction("Act", func(p any) bool { return p == "other+updated" })
		_, err := r.Call(context.Background(), "Act", "raw")
		assert.ErrorIs(t, err, ErrBlocked)
		_, err = r.Call(context.Background(), "Act", "other")
		assert.NoError(t, err, "a block must not see the updated payload")
		assert.Equal(t, "raw other", seen.trace())
	})

	t.Run("Blocking_block_before_register", func(t *testing.T) {
		r := New()
		r.BlockAction("Late", nil)
		mustRegister(t, r, "Late", func(context.Context, any) (any, error) { return "ran", nil })
		_, err := r.Call(context.Background(), "Late", nil)
		assert.ErrorIs(t, err, ErrBlocked)
	})
}

func TestDeduplicate(t *testing.T) {
	keyOf := func(p any) string { return fmt.Sprint(p) }

	for _, way := range invokeWays {
		t.Run("Deduplication_reject_pending/"+way.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := New()
				var rec recorder
				release := make(chan struct{})
				mustRegister(t, r, "Act", func(_ context.Context, p any) (any, error) {
					rec.add(fmt.Sprint("body:", p))
					if p == "k" {
						<-release
					}
					return p, nil
				}, Deduplicate(keyOf, RejectPending))
				first := r.InvokeAction(context.Background(), "Act", "k")
				synctest.Wait()
				require.Equal(t, 1, r.InFlight("Act"))

				res, err := way.run(context.Background(), r, "Act", "k")
				assert.Nil(t, res)
				assert.ErrorIs(t, err, ErrPending)
				var e *Error
				require.ErrorAs(t, err, &e)
				assert.Equal(t, "Act", e.Action)

				res, err = way.run(context.Background(), r, "Act", "other")
				require.NoError(t, err, "another key is not pending")
				assert.Equal(t, "other", res)

				close(release)
				res, err = first.Result()
				require.NoError(t, err)
				assert.Equal(t, "k", res)

				res, err = way.run(context.Background(), r, "Act", "k")
				require.NoError(t, err, "the key is free once the first completed")
				assert.Equal(t, "k", res)
				assert.Equal(t, "body:k body:other body:k", rec.trace())
			})
		})
	}

	t.Run("Deduplication_key_sees_callers_payload", func(t *testing.T) {
		r := New()
		var rec recorder
		var keys recorder
		registerTraced(t, r, &rec, "Act", Deduplicate(func(p any) string {
			keys.add(fmt.Sprint(p))
			return fmt.Sprint(p)
		}, RejectPending))
		_, err := r.Call(context.Background(), "Act", "raw")
		require.NoError(t, err)
		assert.Equal(t, "raw", keys.trace())
	})

	t.Run("Deduplication_reject_pending_frees_key_after_failure", func(t *testing.T) {
		r := New()
		errBoom := errors.New("boom")
		var fail atomic.Bool
		fail.Store(true)
		mustRegister(t, r, "Act", func(_ context.Context, p any) (any, error) {
			if fail.Load() {
				return nil, errBoom
			}
			return p, nil
		}, Deduplicate(keyOf, RejectPending))
		_, err := r.Call(context.Background(), "Act", "k")
		require.ErrorIs(t, err, errBoom)
		fail.Store(false)
		_, err = r.Call(context.Background(), "Act", "k")
		assert.NoError(t, err)
	})

	errBoom := errors.New("boom")
	for _, tc := range []struct {
		name    string
		res     any
		err     error
		wantErr []error
	}{
		{"result", "shared-result", nil, nil},
		{"error", nil, errBoom, []error{ErrFailed, errBoom}},
	} {
		t.Run("Deduplication_share_pending/"+tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := New()
				var rec recorder
				release := make(chan struct{})
				mustRegister(t, r, "Act", func(context.Context, any) (any, error) {
					rec.add("body")
					<-release
					return tc.res, tc.err
				}, Deduplicate(func(any) string { return "same" }, SharePending),
					UpdatePayload(func(_ context.Context, p any) (any, error) {
						rec.add("update")
						return p, nil
					}))
				r.AddListener("beforeAct", rec.listen("before", nil))
				r.AddListener("afterAct", rec.listen("after", nil))
				r.ReplaceAction("Act", func(ctx context.Context, p any, original Body) (any, error) {
					rec.add("replacement")
					return original(ctx, p)
				})

				leader := r.InvokeAction(context.Background(), "Act", "leader")
				synctest.Wait()
				require.Equal(t, "update before replacement body", rec.trace())

				const sharers = 4
				futures := []*Future[any]{leader}
				for range sharers {
					futures = append(futures, r.InvokeAction(context.Background(), "Act", "sharer"))
				}
				type got struct {
					res any
					err error
				}
				called := make(chan got, sharers)
				var wg sync.WaitGroup
				for range sharers {
					wg.Go(func() {
						res, err := r.Call(context.Background(), "Act", "sharer")
						called <- got{res, err}
					})
				}
				synctest.Wait()
				assert.Equal(t, 1, r.InFlight("Act"), "sharers are not counted in flight")
				assert.Equal(t, "update before replacement body", rec.trace(), "sharers run no stage")
				for _, f := range futures {
					assert.False(t, isDone(f))
				}

				close(release)
				wg.Wait()
				close(called)
				var all []got
				for _, f := range futures {
					res, err := f.Result()
					all = append(all, got{res, err})
				}
				for g := range called {
					all = append(all, got{g.res, g.err})
				}
				require.Len(t, all, 1+2*sharers)
				for _, g := range all {
					assert.Equal(t, tc.res, g.res)
					if tc.err == nil {
						assert.NoError(t, g.err)
					} else {
						assert.True(t, g.err == all[0].err, "sharers get the leader's error: %v", g.err)
						for _, want := range tc.wantErr {
							assert.ErrorIs(t, g.err, want)
						}
					}
				}
				want := "update before replacement body after"
				if tc.err != nil {
					want = "update before replacement body"
				}
				assert.Equal(t, want, rec.trace(), "only the leader ran stages")
				assert.Zero(t, r.InFlight("Act"))
			})
		})
	}

	for _, way := range invokeWays {
		t.Run("Deduplication_sharer_stops_waiting_when_its_ctx_is_done/"+way.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := New()
				release := make(chan struct{})
				mustRegister(t, r, "Act", func(context.Context, any) (any, error) {
					<-release
					return "res", nil
				}, Deduplicate(func(any) string { return "same" }, SharePending))
				leader := r.InvokeAction(context.Background(), "Act", nil)
				synctest.Wait()

				cause := errors.New("caller gave up")
				ctx, cancel := context.WithCancelCause(context.Background())
				got := make(chan error, 1)
				go func() {
					_, err := way.run(ctx, r, "Act", nil)
					got <- err
				}()
				synctest.Wait()
				require.Empty(t, got, "the sharer waits for the leader")
				cancel(cause)
				err := <-got
				assert.ErrorIs(t, err, cause)
				assert.NotErrorIs(t, err, ErrPending)
				assert.False(t, isDone(leader), "the shared invocation goes on")
				close(release)
				res, err := leader.Result()
				require.NoError(t, err)
				assert.Equal(t, "res", res)
			})
		})
	}

	for _, mode := range []struct {
		name string
		mode DedupMode
	}{{"RejectPending", RejectPending}, {"SharePending", SharePending}} {
		for _, way := range invokeWays {
			t.Run("Deduplication_nested_same_key_is_pending/"+mode.name+"/"+way.name, func(t *testing.T) {
				// In share mode the nested invocation would wait for its own
				// ancestor; inside a bubble that hang fails the test.
				synctest.Test(t, func(t *testing.T) {
					r := New()
					var rec recorder
					mustRegister(t, r, "Act", func(ctx context.Context, p any) (any, error) {
						rec.add(fmt.Sprint("body:", p))
						if p == "outer" {
							_, errSame := way.run(ctx, r, "Act", "outer")
							assert.ErrorIs(t, errSame, ErrPending)
							res, errOther := way.run(ctx, r, "Act", "inner")
							assert.NoError(t, errOther)
							return res, nil
						}
						return p, nil
					}, Deduplicate(keyOf, mode.mode))
					r.AddListener("afterAct", func(ctx context.Context, p any) error {
						if p != "outer" {
							return nil
						}
						_, err := way.run(ctx, r, "Act", "outer")
						assert.ErrorIs(t, err, ErrPending, "after-listener nested")
						return nil
					})
					res, err := r.Call(context.Background(), "Act", "outer")
					require.NoError(t, err)
					assert.Equal(t, "inner", res)
					assert.Equal(t, "body:outer body:inner", rec.trace())
				})
			})
		}
	}
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
				r := New(WithErrorHandler(func(error) {}))
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
					r := New(WithObserver(funcObserver{func(m string, _ context.Context, inv Invocation) {
						if m == method && inv.Payload == "held" {
							<-release
						}
					}}))
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
