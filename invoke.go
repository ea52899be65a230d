package actions

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// InvokeAction starts an invocation of the action name with payload and
// returns its future at once; the lifecycle (see the package documentation)
// runs in a goroutine of its own, which ends when the invocation completes.
// ctx flows to every stage: its values, its cancellation (checked at stage
// boundaries), and the nesting of invocations made from inside a stage.
//
// Every failure, from an unknown action to a panic in a listener, is
// delivered through the future; the future always completes. A nil ctx
// panics. Cost: a goroutine and 4 allocations more than [Registry.Call].
func (r *Registry) InvokeAction(ctx context.Context, name string, payload any) *Future[any] {
	if ctx == nil {
		setupPanic("InvokeAction(%q): nil context", name)
	}
	return &Future[any]{o: r.spawn(ctx, name, nil, payload)}
}

// Call invokes the action name with payload and waits for it: the same
// lifecycle as [Registry.InvokeAction], run in the calling goroutine, for hot
// paths. A nil ctx panics.
//
// Cost: without an observer or de-duplication, a call allocates nothing when
// ctx is context.Background, context.TODO or the ctx a stage received, and
// one 48-byte value otherwise; on top of the user's functions it costs two
// atomic adds, a lookup by name and a recover per stage (about 50 ns on a
// 2-core server).
func (r *Registry) Call(ctx context.Context, name string, payload any) (any, error) {
	if ctx == nil {
		setupPanic("Call(%q): nil context", name)
	}
	return r.invoke(ctx, name, nil, payload, nil)
}

// nest is the context.Context every stage of an invocation receives: the
// caller's context, plus the depth an invocation made with it is nested at
// and, where a descendant needs it, the invocation's frame. It is immutable
// once made (child aside, a cache), so that one nest can serve every
// invocation with the same caller context and depth: the top-level nests of
// context.Background and context.TODO, and the child of a nest, are made
// once, which keeps a synchronous call free of allocation.
type nest struct {
	context.Context
	depth int
	// frame is the innermost frame a descendant may read (for the observer's
	// ParentID and de-duplication against ancestors): the invocation's own
	// when it has one on the heap, else the one its parent's nest carries.
	frame *frame
	child atomic.Pointer[nest] // the frameless nest one level down, made on first use
	// never is true when Context can never be done (Background, TODO and
	// nests over them): cancellation checks are skipped without asking it.
	never bool
}

type nestKey struct{}

// Value returns the nest itself for nestKey, else the wrapped context's value.
func (n *nest) Value(key any) any {
	if key == (nestKey{}) {
		return n
	}
	return n.Context.Value(key)
}

// parentNest returns the nest ctx carries, nil for a top-level invocation.
func parentNest(ctx context.Context) *nest {
	if n, ok := ctx.(*nest); ok { // a stage's ctx passed on as it is: no Value walk
		return n
	}
	n, _ := ctx.Value(nestKey{}).(*nest)
	return n
}

var (
	nestBackground = &nest{Context: context.Background(), depth: 1, never: true}
	nestTODO       = &nest{Context: context.TODO(), depth: 1, never: true}
)

// frameless returns a nest without frame over ctx, sharing one where it can.
func frameless(ctx context.Context, parent *nest) *nest {
	switch {
	case parent == nil && ctx == context.Background():
		return nestBackground
	case parent == nil && ctx == context.TODO():
		return nestTODO
	case parent == nil:
		return &nest{Context: ctx, depth: 1}
	case ctx == context.Context(parent):
		if c := parent.child.Load(); c != nil {
			return c
		}
		c := &nest{Context: parent, depth: parent.depth + 1, frame: parent.frame, never: parent.never}
		if parent.child.CompareAndSwap(nil, c) {
			return c
		}
		return parent.child.Load() // made by a concurrent invocation: the same
	}
	return &nest{Context: ctx, depth: parent.depth + 1, frame: parent.frame}
}

// frame is one invocation in progress. It lives on the invoking goroutine's
// stack unless a descendant may need it (see nest.frame).
type frame struct {
	ctx    *nest // what the stages receive
	reg    *Registry
	name   string
	parent *frame // the innermost ancestor with a frame on the heap, if any
	depth  int

	// Set as the lifecycle goes on, read by end.
	ent      *entry
	accepted bool // counted in ent.running, or ent.both when both
	spawned  bool // counted in reg.spawned (see Registry.spawn)
	inflight bool // counted in ent.inflight, or ent.both when both
	// both: nothing can tell this invocation's accepted and in-flight
	// windows apart (no observer, no future, no type check, block, key or
	// update between them), so it counts in ent.both, once for the two.
	both     bool
	slot     int8    // the counter slot of the accepted count
	flySlot  int8    // the counter slot of the in-flight count
	key      string  // de-duplication key, when keyed
	keyed    bool    // key was computed
	lead     *flight // the flight this invocation leads, others may share it
	shared   bool    // this invocation shared another's flight
	afterErr error   // the after phase's joined errors, for the error handler

	obs  Observer
	info Invocation // set only when obs != nil
}

// hint returns the frame's address, which is on the invoking goroutine's
// stack when the frame is: a per-goroutine hash for the counters' cells. It
// is never dereferenced.
func (f *frame) hint() uintptr { return uintptr(unsafe.Pointer(f)) }

// errGoexit is the error of an invocation whose goroutine was ended by
// runtime.Goexit (t.FailNow in a listener, say) before it completed.
var errGoexit = errors.New("runtime.Goexit called by user code")

// invoke runs the whole lifecycle and completes out (when not nil, for
// InvokeAction) with its outcome.
//
// The frame is on this goroutine's stack unless the registry has an observer
// or the action de-duplicates: only then can a descendant need it, and only
// then does it cost an allocation.
//
// e is name's entry when the caller has it (a typed handle keeps it), else
// nil and invoke looks it up.
func (r *Registry) invoke(ctx context.Context, name string, e *entry, payload any, out *outcome) (res any, err error) {
	parent := parentNest(ctx)
	if r.cfg.observer != nil {
		// The observer's begin is user code: the lookup (step 1) follows it.
		f := newFramed(ctx, r, name, parent, payload)
		e, s := r.lookupSnap(name, e)
		return f.invoke(payload, e, s, out)
	}
	e, s := r.lookupSnap(name, e)
	if s != nil && s.act != nil && s.act.key != nil {
		return newFramed(ctx, r, name, parent, payload).invoke(payload, e, s, out)
	}
	// The frame stays on this stack: nothing but this call can reach it.
	f := frame{reg: r, name: name, depth: 1}
	if parent != nil {
		f.depth, f.parent = parent.depth+1, parent.frame
	}
	f.ctx = frameless(ctx, parent)
	return f.invoke(payload, e, s, out)
}

// lookupSnap returns name's entry (e, when not nil) and its current
// snapshot, nil if none.
func (r *Registry) lookupSnap(name string, e *entry) (*entry, *snapshot) {
	if e == nil {
		e = r.lookup(name)
	}
	if e != nil {
		return e, e.snap.Load()
	}
	return nil, nil
}

// newFramed returns the frame of an invocation that descendants may need to
// read, with its nest, and shows the invocation to the observer.
func newFramed(ctx context.Context, r *Registry, name string, parent *nest, payload any) *frame {
	f := &frame{reg: r, name: name, depth: 1}
	if parent != nil {
		f.depth, f.parent = parent.depth+1, parent.frame
	}
	if obs := r.cfg.observer; obs != nil {
		ctx = f.observeBegin(ctx, obs, payload)
	}
	f.ctx = &nest{Context: ctx, depth: f.depth, frame: f}
	return f
}

func (f *frame) invoke(payload any, e *entry, s *snapshot, out *outcome) (res any, err error) {
	f.spawned = out != nil && !out.closedAtCall
	ended := false
	defer func() {
		if !ended { // runtime.Goexit: every stage recovers panics, so nothing else gets here
			f.end(nil, fail(f.name, StageNone, "", errGoexit), out)
		}
	}()
	res, err = f.run(payload, e, s, out)
	ended = true
	f.end(res, err, out)
	return res, err
}

// run is the lifecycle, steps 0 to 10 of SPEC 2; end does the bookkeeping.
func (f *frame) run(payload any, e *entry, s *snapshot, out *outcome) (any, error) {
	r, name, ctx := f.reg, f.name, f.ctx
	// 0. A done ctx fails the invocation; nothing runs.
	if !ctx.never && ctx.Err() != nil {
		return nil, stopped(name, StageNone, context.Cause(ctx))
	}
	if limit := r.maxDepth(); f.depth > limit {
		return nil, &Error{Action: name, Kind: ErrDepthExceeded, Err: fmt.Errorf("depth %d, limit %d", f.depth, limit)}
	}
	// 1. The action, looked up by invoke; the body found there is the one
	// that runs.
	if s == nil || s.act == nil {
		return nil, &Error{Action: name, Kind: ErrActionNotFound}
	}
	f.ent = e
	act := s.act
	// 2. Closed.
	// The payload type check is library code without effects: made before
	// step 2, it lets a typed invocation count in ent.both; its failure is
	// still reported after a closed registry's.
	var typeErr error
	if act.check != nil {
		typeErr = act.check(payload)
	}
	f.both = out == nil && f.obs == nil && typeErr == nil && len(s.blocks) == 0 && act.key == nil && act.update == nil
	c := &e.running
	if f.both {
		c = &e.both
	}
	var slot int8
	switch {
	case out != nil && out.closedAtCall:
		return nil, &Error{Action: name, Kind: ErrClosed}
	case f.spawned: // admitted by InvokeAction, even if Close has begun since
		slot = c.inc(f.hint())
		f.spawned = false
		r.unspawn()
	default:
		var ok bool
		if slot, ok = r.accept(c, f.hint()); !ok {
			return nil, &Error{Action: name, Kind: ErrClosed}
		}
	}
	f.accepted, f.slot = true, slot
	if typeErr != nil {
		return nil, &Error{Action: name, Kind: ErrPayloadType, Err: typeErr}
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
			case <-ctx.Done():
				return nil, stopped(name, StageNone, context.Cause(ctx))
			}
		}
	}
	// 5. Payload update.
	if act.update != nil {
		p, err := callUpdate(ctx, act.update, payload)
		if err != nil {
			return nil, fail(name, StageUpdate, "", err)
		}
		payload = p
	}
	f.beginInFlight()
	// 6, 7. Before phase, on the listeners registered when it starts.
	if !ctx.never && ctx.Err() != nil {
		return nil, stopped(name, StageBefore, context.Cause(ctx))
	}
	if before := e.snap.Load().before; len(before) > 0 {
		if err := f.phase(before, payload, false, act.concurrent); err != nil {
			return nil, err
		}
	}
	// 8. Body: the replacement stack as it is now, over the body of step 1.
	if !ctx.never && ctx.Err() != nil {
		return nil, stopped(name, StageBody, context.Cause(ctx))
	}
	res, err := callBody(ctx, e.snap.Load().replacements, act.body, payload)
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
		c := &f.ent.running
		if f.both {
			c = &f.ent.both
		}
		f.reg.release(c, f.slot)
	}
	if f.spawned { // failed before step 2
		f.reg.unspawn()
	}
}

// phase runs one phase's snapshot of listeners and returns its error: for the
// before phase the abort or failure that stops the invocation, for the after
// phase the joined failures of its listeners.
func (f *frame) phase(list []*listener, payload any, after, concurrent bool) error {
	if concurrent && len(list) > 1 {
		return concurrentPhase(f.ctx, f.reg, f.name, list, payload, after)
	}
	var errs []error
	for i := 0; i < len(list); {
		next, l, err := f.runListeners(list, i, payload, after)
		if err == nil {
			break
		}
		if ce, ok := err.(ctxStop); ok {
			return stopped(f.name, StageBefore, ce.cause)
		}
		if !after {
			return beforeError(f.name, l, err)
		}
		errs = append(errs, fail(f.name, StageAfter, l.name, err))
		i = next
	}
	return errors.Join(errs...)
}

// ctxStop is runListeners' report that the ctx was done between two
// before-listeners.
type ctxStop struct{ cause error }

func (c ctxStop) Error() string { return c.cause.Error() }

// runListeners runs list[from:] in order until one fails, and returns the
// index after it, the failing listener and its error (or recovered panic).
// One deferred recover serves the whole run: a recover per listener costs a
// few nanoseconds each, a third of the overhead of a chain of eight.
func (f *frame) runListeners(list []*listener, from int, payload any, after bool) (next int, failed *listener, err error) {
	defer func() {
		if v := recover(); v != nil {
			next, failed, err = next+1, list[next], newPanicError(v)
		}
	}()
	ctx := f.ctx
	check := !after && !ctx.never // SPEC 7: cancellation is checked between before-listeners
	for next = from; next < len(list); next++ {
		l := list[next]
		if check && next > 0 && ctx.Err() != nil {
			return next, nil, ctxStop{context.Cause(ctx)}
		}
		if l.once && !claim(f.reg, f.name, l, after) {
			continue
		}
		if err := l.fn(ctx, payload); err != nil {
			return next + 1, l, err
		}
	}
	return next, nil, nil
}

// concurrentPhase starts every listener at once, the last one in this
// goroutine, and waits for all. In the before phase the first abort or
// failure cancels the others' context with itself as the cause; an abort
// wins over failures, which stay reachable through the joined error.
func concurrentPhase(parent context.Context, reg *Registry, name string, list []*listener, payload any, after bool) error {
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	errs := make([]error, len(list))
	var (
		mu    sync.Mutex
		cause error // the first abort or failure of the before phase, guarded by mu
	)
	run := func(i int) {
		l := list[i]
		if l.once && !claim(reg, name, l, after) {
			return
		}
		errs[i] = fail(name, stageOf(after), l.name, errGoexit) // overwritten unless Goexit
		err := callListener(ctx, l.fn, payload)
		switch {
		case err == nil, !after && stoppedEarly(parent, ctx, err):
			errs[i] = nil
		case after:
			errs[i] = fail(name, StageAfter, l.name, err)
		default:
			e := beforeError(name, l, err)
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
func stoppedEarly(invocation, phase context.Context, err error) bool {
	cause := context.Cause(phase)
	if cause == nil || invocation.Err() != nil {
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
func beforeError(name string, l *listener, err error) *Error {
	if errors.Is(err, ErrAborted) {
		return &Error{Action: name, Kind: ErrAborted, Stage: StageBefore, Listener: l.name, Err: abortReason(err)}
	}
	return fail(name, StageBefore, l.name, err)
}

// claim takes a once-listener for this invocation, if no other took it, and
// removes it from the registry.
func claim(reg *Registry, name string, l *listener, after bool) bool {
	if !l.fired.CompareAndSwap(false, true) {
		return false
	}
	reg.removeListener(name, after, l)
	return true
}

func (f *frame) beginInFlight() {
	f.inflight = true
	if f.both {
		return // counted since accept
	}
	f.flySlot = f.ent.inflight.inc(f.hint())
	if ifo, ok := f.obs.(InFlightObserver); ok {
		f.safeObserve(func() { ifo.InFlightBegin(f.ctx.Context, f.info) })
	}
}

func (f *frame) endInFlight() {
	if ifo, ok := f.obs.(InFlightObserver); ok {
		f.safeObserve(func() { ifo.InFlightEnd(f.ctx.Context, f.info) })
	}
	if !f.both {
		f.ent.inflight.dec(f.flySlot)
	}
}

func (f *frame) observeBegin(ctx context.Context, obs Observer, payload any) context.Context {
	f.obs = obs
	f.info = Invocation{Action: f.name, ID: f.reg.ids.Add(1), Depth: f.depth, Payload: payload, Start: time.Now()}
	if p := f.parent; p != nil && p.reg == f.reg && p.depth == f.depth-1 {
		f.info.ParentID = p.info.ID
	}
	f.safeObserve(func() {
		if c := obs.InvocationBegin(ctx, f.info); c != nil {
			ctx = c
		}
	})
	return ctx
}

func (f *frame) observeEnd(res any, err error) {
	out := Outcome{Result: res, Err: err, Aborted: isAbort(err), Shared: f.shared, Duration: time.Since(f.info.Start)}
	f.safeObserve(func() { f.obs.InvocationEnd(f.ctx.Context, f.info, out) })
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
