package actions

import (
	"errors"
	"reflect"
	"unsafe"
)

// frame is one invocation in progress: what the lifecycle's steps need, and
// the bookkeeping that settle undoes however the invocation ends. It lives on
// the invoking goroutine's stack unless a descendant may need it (see
// nest.frame).
type frame struct {
	ctx    *nest // what the stages receive
	reg    *Registry
	name   string
	parent *frame // the innermost ancestor with a frame on the heap, if any
	depth  int
	out    *outcome     // the future, for InvokeAction; nil for Call
	sig    reflect.Type // a typed handle's signature (see action.sig), nil for the untyped API
	ent    *entry
	gen    uint64 // the gen of the snapshot the invocation began with (see pinned)

	// Bookkeeping, set as the lifecycle goes on and settled by settle. (The
	// bools and stage share one word: the frame is most of what an
	// InvokeAction's goroutine starts with on its stack, see invokeAs.)
	spawned  bool // counted in reg.spawned (see Registry.spawn), not yet in ent
	admitted bool // counted in ent.running, or ent.both when both
	inflight bool // counted in ent.inflight, or ent.both when both
	// both: nothing can tell this invocation's admitted and in-flight
	// windows apart (no observer, no future, no type check, block, key or
	// update between them), so it counts in ent.both, once for the two.
	both     bool
	shared   bool  // this invocation shared another's flight
	returned bool  // the lifecycle returned: if not, user code called runtime.Goexit
	inAfter  bool  // the after phase had begun: res stands
	stage    Stage // the stage of the user code running, for a Goexit's error

	lead *flight // the flight this invocation leads; others may share it
	slot *ticket // the invocation's claim on its action's bulkhead, nil without one

	// The outcome, for settle.
	listener  *listener // the listener running in this goroutine, if any, for a Goexit's error
	res       any       // the body's result
	err       error     // the invocation's error; before that, a concurrent phase's ended by a Goexit
	afterErrs []error   // the after phase's failures, for the error handler

	obs *observation // set only when the registry has an observer
}

// observation is what an observed invocation adds to its frame.
type observation struct {
	obs  Observer
	info Invocation
}

// hint returns the frame's address, which is on the invoking goroutine's
// stack when the frame is: a per-goroutine hash for the counters' cells. It
// is never dereferenced.
func (f *frame) hint() uintptr { return uintptr(unsafe.Pointer(f)) }

// counter returns the counter the invocation is admitted in.
func (f *frame) counter() *counter {
	if f.both {
		return &f.ent.both
	}
	return &f.ent.running
}

// settle ends the invocation, however the lifecycle left: it returned, or
// user code called runtime.Goexit, which ends the goroutine (the caller's,
// through Call) but runs deferred calls. Every step that may run user code is
// deferred here, so that a Goexit in one (the error handler, the observer)
// still lets the later ones run. In order: the de-duplication key is freed
// and sharers get the outcome (so the error handler may invoke with the same
// key without waiting for itself), the error handler gets the after phase's
// errors, the in-flight window closes (inside the observer's begin and end),
// the observer sees the end, the bulkhead's slot is handed on (before the
// future completes, so that its waiter finds the slot free), the future
// completes, and last the admission is released, so that Close returns only
// after all of that.
func (f *frame) settle() {
	if f.returned && f.obs == nil && f.lead == nil && len(f.afterErrs) == 0 {
		// No user code to run (no error handler, no observer), so none
		// that could call runtime.Goexit between the steps: no deferred
		// calls. (Those are settleUser's, whose frame they make 4 times
		// this one's: here it would grow an InvokeAction's stack.)
		if f.out == nil && f.slot == nil && (f.both || !f.inflight) {
			f.release() // a Call with nothing but its admission to settle
			return
		}
		f.endInFlight()
		f.freeSlot()
		f.complete()
		f.release()
		return
	}
	f.settleUser()
}

// settleUser is settle for an invocation with user code left to run, or
// whose lifecycle did not return.
func (f *frame) settleUser() {
	if !f.returned {
		f.goexited()
	}
	defer f.release()
	defer f.complete()
	defer f.freeSlot()
	if f.obs != nil { // observeEnd's frame would grow an InvokeAction's stack
		defer f.observeEnd()
	}
	defer f.endInFlight()
	defer f.reportAfter()
	if f.lead != nil {
		f.finishFlight(f.res, f.err)
	}
}

// goexited sets the outcome of an invocation whose goroutine user code ended:
// a failure of the stage it was in, with ErrGoexit, except in the after
// phase, where the body's result stands and the failure goes to the error
// handler. A concurrent phase leaves its own error in f.err, which is set
// otherwise only once the lifecycle has returned.
func (f *frame) goexited() {
	phaseErr := f.err
	exit := phaseErr
	if exit == nil {
		var name string
		if f.listener != nil {
			name = f.listener.name
		}
		exit = fail(f.name, f.stage, name, ErrGoexit)
	}
	if f.inAfter {
		f.err = nil
		if phaseErr == nil { // a concurrent after phase added its errors itself
			f.afterErrs = append(f.afterErrs, exit)
		}
		return
	}
	f.res, f.err = nil, exit
}

func (f *frame) reportAfter() {
	if err := f.afterErr(); err != nil {
		f.reg.handleError(f.ctx, err)
	}
}

// afterErr returns the after phase's failures: one as it is, several
// joined, once, so that the error handler and the observer see one error.
func (f *frame) afterErr() error {
	switch len(f.afterErrs) {
	case 0:
		return nil
	case 1:
	default:
		f.afterErrs = []error{errors.Join(f.afterErrs...)}
	}
	return f.afterErrs[0]
}

func (f *frame) complete() {
	if f.out != nil {
		f.out.shared = f.shared
		f.out.complete(f.res, f.err)
	}
}

// release ends the admission, or what spawn counted for an invocation that
// failed before it was admitted.
func (f *frame) release() {
	if f.admitted {
		f.reg.release(f.counter(), f.hint())
	}
	if f.spawned {
		f.reg.unspawn()
	}
}

// beginInFlight opens the in-flight window, at the start of the before
// phase.
func (f *frame) beginInFlight() {
	f.inflight = true
	if f.both {
		return // counted since admission
	}
	f.ent.inflight.inc(f.hint())
	if f.obs != nil {
		f.inFlightBegin()
	}
}

func (f *frame) endInFlight() {
	if !f.inflight || f.both {
		return
	}
	defer f.ent.inflight.dec(f.hint())
	if f.obs != nil {
		f.inFlightEnd()
	}
}

// enter records the stage whose user code the invocation's goroutine runs
// next, for the error of a Goexit in it (see goexited).
func (f *frame) enter(stage Stage) { f.stage, f.listener = stage, nil }

// ctxDone reports whether the invocation's context is done: at once for a
// context over Background or TODO while the registry is not stopping.
func (f *frame) ctxDone() bool {
	if f.ctx.never && !f.reg.stopping.Load() {
		return false
	}
	return f.ctx.doneSlow()
}
