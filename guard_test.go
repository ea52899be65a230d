package actions

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// User code fights back: errors whose methods panic or never end, goroutines
// ended by runtime.Goexit, panics with a nil value. "Aborting and errors"
// promises that user code never crashes the host nor leaves a future
// incomplete, and that every error the library returns can be inspected.

// panickyIsError is an error whose Is and As methods panic: errors.Is and
// errors.As panic on any tree that holds it.
type panickyIsError struct{}

func (panickyIsError) Error() string { return "an error whose Is and As methods panic" }
func (panickyIsError) Is(error) bool { panic("Is method called") }
func (panickyIsError) As(any) bool   { panic("As method called") }

// selfWrappingError unwraps to itself: errors.Is and errors.As never return
// on a tree that holds it.
type selfWrappingError struct{}

func (*selfWrappingError) Error() string   { return "an error that unwraps to itself" }
func (e *selfWrappingError) Unwrap() error { return e }

// unprintable is a panic value whose Error and String methods panic with
// itself, so that even fmt, which recovers one such panic, cannot print it.
type unprintable struct{}

func (u unprintable) Error() string  { panic(u) }
func (u unprintable) String() string { panic(u) }

// checkFailure checks that err matches ErrFailed at stage and returns what
// inspecting it found; it reports false, after failing the test, if err is
// nil or could not be inspected.
func checkFailure(t testing.TB, err error, stage Stage) (errFacts, bool) {
	t.Helper()
	if err == nil {
		t.Errorf("the invocation succeeded; want it failed in the %v", stage)
		return errFacts{}, false
	}
	f, ok := inspect(t, err)
	if ok {
		assert.True(t, f.failed, "error %q does not match ErrFailed", f.msg)
		assert.Equal(t, stage, f.stage, "stage of error %q", f.msg)
	}
	return f, ok
}

// checkReplacedFailure checks the error of an invocation that a stage failed
// with an unusable error (offender): it matches ErrFailed at stage, is safe to
// inspect, and its message names the offender's type, which the library put
// in place of the offender.
func checkReplacedFailure(t testing.TB, err error, stage Stage, offender any) {
	t.Helper()
	f, ok := checkFailure(t, err, stage)
	if !ok {
		return
	}
	assert.True(t, f.isError, "error %q holds no *Error", f.msg)
	assert.Contains(t, f.msg, fmt.Sprintf("%T", offender), "the message does not name the offending error's type")
}

// checkStageFailure checks that err matches ErrFailed at stage, and
// ErrGoexit or ErrPanicked as cause says.
func checkStageFailure(t testing.TB, err error, stage Stage, cause error) {
	t.Helper()
	f, ok := checkFailure(t, err, stage)
	if !ok {
		return
	}
	switch cause {
	case ErrGoexit:
		assert.True(t, f.goexit, "error %q does not match ErrGoexit", f.msg)
	case ErrPanicked:
		assert.True(t, f.panicked, "error %q does not match ErrPanicked", f.msg)
	}
}

// invokeSettled invokes name with InvokeAction and waits for the future;
// then the invocation must be out of flight and the registry must close.
func invokeSettled(t *testing.T, r *Registry, name string) (any, error) {
	t.Helper()
	res, err, ok := awaitFuture(t, r.InvokeAction(context.Background(), name, nil))
	require.True(t, ok, "the future never completed")
	assert.Zero(t, r.InFlight(name), "InFlight once the future completed")
	assert.NoError(t, closeWithin(r, waitBound), "Close")
	return res, err
}

func TestGuard(t *testing.T) {
	ctx := context.Background()

	// The error of a Goexit names the stage it happened in, and a listener
	// only if one was running: not the last listener of an earlier phase.
	t.Run("User code that does not return: a Goexit in the body names no listener", func(t *testing.T) {
		r := New()
		mustRegister(t, r, "A", func(context.Context, any) (any, error) {
			runtime.Goexit()
			return nil, nil
		})
		r.AddListener("beforeA", func(context.Context, any) error { return nil }, Named("passes"))
		_, err := invokeSettled(t, r, "A")
		var e *Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, StageBody, e.Stage)
		assert.Empty(t, e.Listener, "the listener of the before phase is not the body")
		assert.ErrorIs(t, err, ErrGoexit)
	})

	// An error whose Is method panics, returned by a before-listener: the
	// library asks it whether it is an abort.
	t.Run("Aborting and errors: a before-listener error whose Is method panics fails the invocation through Call", func(t *testing.T) {
		t.Parallel()
		r := New()
		var rec recorder
		mustRegister(t, r, "A", rec.body("body", "res"))
		r.AddListener("beforeA", func(context.Context, any) error { return panickyIsError{} })
		out, ok := callWithin(t, r, ctx, "A", nil)
		if ok {
			checkReplacedFailure(t, out.err, StageBefore, panickyIsError{})
		}
		assert.Empty(t, rec.trace(), "the body ran")
	})

	t.Run("Aborting and errors: a before-listener error whose Is method panics fails the invocation through InvokeAction", func(t *testing.T) {
		t.Parallel()
		inChild(t, nil, func(t *testing.T) {
			r := New()
			var rec recorder
			mustRegister(t, r, "A", rec.body("body", "res"))
			r.AddListener("beforeA", func(context.Context, any) error { return panickyIsError{} })
			_, err, ok := awaitFuture(t, r.InvokeAction(ctx, "A", nil))
			if ok {
				checkReplacedFailure(t, err, StageBefore, panickyIsError{})
			}
			assert.Empty(t, rec.trace(), "the body ran")
		})
	})

	for _, pos := range []int{0, 1, 2} {
		t.Run(fmt.Sprintf("Aborting and errors: a concurrent before-listener error whose Is method panics fails the invocation, listener %d of 3", pos+1), func(t *testing.T) {
			t.Parallel()
			inChild(t, nil, func(t *testing.T) {
				r := New()
				var rec recorder
				mustRegister(t, r, "A", rec.body("body", "res"), Concurrent(true))
				for i := range 3 {
					if i == pos {
						r.AddListener("beforeA", func(context.Context, any) error { return panickyIsError{} })
					} else {
						r.AddListener("beforeA", rec.listen(fmt.Sprint("before", i), nil))
					}
				}
				if out, ok := callWithin(t, r, ctx, "A", nil); ok {
					checkReplacedFailure(t, out.err, StageBefore, panickyIsError{})
				}
				if _, err, ok := awaitFuture(t, r.InvokeAction(ctx, "A", nil)); ok {
					checkReplacedFailure(t, err, StageBefore, panickyIsError{})
				}
				assert.NotContains(t, rec.trace(), "body", "the body ran")
			})
		})
	}

	// The key function's panic is wrapped in a *PanicError, which unwraps to
	// the panic value when it is an error.
	keyed := func(t *testing.T, rec *recorder) *Registry {
		r := New()
		mustRegister(t, r, "A", rec.body("body", "res"), Deduplicate(func(any) string { panic(panickyIsError{}) }, RejectPending))
		return r
	}
	t.Run("Blocking, de-duplication, in flight: a key function panicking with an error whose Is method panics fails the invocation through Call", func(t *testing.T) {
		t.Parallel()
		var rec recorder
		r := keyed(t, &rec)
		if out, ok := callWithin(t, r, ctx, "A", nil); ok {
			checkReplacedFailure(t, out.err, StageKey, panickyIsError{})
		}
		assert.Empty(t, rec.trace(), "the body ran")
	})
	t.Run("Blocking, de-duplication, in flight: a key function panicking with an error whose Is method panics fails the invocation through InvokeAction", func(t *testing.T) {
		t.Parallel()
		inChild(t, nil, func(t *testing.T) {
			var rec recorder
			r := keyed(t, &rec)
			if _, err, ok := awaitFuture(t, r.InvokeAction(ctx, "A", nil)); ok {
				checkReplacedFailure(t, err, StageKey, panickyIsError{})
			}
			assert.Empty(t, rec.trace(), "the body ran")
		})
	})

	// An error that unwraps to itself makes errors.Is and errors.As loop for
	// ever: the library must not inspect it as it is, nor return it. These
	// run in a child, where a goroutine left looping dies with the process.
	selfWrapping := []struct {
		stage Stage
		setup func(t *testing.T, r *Registry)
	}{
		{StageUpdate, func(t *testing.T, r *Registry) {
			mustRegister(t, r, "A", func(context.Context, any) (any, error) { return "res", nil },
				UpdatePayload(func(context.Context, any) (any, error) { return nil, &selfWrappingError{} }))
		}},
		{StageBefore, func(t *testing.T, r *Registry) {
			mustRegister(t, r, "A", func(context.Context, any) (any, error) { return "res", nil })
			r.AddListener("beforeA", func(context.Context, any) error { return &selfWrappingError{} })
		}},
		{StageBody, func(t *testing.T, r *Registry) {
			mustRegister(t, r, "A", func(context.Context, any) (any, error) { return nil, &selfWrappingError{} })
		}},
	}
	for _, c := range selfWrapping {
		t.Run(fmt.Sprintf("Aborting and errors: an error that unwraps to itself fails the invocation in the %v", c.stage), func(t *testing.T) {
			t.Parallel()
			inChild(t, nil, func(t *testing.T) {
				r := New()
				c.setup(t, r)
				if _, err, ok := awaitFuture(t, r.InvokeAction(ctx, "A", nil)); ok {
					checkReplacedFailure(t, err, c.stage, &selfWrappingError{})
				}
			})
		})
	}
	t.Run("Aborting and errors: an after-listener error that unwraps to itself reaches the error handler and the result stands", func(t *testing.T) {
		t.Parallel()
		inChild(t, nil, func(t *testing.T) {
			var sink errorSink
			r := New(WithErrorHandler(sink.handle))
			mustRegister(t, r, "A", func(context.Context, any) (any, error) { return "res", nil })
			r.AddListener("afterA", func(context.Context, any) error { return &selfWrappingError{} })
			res, err, ok := awaitFuture(t, r.InvokeAction(ctx, "A", nil))
			if !ok {
				return
			}
			assert.Equal(t, "res", res)
			assert.Nil(t, err, "the result does not stand")
			handled := sink.all()
			require.Len(t, handled, 1, "errors handled")
			// Both stop at the library's own error, before the offender.
			type facts struct {
				failed bool
				stage  Stage
			}
			f, ok := within(t, "inspecting the handled error", func() facts {
				f := facts{failed: errors.Is(handled[0], ErrFailed)}
				if e := (*Error)(nil); errors.As(handled[0], &e) {
					f.stage = e.Stage
				}
				return f
			})
			if ok {
				assert.True(t, f.failed, "the handled error does not match ErrFailed")
				assert.Equal(t, StageAfter, f.stage, "stage of the handled error")
			}
		})
	})

	t.Run("Aborting and errors: a panic value whose Error and String methods panic leaves a printable error", func(t *testing.T) {
		t.Parallel()
		r := New()
		mustRegister(t, r, "A", func(context.Context, any) (any, error) { panic(unprintable{}) })
		out, ok := callWithin(t, r, ctx, "A", nil)
		if !ok {
			return
		}
		if out.err == nil {
			t.Fatal("the invocation succeeded; want it failed in the body")
		}
		f, ok := inspect(t, out.err)
		if !ok {
			return
		}
		assert.True(t, f.failed, "error %q does not match ErrFailed", f.msg)
		assert.Equal(t, StageBody, f.stage, "stage of error %q", f.msg)
		assert.Regexp(t, "^actions: ", f.msg)
	})

	// runtime.Goexit (t.FailNow in user code, say) ends the goroutine it is
	// called in without returning; every deferred call still runs. The stage
	// fails with ErrGoexit, the future completes, and nothing stays counted.
	t.Run("Observability: runtime.Goexit in InvocationBegin fails the invocation in the observer stage", func(t *testing.T) {
		t.Parallel()
		var rec recorder
		r := New(WithObserver(hookObserver{begin: func(ctx context.Context, _ Invocation) context.Context {
			runtime.Goexit()
			return ctx
		}}))
		mustRegister(t, r, "A", rec.body("body", "res"))
		_, err := invokeSettled(t, r, "A")
		checkStageFailure(t, err, StageObserver, ErrGoexit)
		assert.Empty(t, rec.trace(), "the body ran")
	})
	t.Run("Observability: runtime.Goexit in InFlightBegin fails the invocation in the observer stage", func(t *testing.T) {
		t.Parallel()
		var rec recorder
		r := New(WithObserver(hookObserver{inBegin: func(context.Context, Invocation) { runtime.Goexit() }}))
		mustRegister(t, r, "A", rec.body("body", "res"))
		_, err := invokeSettled(t, r, "A")
		checkStageFailure(t, err, StageObserver, ErrGoexit)
		assert.Empty(t, rec.trace(), "the body ran")
	})
	for _, c := range []struct {
		where string
		obs   hookObserver
	}{
		{"InvocationEnd", hookObserver{end: func(context.Context, Invocation, Outcome) { runtime.Goexit() }}},
		{"InFlightEnd", hookObserver{inEnd: func(context.Context, Invocation) { runtime.Goexit() }}},
	} {
		t.Run("Observability: runtime.Goexit in "+c.where+" leaves the outcome as it was", func(t *testing.T) {
			t.Parallel()
			r := New(WithObserver(c.obs))
			mustRegister(t, r, "A", func(context.Context, any) (any, error) { return "res", nil })
			res, err := invokeSettled(t, r, "A")
			assert.Equal(t, "res", res)
			assert.NoError(t, err)
		})
	}
	t.Run("Aborting and errors: runtime.Goexit in the error handler leaves the outcome as it was", func(t *testing.T) {
		t.Parallel()
		r := New(WithErrorHandler(func(context.Context, error) { runtime.Goexit() }))
		mustRegister(t, r, "A", func(context.Context, any) (any, error) { return "res", nil })
		r.AddListener("afterA", func(context.Context, any) error { return errors.New("after-listener failed") })
		res, err := invokeSettled(t, r, "A")
		assert.Equal(t, "res", res)
		assert.NoError(t, err)
	})

	for _, pos := range []int{0, 2} {
		t.Run(fmt.Sprintf("Aborting and errors: runtime.Goexit in concurrent before-listener %d of 3 fails the invocation", pos+1), func(t *testing.T) {
			t.Parallel()
			var rec recorder
			r := New()
			mustRegister(t, r, "A", rec.body("body", "res"), Concurrent(true))
			for i := range 3 {
				if i == pos {
					r.AddListener("beforeA", func(context.Context, any) error { runtime.Goexit(); return nil })
				} else {
					r.AddListener("beforeA", rec.listen(fmt.Sprint("before", i), nil))
				}
			}
			_, err := invokeSettled(t, r, "A")
			checkStageFailure(t, err, StageBefore, ErrGoexit)
			assert.NotContains(t, rec.trace(), "body", "the body ran")
		})
	}

	// The last listener of a concurrent phase runs in the invoking
	// goroutine: its Goexit must not end the phase before the others have
	// returned, since "Every goroutine the library starts ends when its
	// invocation ends" and Close waits for them.
	t.Run("Concurrency: runtime.Goexit in the last concurrent listener waits for the others", func(t *testing.T) {
		t.Parallel()
		var rec recorder
		r := New()
		mustRegister(t, r, "A", rec.body("body", "res"), Concurrent(true))
		started, unblock, exited := make(chan struct{}), make(chan struct{}), make(chan struct{})
		var once bool
		release := func() {
			if !once {
				once = true
				close(unblock)
			}
		}
		t.Cleanup(release)
		r.AddListener("beforeA", func(context.Context, any) error {
			close(started)
			<-unblock
			rec.add("first")
			return nil
		})
		r.AddListener("beforeA", func(context.Context, any) error {
			<-started
			defer close(exited)
			runtime.Goexit()
			return nil
		})
		fut := r.InvokeAction(ctx, "A", nil)
		_, ok := awaitChan(t, exited, "the last listener's Goexit")
		require.True(t, ok)
		closeCtx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		assert.ErrorIs(t, r.Close(closeCtx), context.DeadlineExceeded, "Close while a listener of the phase runs")
		assert.False(t, isDone(fut), "the future completed while a listener of its phase runs")
		release()
		_, err, ok := awaitFuture(t, fut)
		require.True(t, ok)
		checkStageFailure(t, err, StageBefore, ErrGoexit)
		assert.Equal(t, "first", rec.trace(), "stages run")
		assert.Zero(t, r.InFlight("A"))
		assert.NoError(t, closeWithin(r, waitBound), "Close once the listener returned")
	})

	t.Run("Aborting and errors: runtime.Goexit in an after-listener reaches the error handler and the result stands", func(t *testing.T) {
		t.Parallel()
		var sink errorSink
		r := New(WithErrorHandler(sink.handle))
		mustRegister(t, r, "A", func(context.Context, any) (any, error) { return "res", nil })
		r.AddListener("afterA", func(context.Context, any) error { runtime.Goexit(); return nil })
		res, err := invokeSettled(t, r, "A")
		assert.Equal(t, "res", res)
		assert.NoError(t, err)
		handled := sink.all()
		require.Len(t, handled, 1, "errors handled")
		checkStageFailure(t, handled[0], StageAfter, ErrGoexit)
	})

	for _, c := range []struct {
		stage Stage
		setup func(t *testing.T, r *Registry, rec *recorder)
	}{
		{StageUpdate, func(t *testing.T, r *Registry, rec *recorder) {
			mustRegister(t, r, "A", rec.body("body", "res"),
				UpdatePayload(func(context.Context, any) (any, error) { runtime.Goexit(); return nil, nil }))
		}},
		{StageBefore, func(t *testing.T, r *Registry, rec *recorder) {
			mustRegister(t, r, "A", rec.body("body", "res"))
			r.AddListener("beforeA", func(context.Context, any) error { runtime.Goexit(); return nil })
		}},
		{StageBody, func(t *testing.T, r *Registry, rec *recorder) {
			mustRegister(t, r, "A", func(context.Context, any) (any, error) {
				rec.add("body")
				runtime.Goexit()
				return "res", nil
			})
			r.AddListener("afterA", rec.listen("after", nil))
		}},
	} {
		t.Run(fmt.Sprintf("Aborting and errors: runtime.Goexit in the %v fails the invocation", c.stage), func(t *testing.T) {
			t.Parallel()
			var rec recorder
			r := New()
			c.setup(t, r, &rec)
			_, err := invokeSettled(t, r, "A")
			checkStageFailure(t, err, c.stage, ErrGoexit)
			if c.stage == StageBody {
				assert.Equal(t, "body", rec.trace(), "stages run")
			} else {
				assert.Empty(t, rec.trace(), "stages run")
			}
		})
	}

	// Through Call, Goexit ends the caller's goroutine, as it means to; the
	// invocation is still settled on the way out, and an invocation sharing
	// its outcome learns how it ended.
	t.Run("Blocking, de-duplication, in flight: runtime.Goexit in a body run by Call settles the invocation and its sharers", func(t *testing.T) {
		t.Parallel()
		for attempt := 1; ; attempt++ {
			if goexitThroughCall(t) || t.Failed() {
				return
			}
			if attempt == 5 {
				t.Fatal("the second invocation never shared the first's outcome")
			}
		}
	})

	// GODEBUG=panicnil=1 makes panic(nil) recover as nil, as before Go 1.21:
	// a stage that panics so has still not returned.
	for _, stage := range []Stage{StageBefore, StageBody} {
		t.Run(fmt.Sprintf("Aborting and errors: panic(nil) in the %v fails the invocation under GODEBUG=panicnil=1", stage), func(t *testing.T) {
			t.Parallel()
			godebug := "panicnil=1"
			if v := os.Getenv("GODEBUG"); v != "" {
				godebug = v + "," + godebug
			}
			inChild(t, []string{"GODEBUG=" + godebug}, func(t *testing.T) {
				v, panicked := panicValue(func() { panic(nil) })
				require.True(t, panicked && v == nil, "GODEBUG=panicnil=1 is not in effect")
				var rec recorder
				r := New()
				if stage == StageBefore {
					mustRegister(t, r, "A", rec.body("body", "res"))
					r.AddListener("beforeA", func(context.Context, any) error { panic(nil) })
				} else {
					mustRegister(t, r, "A", func(context.Context, any) (any, error) { panic(nil) })
				}
				if out, ok := callWithin(t, r, ctx, "A", nil); ok {
					checkStageFailure(t, out.err, stage, ErrPanicked)
				}
				if _, err, ok := awaitFuture(t, r.InvokeAction(ctx, "A", nil)); ok {
					checkStageFailure(t, err, stage, ErrPanicked)
				}
				assert.Empty(t, rec.trace(), "the body ran")
			})
		})
	}

	// In the after phase a panic is the listener's failure and the phase goes
	// on with the next listener, even for panic(nil) under panicnil=1, which
	// recovers as nil as a Goexit does; a Goexit there ends the phase.
	t.Run("Aborting and errors: panic(nil) in an after-listener under GODEBUG=panicnil=1 goes to the error handler and the phase goes on", func(t *testing.T) {
		t.Parallel()
		godebug := "panicnil=1"
		if v := os.Getenv("GODEBUG"); v != "" {
			godebug = v + "," + godebug
		}
		inChild(t, []string{"GODEBUG=" + godebug}, func(t *testing.T) {
			var rec recorder
			var handled []error
			var mu sync.Mutex
			r := New(WithErrorHandler(func(_ context.Context, err error) {
				mu.Lock()
				defer mu.Unlock()
				handled = append(handled, err)
			}))
			mustRegister(t, r, "A", rec.body("body", "res"))
			r.AddListener("afterA", func(context.Context, any) error { panic(nil) })
			r.AddListener("afterA", rec.listen("a2", nil))
			out, ok := callWithin(t, r, ctx, "A", nil)
			require.True(t, ok)
			require.NoError(t, out.err)
			assert.Equal(t, "res", out.res)
			assert.Equal(t, "body a2", rec.trace(), "stages run")
			mu.Lock()
			defer mu.Unlock()
			require.Len(t, handled, 1, "errors handled")
			assert.ErrorIs(t, handled[0], ErrPanicked)
		})
	})

	t.Run("Aborting and errors: after an after-listener's panic, a Goexit in the next one ends the phase and both go to the error handler", func(t *testing.T) {
		t.Parallel()
		var rec recorder
		handled := make(chan error, 2)
		r := New(WithErrorHandler(func(_ context.Context, err error) { handled <- err }))
		mustRegister(t, r, "A", rec.body("body", "res"))
		r.AddListener("afterA", func(context.Context, any) error { panic("a1") })
		r.AddListener("afterA", func(context.Context, any) error {
			rec.add("a2")
			runtime.Goexit()
			return nil
		})
		r.AddListener("afterA", rec.listen("a3", nil))
		res, err := invokeSettled(t, r, "A")
		require.NoError(t, err)
		assert.Equal(t, "res", res)
		assert.Equal(t, "body a2", rec.trace(), "stages run")
		herr, ok := awaitChan(t, handled, "the error handler")
		require.True(t, ok)
		assert.ErrorIs(t, herr, ErrPanicked)
		assert.ErrorIs(t, herr, ErrGoexit)
		assert.Empty(t, handled, "the error handler was called once")
	})

	t.Run("Aborting and errors: after-listeners that panic one after another each go to the error handler and the phase goes on", func(t *testing.T) {
		t.Parallel()
		var rec recorder
		handled := make(chan error, 2)
		r := New(WithErrorHandler(func(_ context.Context, err error) { handled <- err }))
		mustRegister(t, r, "A", rec.body("body", "res"))
		r.AddListener("afterA", func(context.Context, any) error { panic("a1") }, Named("a1"))
		r.AddListener("afterA", func(context.Context, any) error { panic("a2") }, Named("a2"))
		r.AddListener("afterA", rec.listen("a3", nil))
		res, err := invokeSettled(t, r, "A")
		require.NoError(t, err)
		assert.Equal(t, "res", res)
		assert.Equal(t, "body a3", rec.trace(), "stages run")
		herr, ok := awaitChan(t, handled, "the error handler")
		require.True(t, ok)
		joined, ok := herr.(interface{ Unwrap() []error })
		require.True(t, ok, "one error for the two panics, joined: %v", herr)
		var panics []any
		for _, e := range joined.Unwrap() {
			var pe *PanicError
			if assert.ErrorAs(t, e, &pe) {
				panics = append(panics, pe.Value)
			}
		}
		assert.Equal(t, []any{"a1", "a2"}, panics, "the panics handled, in order")
		assert.Empty(t, handled, "the error handler was called once")
	})

	t.Run("Aborting and errors: after an after-listener's panic, the phase goes on with the updated payload", func(t *testing.T) {
		t.Parallel()
		r := New(WithErrorHandler(func(context.Context, error) {}))
		mustRegister(t, r, "A", func(_ context.Context, p any) (any, error) { return p, nil },
			UpdatePayload(func(_ context.Context, p any) (any, error) { return p.(int) * 10, nil }))
		seen := make(chan any, 4)
		r.AddListener("afterA", func(context.Context, any) error { panic("a1") })
		r.AddListener("afterA", func(_ context.Context, p any) error { seen <- p; return nil })
		res, err := r.Call(ctx, "A", 1)
		require.NoError(t, err)
		assert.Equal(t, 10, res)
		_, err, ok := awaitFuture(t, r.InvokeAction(ctx, "A", 2))
		require.True(t, ok)
		require.NoError(t, err)
		close(seen)
		var got []any
		for p := range seen {
			got = append(got, p)
		}
		assert.Equal(t, []any{10, 20}, got, "payloads the after-listener after the panicking one received")
	})

	t.Run("Aborting and errors: Future.Wait(nil) panics as a programmer error", func(t *testing.T) {
		t.Parallel()
		r := New()
		release := make(chan struct{})
		mustRegister(t, r, "A", func(context.Context, any) (any, error) {
			<-release
			return "res", nil
		})
		fut := r.InvokeAction(ctx, "A", nil)
		setupPanicMessage(t, "Wait(nil) on a pending future", func() { _, _ = fut.Wait(nilCtx) })
		close(release)
		_, _, ok := awaitFuture(t, fut)
		require.True(t, ok)
		setupPanicMessage(t, "Wait(nil) on a completed future", func() { _, _ = fut.Wait(nilCtx) })
	})
}

// goexitThroughCall runs one attempt of the Goexit-through-Call case and
// reports whether it was conclusive: whether the second invocation shared
// the first's outcome rather than arriving after it ended.
func goexitThroughCall(t *testing.T) bool {
	r := New()
	entered, release, keyed := make(chan struct{}), make(chan struct{}), make(chan struct{})
	var keys, bodies atomic.Int32
	mustRegister(t, r, "A", func(context.Context, any) (any, error) {
		if bodies.Add(1) > 1 {
			return "second", nil // the second invocation came too late to share
		}
		close(entered)
		<-release
		runtime.Goexit()
		return "res", nil
	}, Deduplicate(func(any) string {
		if keys.Add(1) == 2 {
			close(keyed)
		}
		return "k"
	}, SharePending))

	var returned atomic.Bool
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		r.Call(context.Background(), "A", nil)
		returned.Store(true)
	}()
	_, ok := awaitChan(t, entered, "the body of the invocation made by Call")
	require.True(t, ok)
	follower := r.InvokeAction(context.Background(), "A", nil)
	_, ok = awaitChan(t, keyed, "the key of the second invocation")
	require.True(t, ok)
	time.Sleep(20 * time.Millisecond) // for the second invocation to look its key up
	close(release)

	_, ok = awaitChan(t, ended, "the goroutine that called Call")
	require.True(t, ok)
	assert.False(t, returned.Load(), "Call returned: runtime.Goexit must end its goroutine")
	assert.Zero(t, r.InFlight("A"), "InFlight once the goroutine ended")
	res, err, ok := awaitFuture(t, follower)
	require.True(t, ok, "the invocation sharing the outcome was not released")
	if res == "second" {
		return false
	}
	if err == nil {
		t.Errorf("the sharing invocation succeeded with %v; want ErrGoexit", res)
	} else if f, ok := inspect(t, err); ok {
		assert.True(t, f.goexit, "the sharing invocation's error %q does not match ErrGoexit", f.msg)
	}
	assert.NoError(t, closeWithin(r, waitBound), "Close")
	return true
}
