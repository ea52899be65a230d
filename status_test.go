package actions

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStatus covers "Aborting and errors": an invocation whose own ctx is
// done, and whose stage returned that ctx's error (or an error wrapping it),
// ended by cancellation wherever the deadline landed.
func TestStatus(t *testing.T) {
	// waitCtx is a stage that waits for its ctx and returns what ret makes
	// of its error.
	type stageCase struct {
		name     string
		stage    Stage
		listener string
		setup    func(r *Registry, wait func(ctx context.Context) error)
	}
	body := func(wait func(context.Context) error) Body {
		return func(ctx context.Context, _ any) (any, error) { return "res", wait(ctx) }
	}
	stages := []stageCase{
		{"payload update", StageUpdate, "", func(r *Registry, wait func(context.Context) error) {
			mustRegister(t, r, "A", body(func(context.Context) error { return nil }), UpdatePayload(func(ctx context.Context, p any) (any, error) {
				return p, wait(ctx)
			}))
		}},
		{"before-listener", StageBefore, "slow", func(r *Registry, wait func(context.Context) error) {
			mustRegister(t, r, "A", body(func(context.Context) error { return nil }))
			r.AddListener("beforeA", func(ctx context.Context, _ any) error { return wait(ctx) }, Named("slow"))
		}},
		{"before-listener of a concurrent phase", StageBefore, "slow", func(r *Registry, wait func(context.Context) error) {
			mustRegister(t, r, "A", body(func(context.Context) error { return nil }), Concurrent(true))
			r.AddListener("beforeA", func(context.Context, any) error { return nil })
			r.AddListener("beforeA", func(ctx context.Context, _ any) error { return wait(ctx) }, Named("slow"))
		}},
		{"body", StageBody, "", func(r *Registry, wait func(context.Context) error) {
			mustRegister(t, r, "A", body(wait))
		}},
		{"replacement", StageBody, "", func(r *Registry, wait func(context.Context) error) {
			mustRegister(t, r, "A", body(func(context.Context) error { return nil }))
			r.ReplaceAction("A", func(ctx context.Context, p any, original Body) (any, error) {
				if err := wait(ctx); err != nil {
					return nil, err
				}
				return original(ctx, p)
			})
		}},
	}
	returns := []struct {
		name string
		ret  func(ctx context.Context) error
	}{
		{"ctx.Err()", func(ctx context.Context) error { return ctx.Err() }},
		{"an error wrapping it", func(ctx context.Context) error { return fmt.Errorf("db query: %w", ctx.Err()) }},
		{"context.Cause(ctx)", context.Cause},
	}
	for _, sc := range stages {
		for _, rc := range returns {
			t.Run(fmt.Sprintf("Aborting and errors: a deadline in the %s that returns %s is a cancellation", sc.name, rc.name), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					r := New()
					sc.setup(r, func(ctx context.Context) error {
						<-ctx.Done()
						return rc.ret(ctx)
					})
					for _, way := range invokeWays {
						ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
						_, err := way.run(ctx, r, "A", nil)
						cancel()
						require.Error(t, err, way.name)
						assert.ErrorIs(t, err, context.DeadlineExceeded, way.name)
						assert.NotErrorIs(t, err, ErrFailed, way.name)
						assert.Equal(t, StatusCancelled, StatusOf(err), way.name)
						var e *Error
						require.ErrorAs(t, err, &e, way.name)
						assert.Equal(t, sc.stage, e.Stage, "%s: the stage is reported", way.name)
						assert.Equal(t, sc.listener, e.Listener, way.name)
						assert.Contains(t, err.Error(), "stopped in "+sc.stage.String(), way.name)
					}
				})
			})
		}
	}

	t.Run("Aborting and errors: a deadline between before-listeners is a cancellation too", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := New()
			mustRegister(t, r, "A", body(func(context.Context) error { return nil }))
			r.AddListener("beforeA", func(context.Context, any) error {
				time.Sleep(time.Second) // past the deadline, without looking at ctx
				return nil
			})
			r.AddListener("beforeA", func(context.Context, any) error { return errors.New("never runs") })
			ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
			defer cancel()
			_, err := r.Call(ctx, "A", nil)
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			assert.Equal(t, StatusCancelled, StatusOf(err))
		})
	})

	t.Run("Aborting and errors: a stage's own timeout, with the invocation's ctx live, is a failure", func(t *testing.T) {
		r := New()
		mustRegister(t, r, "A", func(context.Context, any) (any, error) {
			return nil, fmt.Errorf("upstream: %w", context.DeadlineExceeded)
		})
		_, err := r.Call(context.Background(), "A", nil)
		assert.ErrorIs(t, err, ErrFailed)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, StatusFailed, StatusOf(err))
	})

	t.Run("Aborting and errors: a deadline in an after-listener leaves the result and reaches the handler as a cancellation", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			sink := &errorSink{}
			r := New(WithErrorHandler(sink.handle))
			mustRegister(t, r, "A", body(func(context.Context) error { return nil }))
			r.AddListener("afterA", func(ctx context.Context, _ any) error {
				<-ctx.Done()
				return ctx.Err()
			}, Named("audit"))
			ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
			defer cancel()
			res, err := r.Call(ctx, "A", nil)
			require.NoError(t, err)
			assert.Equal(t, "res", res)
			handled := sink.all()
			require.Len(t, handled, 1)
			assert.ErrorIs(t, handled[0], context.DeadlineExceeded)
			assert.NotErrorIs(t, handled[0], ErrFailed)
		})
	})

	t.Run("Observability: StatusOf names every outcome", func(t *testing.T) {
		r := New()
		mustRegister(t, r, "ok", func(context.Context, any) (any, error) { return nil, nil })
		mustRegister(t, r, "aborted", func(context.Context, any) (any, error) { return nil, nil })
		r.AddListener("beforeaborted", func(context.Context, any) error { return Abort(nil) })
		mustRegister(t, r, "failed", func(context.Context, any) (any, error) { return nil, errors.New("boom") })
		done, cancel := context.WithCancel(context.Background())
		cancel()
		cases := []struct {
			ctx  context.Context
			name string
			want Status
		}{
			{context.Background(), "ok", StatusOK},
			{context.Background(), "aborted", StatusAborted},
			{context.Background(), "failed", StatusFailed},
			{context.Background(), "missing", StatusRejected},
			{done, "ok", StatusCancelled},
		}
		for _, c := range cases {
			_, err := r.Call(c.ctx, c.name, nil)
			assert.Equal(t, c.want, StatusOf(err), c.name)
			assert.Equal(t, c.want.String(), StatusOf(err).String())
		}
		assert.Equal(t, StatusFailed, StatusOf(errors.New("not the library's")))
		assert.Equal(t, "cancelled", StatusCancelled.String())
	})
}
