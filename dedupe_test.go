package actions

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDeduplicate(t *testing.T) {
	keyOf := func(p any) string { return fmt.Sprint(p) }

	// One impatient client must not fail every concurrent retry of the same
	// order: SharePending.
	for _, ret := range []string{"ctx.Err()", "context.Cause(ctx)"} {
		t.Run("Deduplication: sharers survive their leader's cancellation (returns "+ret+"); one takes over, one body per key at a time", func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var bodies, active, most atomic.Int32
				r := New()
				mustRegister(t, r, "Charge", func(ctx context.Context, p any) (any, error) {
					n := active.Add(1)
					defer active.Add(-1)
					for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
					}
					if bodies.Add(1) == 1 { // the first leader waits for its client, who leaves
						<-ctx.Done()
						if ret == "ctx.Err()" {
							return nil, ctx.Err()
						}
						return nil, context.Cause(ctx)
					}
					return "charged " + p.(string), nil
				}, Deduplicate(keyOf, SharePending))
				leaderCtx, leave := context.WithCancel(t.Context())
				leader := r.InvokeAction(leaderCtx, "Charge", "order-1")
				synctest.Wait()
				const sharers = 8
				futs := make([]*Future[any], sharers)
				for i := range futs {
					futs[i] = r.InvokeAction(t.Context(), "Charge", "order-1")
				}
				synctest.Wait() // every sharer waits on the leader's flight
				require.Equal(t, int32(1), bodies.Load())
				leave()
				_, err := leader.Wait(t.Context())
				assert.ErrorIs(t, err, context.Canceled, "the leader's own outcome is its cancellation")
				for i, fut := range futs {
					res, err := fut.Wait(t.Context())
					require.NoError(t, err, "sharer %d", i)
					assert.Equal(t, "charged order-1", res, "sharer %d", i)
				}
				assert.Equal(t, int32(2), bodies.Load(), "one sharer took over; the others shared its outcome")
				assert.Equal(t, int32(1), most.Load(), "never two bodies with one key at once")
			})
		})
	}

	t.Run("Deduplication: a sharer inherits a failure of its leader that is not the leader's cancellation", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var bodies atomic.Int32
			release := make(chan struct{})
			r := New()
			mustRegister(t, r, "Charge", func(ctx context.Context, _ any) (any, error) {
				bodies.Add(1)
				<-release
				return nil, errors.New("card declined")
			}, Deduplicate(keyOf, SharePending))
			leader := r.InvokeAction(t.Context(), "Charge", "order-1")
			synctest.Wait()
			sharer := r.InvokeAction(t.Context(), "Charge", "order-1")
			synctest.Wait()
			close(release)
			_, lerr := leader.Wait(t.Context())
			_, serr := sharer.Wait(t.Context())
			assert.ErrorIs(t, lerr, ErrFailed)
			assert.Same(t, lerr, serr, "the sharer shares the leader's error")
			assert.Equal(t, int32(1), bodies.Load())
		})
	})

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
