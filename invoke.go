package actions

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// InvokeAction starts an invocation of the action name with payload and
// returns its future at once; the lifecycle (see the package documentation)
// runs in a goroutine of its own, which ends when the invocation completes.
// ctx flows to every stage: its values, its cancellation (checked at stage
// boundaries), and the nesting of invocations made from inside a stage.
//
// Every failure, from an unknown action to a panic in a listener, is
// delivered through the future; the future always completes. A nil ctx
// panics.
func (r *Registry) InvokeAction(ctx context.Context, name string, payload any) *Future[any] {
	if ctx == nil {
		setupPanic("InvokeAction(%q): nil context", name)
	}
	o := newOutcome(name)
	go r.invoke(ctx, name, payload, o)
	return &Future[any]{o: o}
}

// Call invokes the action name with payload and waits for it: the same
// lifecycle as [Registry.InvokeAction], run in the calling goroutine, for hot
// paths. A nil ctx panics.
func (r *Registry) Call(ctx context.Context, name string, payload any) (any, error) {
	if ctx == nil {
		setupPanic("Call(%q): nil context", name)
	}
	return r.invoke(ctx, name, payload, nil)
}

// frame is one invocation in progress. It is also the context.Context that
// every stage receives: it carries the caller's context and lets an
// invocation made with it find its parent (for the depth limit, the
// observer's parent ID and de-duplication against ancestors).
type frame struct {
	context.Context
	reg    *Registry
	name   string
	parent *frame
	depth  int

	// Set as the lifecycle goes on, read by end.
	ent      *entry
	accepted bool    // counted in reg.running
	inflight bool    // counted in ent.inflight
	key      string  // de-duplication key, when keyed
	keyed    bool    // key was computed
	lead     *flight // the flight this invocation leads, others may share it
	shared   bool    // this invocation shared another's flight
	afterErr error   // the after phase's joined errors, for the error handler

	obs  Observer
	info Invocation // set only when obs != nil
}

type frameKey struct{}

// Value returns the frame itself for frameKey, else the wrapped context's
// value.
func (f *frame) Value(key any) any {
	if key == (frameKey{}) {
		return f
	}
	return f.Context.Value(key)
}

func parentFrame(ctx context.Context) *frame {
	f, _ := ctx.Value(frameKey{}).(*frame)
	return f
}

// errGoexit is the error of an invocation whose goroutine was ended by
// runtime.Goexit (t.FailNow in a listener, say) before it completed.
var errGoexit = errors.New("runtime.Goexit called by user code")

// invoke runs the whole lifecycle and completes out (when not nil, for
// InvokeAction) with its outcome.
func (r *Registry) invoke(ctx context.Context, name string, payload any, out *outcome) (res any, err error) {
	f := &frame{Context: ctx, reg: r, name: name, parent: parentFrame(ctx), depth: 1}
	if f.parent != nil {
		f.depth = f.parent.depth + 1
	}
	if obs := r.cfg.observer; obs != nil {
		f.observeBegin(obs, payload)
	}
	ended := false
	defer func() {
		if !ended { // runtime.Goexit: every stage recovers panics, so nothing else gets here
			f.end(nil, fail(name, StageNone, "", errGoexit), out)
		}
	}()
	res, err = f.run(payload)
	ended = true
	f.end(res, err, out)
	return res, err
}

// run is the lifecycle, steps 0 to 10 of SPEC 2; end does the bookkeeping.
func (f *frame) run(payload any) (any, error) {
	r, name := f.reg, f.name
	// 0. A done ctx fails the invocation; nothing runs.
	if f.Err() != nil {
		return nil, stopped(name, StageNone, context.Cause(f))
	}
	if limit := r.maxDepth(); f.depth > limit {
		return nil, &Error{Action: name, Kind: ErrDepthExceeded, Err: fmt.Errorf("depth %d, limit %d", f.depth, limit)}
	}
	// 1. Look the action up; the body found here is the one that runs.
	e := r.lookup(name)
	var s *snapshot
	if e != nil {
		s = e.snap.Load()
	}
	if s == nil || s.act == nil {
		return nil, &Error{Action: name, Kind: ErrActionNotFound}
	}
	f.ent = e
	act := s.act
	// 2. Closed.
	if !r.accept() {
		return nil, &Error{Action: name, Kind: ErrClosed}
	}
	f.accepted = true
	if act.check != nil {
		if err := act.check(payload); err != nil {
			return nil, &Error{Action: name, Kind: ErrPayloadType, Err: err}
		}
	}
	// 3. Blocked: matches see the caller's payload.
	for _, b := range s.blocks {
		blocked, err := matches(b, payload)
		if err != nil {
			return nil, fail(name, StageBlock, "", err)
		}
		if blocked {
			return nil, &Error{Action: name, Kind: ErrBlocked}
		}
	}
	// 4. De-duplication, on the caller's payload.
	if act.key != nil {
		shared, err := f.dedupe(act, payload)
		if err != nil {
			return nil, err
		}
		if shared != nil {
			f.shared = true
			select {
			case <-shared.done:
				return shared.val, shared.err
			case <-f.Done():
				return nil, stopped(name, StageNone, context.Cause(f))
			}
		}
	}
	// 5. Payload update.
	if act.update != nil {
		p, err := callUpdate(f, act.update, payload)
		if err != nil {
			return nil, fail(name, StageUpdate, "", err)
		}
		payload = p
	}
	f.beginInFlight()
	// 6, 7. Before phase, on the listeners registered when it starts.
	if f.Err() != nil {
		return nil, stopped(name, StageBefore, context.Cause(f))
	}
	if before := e.snap.Load().before; len(before) > 0 {
		if err := f.phase(before, payload, false, act.concurrent); err != nil {
			return nil, err
		}
	}
	// 8. Body: the replacement stack as it is now, over the body of step 1.
	if f.Err() != nil {
		return nil, stopped(name, StageBody, context.Cause(f))
	}
	res, err := callBody(f, e.snap.Load().replacements, act.body, payload)
	if err != nil {
		return nil, fail(name, StageBody, "", err)
	}
	// 9. After phase: its errors go to the error handler (in end), the
	// result stands.
	if after := e.snap.Load().after; len(after) > 0 {
		f.afterErr = f.phase(after, payload, true, act.concurrent)
	}
	// 10. The future completes in end.
	return res, nil
}

// end settles the invocation's bookkeeping, in an order that makes every
// effect visible to whoever the completion wakes: the de-duplication key is
// free (so the error handler may invoke with the same key without waiting
// for itself), the error handler has the after phase's errors, the in-flight
// window is closed (inside the observer's begin and end), the observer has
// seen the end; then the future completes, then Close may return.
func (f *frame) end(res any, err error, out *outcome) {
	if f.lead != nil {
		f.finishFlight(res, err)
	}
	if f.afterErr != nil {
		f.reg.handleError(f.afterErr)
	}
	if f.inflight {
		f.endInFlight()
	}
	if f.obs != nil {
		f.observeEnd(res, err)
	}
	if out != nil {
		out.complete(res, err)
	}
	if f.accepted {
		f.reg.release()
	}
}

// phase runs one phase's snapshot of listeners and returns its error: for the
// before phase the abort or failure that stops the invocation, for the after
// phase the joined failures of its listeners.
func (f *frame) phase(list []*listener, payload any, after, concurrent bool) error {
	if concurrent && len(list) > 1 {
		return f.concurrentPhase(list, payload, after)
	}
	var errs []error
	for i, l := range list {
		if i > 0 && !after && f.Err() != nil {
			return stopped(f.name, StageBefore, context.Cause(f))
		}
		if l.once && !f.claim(l, after) {
			continue
		}
		err := callListener(f, l.fn, payload)
		if err == nil {
			continue
		}
		if !after {
			return f.beforeError(l, err)
		}
		errs = append(errs, fail(f.name, StageAfter, l.name, err))
	}
	return errors.Join(errs...)
}

// concurrentPhase starts every listener at once, the last one in this
// goroutine, and waits for all. In the before phase the first abort or
// failure cancels the others' context with itself as the cause; an abort
// wins over failures, which stay reachable through the joined error.
func (f *frame) concurrentPhase(list []*listener, payload any, after bool) error {
	ctx, cancel := context.WithCancelCause(f)
	defer cancel(nil)
	errs := make([]error, len(list))
	var (
		mu    sync.Mutex
		cause error // the first abort or failure of the before phase, guarded by mu
	)
	run := func(i int) {
		l := list[i]
		if l.once && !f.claim(l, after) {
			return
		}
		errs[i] = fail(f.name, stageOf(after), l.name, errGoexit) // overwritten unless Goexit
		err := callListener(ctx, l.fn, payload)
		switch {
		case err == nil, !after && f.stoppedEarly(ctx, err):
			errs[i] = nil
		case after:
			errs[i] = fail(f.name, StageAfter, l.name, err)
		default:
			e := f.beforeError(l, err)
			errs[i] = e
			mu.Lock()
			if cause == nil {
				cause = e
			}
			mu.Unlock()
			cancel(e) // a no-op after the first
		}
	}
	var wg sync.WaitGroup
	for i := range len(list) - 1 {
		wg.Go(func() { run(i) })
	}
	run(len(list) - 1)
	wg.Wait()
	if after {
		return errors.Join(errs...)
	}
	return combine(cause, errs)
}

// stoppedEarly reports whether a before-listener's error only says that
// another listener stopped the phase, as its cancelled context invited it to:
// the phase's error is that other listener's, not this one's.
func (f *frame) stoppedEarly(phase context.Context, err error) bool {
	cause := context.Cause(phase)
	if cause == nil || f.Err() != nil {
		return false
	}
	return errors.Is(err, cause) || errors.Is(err, context.Canceled)
}

// combine returns the before phase's error: the abort that cancelled the
// phase or, failing that, the first abort, or else the failure that
// cancelled it, joined with every other error of the phase.
func combine(cause error, errs []error) error {
	if cause == nil {
		return nil
	}
	primary := cause
	if !errors.Is(cause, ErrAborted) {
		for _, err := range errs {
			if err != nil && errors.Is(err, ErrAborted) {
				primary = err
				break
			}
		}
	}
	all := []error{primary}
	for _, err := range errs {
		if err != nil && err != primary {
			all = append(all, err)
		}
	}
	if len(all) == 1 {
		return primary
	}
	return errors.Join(all...)
}

func stageOf(after bool) Stage {
	if after {
		return StageAfter
	}
	return StageBefore
}

// beforeError turns a before-listener's error into the invocation's: an
// abort when it matches ErrAborted, a failure otherwise.
func (f *frame) beforeError(l *listener, err error) *Error {
	if errors.Is(err, ErrAborted) {
		return &Error{Action: f.name, Kind: ErrAborted, Stage: StageBefore, Listener: l.name, Err: abortReason(err)}
	}
	return fail(f.name, StageBefore, l.name, err)
}

// claim takes a once-listener for this invocation, if no other took it, and
// removes it from the registry.
func (f *frame) claim(l *listener, after bool) bool {
	if !l.fired.CompareAndSwap(false, true) {
		return false
	}
	f.reg.removeListener(f.name, after, l)
	return true
}

func (f *frame) beginInFlight() {
	f.inflight = true
	f.ent.inflight.Add(1)
	if ifo, ok := f.obs.(InFlightObserver); ok {
		f.safeObserve(func() { ifo.InFlightBegin(f.Context, f.info) })
	}
}

func (f *frame) endInFlight() {
	if ifo, ok := f.obs.(InFlightObserver); ok {
		f.safeObserve(func() { ifo.InFlightEnd(f.Context, f.info) })
	}
	f.ent.inflight.Add(-1)
}

func (f *frame) observeBegin(obs Observer, payload any) {
	f.obs = obs
	f.info = Invocation{Action: f.name, ID: f.reg.ids.Add(1), Depth: f.depth, Payload: payload, Start: time.Now()}
	if f.parent != nil && f.parent.reg == f.reg {
		f.info.ParentID = f.parent.info.ID
	}
	f.safeObserve(func() {
		if ctx := obs.InvocationBegin(f.Context, f.info); ctx != nil {
			f.Context = ctx
		}
	})
}

func (f *frame) observeEnd(res any, err error) {
	out := Outcome{Result: res, Err: err, Aborted: errors.Is(err, ErrAborted), Shared: f.shared, Duration: time.Since(f.info.Start)}
	f.safeObserve(func() { f.obs.InvocationEnd(f.Context, f.info, out) })
}

// safeObserve runs an observer method, delivering its panic to the error
// handler.
func (f *frame) safeObserve(fn func()) {
	defer func() {
		if v := recover(); v != nil {
			f.reg.handleError(fail(f.name, StageObserver, "", newPanicError(v)))
		}
	}()
	fn()
}

// The call* functions run user code, recovering its panics into errors.

func callListener(ctx context.Context, fn Listener, payload any) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = newPanicError(v)
		}
	}()
	return fn(ctx, payload)
}

func callUpdate(ctx context.Context, fn PayloadUpdate, payload any) (p any, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = newPanicError(v)
		}
	}()
	return fn(ctx, payload)
}

func callBody(ctx context.Context, stack []*replacement, body Body, payload any) (res any, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = newPanicError(v)
		}
	}()
	return runLayer(ctx, stack, len(stack)-1, body, payload)
}

func matches(b *block, payload any) (ok bool, err error) {
	if b.match == nil {
		return true, nil
	}
	defer func() {
		if v := recover(); v != nil {
			err = newPanicError(v)
		}
	}()
	return b.match(payload), nil
}
