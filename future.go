package actions

import (
	"context"
	"sync"
)

// outcome is the shared state of one invocation's future.
type outcome struct {
	action       string
	closedAtCall bool // the registry was closed when InvokeAction was called

	// pending is done when the outcome is complete: what Wait and Result
	// block on. The channel of Done is made only when asked for, since
	// making and closing it was a tenth of an InvokeAction's cost.
	pending   sync.WaitGroup
	mu        sync.Mutex    // guards done and completed
	done      chan struct{} // made by the first Done, closed on completion
	completed bool

	// val, err and shared are written once before the outcome completes,
	// and read only after.
	val    any
	err    error
	shared bool
}

func newOutcome(action string) *outcome {
	o := &outcome{action: action}
	o.pending.Add(1)
	return o
}

func (o *outcome) complete(val any, err error) {
	o.val, o.err = val, err
	o.mu.Lock()
	o.completed = true
	if o.done != nil {
		close(o.done)
	}
	o.mu.Unlock()
	o.pending.Done()
}

// doneChan returns the channel closed on completion, made on first use.
func (o *outcome) doneChan() <-chan struct{} {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.done == nil {
		o.done = make(chan struct{})
		if o.completed {
			close(o.done)
		}
	}
	return o.done
}

// Future is the outcome of an invocation started by [Registry.InvokeAction] or
// [Action.Invoke]. It is safe for concurrent use: any number of goroutines may
// wait on it, before or after it completes, and all see the same result and
// error.
type Future[R any] struct {
	o *outcome
}

// Done returns a channel that is closed when the invocation has completed.
func (f *Future[R]) Done() <-chan struct{} { return f.o.doneChan() }

// Wait waits until the invocation has completed and returns its result and
// error, or until ctx is done, in which case it returns a [*WaitError] that
// names the action and wraps [context.Cause] of ctx (so that
// errors.Is(err, context.DeadlineExceeded) holds for a deadline). Giving up
// on waiting does not cancel the invocation: cancel the ctx passed to
// InvokeAction for that. A nil ctx panics.
func (f *Future[R]) Wait(ctx context.Context) (R, error) {
	if ctx == nil {
		setupPanic("Future.Wait: nil context")
	}
	stop := ctx.Done()
	if stop == nil { // a ctx that is never done (Background, TODO)
		f.o.pending.Wait()
		return f.result()
	}
	done := f.o.doneChan()
	select {
	case <-done:
		return f.result()
	default:
	}
	select {
	case <-done:
		return f.result()
	case <-stop:
		var zero R
		return zero, &WaitError{Action: f.o.action, Err: context.Cause(ctx)}
	}
}

// Shared reports whether the invocation completed with the outcome of
// another one with the same key, which it waited for instead of running (see
// [SharePending]). It waits until the invocation has completed.
func (f *Future[R]) Shared() bool {
	f.o.pending.Wait()
	return f.o.shared
}

// Result waits until the invocation has completed and returns its result and
// error. It is Wait with a context that is never done.
func (f *Future[R]) Result() (R, error) {
	f.o.pending.Wait()
	return f.result()
}

func (f *Future[R]) result() (R, error) {
	if f.o.err != nil {
		var zero R
		return zero, f.o.err
	}
	return typedResult[R](f.o.action, f.o.val)
}

// typedResult converts an invocation's untyped result to R.
func typedResult[R any](action string, v any) (R, error) {
	r, err := as[R](v, true)
	if err != nil {
		return r, &Error{Action: action, Kind: ErrPayloadType, Err: err}
	}
	return r, nil
}
