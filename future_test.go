package actions

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFuture(t *testing.T) {
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
			var we *WaitError
			require.ErrorAs(t, err, &we, "Wait names the action it gave up on")
			assert.Equal(t, "Slow", we.Action)
			assert.Same(t, cause, we.Err, "and wraps the cause of its own ctx")
			assert.ErrorIs(t, err, cause)
			assert.Equal(t, "actions: Slow: gave up waiting: tired of waiting", err.Error())
			assert.NotErrorIs(t, err, ErrFailed, "the invocation did not fail")

			deadlineCtx, cancelDeadline := context.WithTimeout(context.Background(), time.Second)
			defer cancelDeadline()
			_, err = fut.Wait(deadlineCtx)
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			assert.Equal(t, StatusCancelled, StatusOf(err))

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
}
