package actionstest_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-actions/actions"
	"github.com/go-actions/actions/actionstest"
)

func TestNew_aTestThatLeavesNothingBehindPasses(t *testing.T) {
	ft := runTest(func(t testing.TB) {
		reg := actionstest.New(t)
		register(t, reg, "A", actionstest.Returns("done").Body)
		reg.AddListener("beforeA", actionstest.Aborts(nil).Listener, actions.Once())
		_, err := reg.Call(t.Context(), "A", nil)
		assert.ErrorIs(t, err, actions.ErrAborted, "an invocation's own error is the test's business")
		res, err := reg.InvokeAction(t.Context(), "A", nil).Wait(t.Context())
		assert.NoError(t, err)
		assert.Equal(t, "done", res)
	})
	assert.False(t, ft.Failed())
	assert.Empty(t, ft.Errors())
}

func TestNew_closesTheRegistryWhenTheTestEnds(t *testing.T) {
	var reg *actions.Registry
	runTest(func(t testing.TB) {
		reg = actionstest.New(t)
		register(t, reg, "A", actionstest.Returns(nil).Body)
	})
	_, err := reg.Call(context.Background(), "A", nil)
	assert.ErrorIs(t, err, actions.ErrClosed)
}

func TestNew_appliesTheTestsOptions(t *testing.T) {
	var seen []string
	spy := observerFunc(func(inv actions.Invocation, out actions.Outcome) {
		seen = append(seen, inv.Action+" "+out.Status().String())
	})
	ft := runTest(func(t testing.TB) {
		reg := actionstest.New(t, actions.WithMaxDepth(1), actions.WithObserver(spy))
		register(t, reg, "Inner", actionstest.Returns(nil).Body)
		register(t, reg, "Outer", func(ctx context.Context, p any) (any, error) { return reg.Call(ctx, "Inner", p) })
		_, err := reg.Call(t.Context(), "Outer", nil)
		assert.ErrorIs(t, err, actions.ErrDepthExceeded)
		actionstest.Record(reg).AssertInvocations(t, "Outer failed", "  Inner rejected")
	})
	assert.Empty(t, ft.Errors())
	assert.Equal(t, []string{"Inner rejected", "Outer failed"}, seen, "the test's observer sees every invocation too")
}

// A body that never returns on its own leaks its invocation: the test fails
// with the actions still in flight, after a bounded wait, and the stop
// cancels the contexts of the leaked invocations.
func TestNew_reportsLeakedInvocations(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		block := actionstest.Blocking()
		var calls []*actions.Future[any]
		start := time.Now()
		ft := runTest(func(t testing.TB) {
			reg := actionstest.New(t)
			register(t, reg, "ChargeCard", block.Body)
			register(t, reg, "CreateOrder", func(ctx context.Context, p any) (any, error) { return reg.Call(ctx, "ChargeCard", p) })
			register(t, reg, "Quick", actionstest.Returns(nil).Body)
			for i, name := range []string{"CreateOrder", "ChargeCard", "Quick"} {
				calls = append(calls, reg.InvokeAction(context.Background(), name, i))
				synctest.Wait() // one after the other: the message lists them in the order they began
			}
		})
		assert.Equal(t, 5*time.Second, time.Since(start), "the graceful wait is bounded; the stop is immediate")
		assert.Equal(t, []string{"actionstest: leaked invocations: CreateOrder, ChargeCard (2) still in flight 5s after the test ended; " +
			"a stage never returned, or a blocking fake was never released (Registry.Stop cancelled their contexts)"}, ft.Errors())
		for _, fut := range calls[:2] {
			_, err := fut.Wait(t.Context())
			assert.ErrorIs(t, err, context.Canceled, "the stop cancelled the leaked invocation")
			assert.Equal(t, actions.StatusCancelled, actions.StatusOf(err))
		}
		_, err := calls[2].Wait(t.Context())
		assert.NoError(t, err)
	})
}

// A stage that ignores its context is still running after the stop: the
// message says so too.
func TestNew_reportsStagesThatIgnoreTheStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var fut *actions.Future[any]
		ft := runTest(func(t testing.TB) {
			reg := actionstest.New(t)
			register(t, reg, "Deaf", func(context.Context, any) (any, error) { <-release; return nil, nil })
			fut = reg.InvokeAction(context.Background(), "Deaf", nil)
			synctest.Wait()
		})
		require.Len(t, ft.Errors(), 1)
		assert.Contains(t, ft.Errors()[0], "leaked invocations: Deaf still in flight 5s after the test ended")
		assert.Contains(t, ft.Errors()[0], "; Deaf still in flight 5s after the stop: a stage ignores its context")
		close(release)
		_, err := fut.Wait(t.Context())
		assert.NoError(t, err)
	})
}

var errCRM = errors.New("crm down")

// Errors that reach the error handler fail the test, listed, unless the
// test allowed them; the test may read them either way.
func TestNew_handledErrors(t *testing.T) {
	for _, allow := range []bool{false, true} {
		t.Run(map[bool]string{false: "unexpected_fail_the_test", true: "allowed_pass"}[allow], func(t *testing.T) {
			var handled []error
			ft := runTest(func(t testing.TB) {
				reg := actionstest.New(t, actions.WithObserver(panicky{}))
				rec := actionstest.Record(reg)
				register(t, reg, "CompleteTask", actionstest.Returns("completed").Body)
				reg.AddListener("afterCompleteTask", actionstest.Fails(errCRM).Listener, actions.Named("crm-sync"))
				res, err := reg.Call(t.Context(), "CompleteTask", "WT1")
				assert.NoError(t, err, "an after-listener's failure does not fail the invocation")
				assert.Equal(t, "completed", res)
				if allow {
					rec.AllowHandledErrors()
				}
				handled = rec.HandledErrors()
			})
			require.Len(t, handled, 2, "the after-listener's failure once, and the observer's panic")
			assert.ErrorIs(t, handled[0], actions.ErrFailed)
			assert.ErrorIs(t, handled[1], errCRM)
			if allow {
				assert.Empty(t, ft.Errors())
				return
			}
			assert.Equal(t, []string{"actionstest: 2 unexpected error(s) reached the error handler (call Recorder.AllowHandledErrors if the test expects them):" +
				"\n\t" + handled[0].Error() +
				"\n\t" + `actions: CompleteTask: after-listener "crm-sync" failed: crm down`}, ft.Errors())
		})
	}
}

// An error handler among the test's options replaces the package's: it
// receives the errors, and the recorder still sees the after-listeners'
// failures, through the observer, but not the observers' panics.
func TestNew_aHandlerOfTheTestsOwnRuns(t *testing.T) {
	var own, recorded []error
	ft := runTest(func(t testing.TB) {
		handler := actions.WithErrorHandler(func(_ context.Context, err error) { own = append(own, err) })
		reg := actionstest.New(t, handler, actions.WithObserver(panicky{}))
		register(t, reg, "CompleteTask", actionstest.Returns(nil).Body)
		reg.AddListener("afterCompleteTask", actionstest.Fails(errCRM).Listener)
		reg.AddListener("afterCompleteTask", actionstest.Fails(errCRM).Listener)
		_, err := reg.Call(t.Context(), "CompleteTask", nil)
		assert.NoError(t, err)
		recorded = actionstest.Record(reg).HandledErrors()
	})
	require.Len(t, own, 2, "the observer's panic and the after-listeners' joined failures")
	assert.ErrorIs(t, own[0], actions.ErrFailed)
	require.Len(t, recorded, 1)
	assert.Same(t, own[1], recorded[0])
	require.Len(t, ft.Errors(), 1, "the after-listeners' failure was not allowed")
	assert.Contains(t, ft.Errors()[0], "actionstest: 1 unexpected error(s)")
}

func TestRecord_panicsForARegistryNewDidNotMake(t *testing.T) {
	const msg = "actionstest: Record: the registry was not made by actionstest.New, or its test has ended"
	assert.PanicsWithValue(t, msg, func() { actionstest.Record(actions.New()) })
	var reg *actions.Registry
	runTest(func(t testing.TB) { reg = actionstest.New(t) })
	assert.PanicsWithValue(t, msg, func() { actionstest.Record(reg) }, "forgotten once the test has ended")
}

// observerFunc is an observer that calls its func at each end.
type observerFunc func(actions.Invocation, actions.Outcome)

func (f observerFunc) InvocationBegin(ctx context.Context, _ actions.Invocation) context.Context {
	return ctx
}
func (f observerFunc) InvocationEnd(_ context.Context, inv actions.Invocation, out actions.Outcome) {
	f(inv, out)
}

// panicky is an observer that panics as each invocation begins.
type panicky struct{}

func (panicky) InvocationBegin(context.Context, actions.Invocation) context.Context {
	panic("observer bug")
}
func (panicky) InvocationEnd(context.Context, actions.Invocation, actions.Outcome) {}
