package actionstest

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/go-actions/actions"
)

// Fake stands in for a body or a listener: its Body and Listener methods
// are an [actions.Body] and an [actions.Listener]. It counts its calls,
// tells when it was first entered, and returns what it was made to return:
// see [Returns], [Aborts], [Fails] and [Blocking]. The zero Fake returns
// nil at once.
//
// A Fake is safe for concurrent use. One Fake may serve as several bodies
// and listeners at once: they share its count.
type Fake struct {
	result any
	err    error
	// gate is closed by Release; nil for a fake that does not block.
	gate    chan struct{}
	release sync.Once

	calls   atomic.Int64
	init    sync.Once
	entered chan struct{} // made by init, closed by the first call
	enter   sync.Once
}

// Returns returns a fake whose body returns v, and whose listener returns
// nil.
func Returns(v any) *Fake { return &Fake{result: v} }

// Aborts returns a fake that aborts with reason, which may be nil: its
// listener returns [actions.Abort](reason), which aborts the invocation in
// a before-listener (in an after-listener it is a failure for the error
// handler). Its body returns the same error, which fails the invocation: a
// body cannot abort.
func Aborts(reason error) *Fake { return &Fake{err: actions.Abort(reason)} }

// Fails returns a fake whose body and listener return err. A before-listener
// or a body that fails makes the invocation fail with an error that wraps
// err; an after-listener's failure goes to the error handler.
func Fails(err error) *Fake { return &Fake{err: err} }

// Blocking returns a fake that blocks each call until [Fake.Release] is
// called, then returns nil (and a nil result). A call whose context is done
// first returns the context's error: the invocation ends as cancelled
// ([actions.StatusCancelled]), so that a test that never releases the fake
// fails (the registry of [New] reports the leak and stops it) instead of
// hanging.
func Blocking() *Fake { return &Fake{gate: make(chan struct{})} }

// Body is the fake as an [actions.Body]: it counts the call, blocks if the
// fake blocks, and returns the fake's result and error.
func (f *Fake) Body(ctx context.Context, _ any) (any, error) {
	if err := f.call(ctx); err != nil {
		return nil, err
	}
	if f.err != nil {
		return nil, f.err
	}
	return f.result, nil
}

// Listener is the fake as an [actions.Listener]: it counts the call, blocks
// if the fake blocks, and returns the fake's error.
func (f *Fake) Listener(ctx context.Context, _ any) error {
	if err := f.call(ctx); err != nil {
		return err
	}
	return f.err
}

// Calls returns the number of calls so far, those still blocked included.
func (f *Fake) Calls() int { return int(f.calls.Load()) }

// Entered returns a channel that is closed once the fake has been called,
// when the first call has counted itself and before it blocks. Wait on it
// with a bound (a select on the test's context or a timer): a fake that is
// never called never closes it.
func (f *Fake) Entered() <-chan struct{} {
	f.init.Do(f.makeEntered)
	return f.entered
}

func (f *Fake) makeEntered() { f.entered = make(chan struct{}) }

// Release lets the calls blocked in a [Blocking] fake return, and every
// later call go through. It may be called more than once, and does nothing
// on a fake that does not block.
func (f *Fake) Release() {
	if f.gate != nil {
		f.release.Do(func() { close(f.gate) })
	}
}

// call counts a call, marks the fake entered, and blocks until the fake is
// released or ctx is done, returning ctx's error then.
func (f *Fake) call(ctx context.Context) error {
	f.calls.Add(1)
	f.init.Do(f.makeEntered)
	f.enter.Do(func() { close(f.entered) })
	if f.gate == nil {
		return nil
	}
	select { // released wins over a done ctx
	case <-f.gate:
		return nil
	default:
	}
	select {
	case <-f.gate:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
