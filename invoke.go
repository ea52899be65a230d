package actions

import (
	"context"
	"fmt"
	"reflect"
	"runtime"
)

// InvokeAction starts an invocation of the action name with payload and
// returns its future at once; the lifecycle (see the package documentation)
// runs in a goroutine of its own, which ends when the invocation completes.
// ctx flows to every stage: its values, its cancellation (checked at stage
// boundaries), and the nesting of invocations made from inside a stage.
//
// Every failure, from an unknown action to a panic in a listener, is
// delivered through the future; the future always completes. A nil ctx
// panics. Cost: a goroutine and 3 allocations more than [Registry.Call] (the
// future, its state and the goroutine's arguments), as many as a goroutine
// that sends its result on a new channel. For an action with a [Bulkhead],
// the goroutine starts only once the invocation has a slot: one that waits
// for a slot holds none.
func (r *Registry) InvokeAction(ctx context.Context, name string, payload any) *Future[any] {
	if ctx == nil {
		setupPanic("InvokeAction(%q): nil context", name)
	}
	return &Future[any]{o: r.spawn(ctx, name, nil, payload, nil)}
}

// Call invokes the action name with payload and waits for it: the same
// lifecycle as [Registry.InvokeAction], run in the calling goroutine, for hot
// paths. A nil ctx panics. If user code calls runtime.Goexit (as t.FailNow
// does), the calling goroutine ends, as Goexit means, and the invocation is
// settled as for InvokeAction.
//
// Cost: without an observer or de-duplication, a call allocates nothing when
// ctx is context.Background, context.TODO or the ctx a stage received, and
// one 96-byte value otherwise; on top of the user's functions it costs two
// atomic adds, a lookup by name and one recover (about 40 ns on a 2-core
// server, 8 of them the atomic adds). An observer makes it allocate its
// frame (about 5× a call of one listener and a body).
func (r *Registry) Call(ctx context.Context, name string, payload any) (any, error) {
	if ctx == nil {
		setupPanic("Call(%q): nil context", name)
	}
	return invokeAs[any](r, ctx, name, nil, payload, nil, nil)
}

// invoke is invokeAs for the untyped API, for InvokeAction's goroutine,
// whose arguments would otherwise include the instance's dictionary and
// take a larger allocation.
func (r *Registry) invoke(ctx context.Context, name string, e *entry, payload any, out *outcome, sig reflect.Type) (any, error) {
	return invokeAs[any](r, ctx, name, e, payload, out, sig)
}

// invokeAs runs one invocation of r and completes out (when not nil, for
// InvokeAction) with its outcome. P is the payload's type where the caller
// knows it (see run), else any.
//
// The frame is on this goroutine's stack unless the registry has an observer
// or the action de-duplicates or has a bulkhead: only then can a descendant
// need it, and only then does it cost an allocation.
//
// e is name's entry when the caller has it (a typed handle keeps it), else
// nil and invoke looks it up. sig is a typed handle's signature (see
// action.sig), nil for the untyped API.
func invokeAs[P any](r *Registry, ctx context.Context, name string, e *entry, payload any, out *outcome, sig reflect.Type) (any, error) {
	parent := parentNest(ctx)
	if parent != nil && parent.depth > r.maxDepth() {
		return r.beyondLimit(name, parent.depth+1, out)
	}
	e, s := r.lookupSnap(name, e)
	if s != nil && s.act != nil && s.act.bulk != nil {
		return r.invokeBounded(ctx, e, payload, out, sig)
	}
	if set := r.observers.Load(); set != nil {
		o := &observedFrame{observation: observation{obs: set.obs}}
		r.initHeapFrame(&o.frame, ctx, name, parent, out)
		o.frame.obs, o.frame.sig = &o.observation, sig
		return o.frame.invokeObserved(payload, e, nil)
	}
	if s != nil && s.rule() != nil {
		f := r.heapFrame(ctx, name, parent, out)
		f.sig = sig
		lifecycle[P](f, payload, e, s)
		return f.res, f.err
	}
	// The frame stays on this stack: nothing but this call can reach it. It
	// is set field by field: a composite literal is built aside and copied.
	var f frame
	f.reg, f.name, f.depth, f.out, f.spawned, f.sig = r, name, 1, out, out != nil && !out.closedAtCall, sig
	if parent != nil {
		f.depth, f.parent = parent.depth+1, parent.frame
	}
	f.ctx = r.frameless(ctx, parent, name, e)
	lifecycle[P](&f, payload, e, s)
	return f.res, f.err
}

// beyondLimit fails an invocation made with the ctx of one that the depth
// limit itself rejected (by its observer, say), without showing it to the
// observer: an observer that invokes on every end would otherwise nest one
// level deeper with every rejection, for ever.
func (r *Registry) beyondLimit(name string, depth int, out *outcome) (any, error) {
	err := depthError(name, depth, r.maxDepth())
	if out != nil {
		out.complete(nil, err)
		if !out.closedAtCall {
			r.unspawn()
		}
	}
	return nil, err
}

func depthError(name string, depth, limit int) *Error {
	return &Error{Action: name, Kind: ErrDepthExceeded, Err: fmt.Errorf("depth %d, limit %d", depth, limit)}
}

// heapFrame returns the frame of an invocation that descendants may need to
// read, with its own nest.
func (r *Registry) heapFrame(ctx context.Context, name string, parent *nest, out *outcome) *frame {
	f := new(frame)
	r.initHeapFrame(f, ctx, name, parent, out)
	return f
}

// observedFrame is the frame of an invocation with an observer, in one
// allocation with what observing adds.
type observedFrame struct {
	frame
	observation
}

func (r *Registry) initHeapFrame(f *frame, ctx context.Context, name string, parent *nest, out *outcome) {
	*f = frame{reg: r, name: name, depth: 1, out: out, spawned: out != nil && !out.closedAtCall}
	if parent != nil {
		f.depth, f.parent = parent.depth+1, parent.frame
	}
	f.ctx = newNest(ctx, r, name, f.depth, f)
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

// invoke runs the lifecycle, the steps of "Lifecycle" in the package
// documentation:
//
//	      take           bulkhead.go before invoke: a slot, for an action with a bulkhead
//	0, 1  find           invoke.go   done ctx, depth limit, busy, the action
//	2     admit          drain.go    closed registry, typed payload check
//	3     checkBlocks    block.go
//	4     dedupe         dedupe.go
//	5     update         payload.go
//	6-9   run            invoke.go   the before phase, the body, the after phase
//	                     phase.go    a concurrent phase
//	10    settle         frame.go    by end, deferred by lifecycle: the future completes
//
// For an action with none of steps 3 to 5 (see snapshot.plain), steps 0 to
// 5 are one admission, made by run. Each phase runs the listeners registered
// when it starts; the abort or failure of a before-listener stops the
// invocation, the after-listeners' failures go to the error handler (in
// settle) and the result stands.
//
// One deferred call, end, contains all the lifecycle's user code and
// settles the invocation, however the lifecycle leaves: one recover and one
// deferred call per invocation, not one per phase and body. (The phases
// have no guard of their own, and settle defers nothing unless user code is
// left to run: more frames would make an InvokeAction's goroutine grow its
// stack.)
func (f *frame) invoke(payload any, e *entry, s *snapshot) (any, error) {
	lifecycle[any](f, payload, e, s)
	return f.res, f.err
}

// lifecycle is invoke's: it leaves the outcome in f.res and f.err. P is the
// payload's type where the caller knows it (see run), else any.
func lifecycle[P any](f *frame, payload any, e *entry, s *snapshot) {
	var after afterPhase
	defer f.end(&after)
	f.res, f.err = run[P](f, payload, e, s, &after)
	f.returned = true
}

// afterPhase is the after phase's snapshot of listeners and the payload it
// runs with (an update's, when the action has one), once it has started:
// what frame.end needs to go on with the phase after a panicking listener.
type afterPhase struct {
	list    []*listener
	payload any
}

// run is the lifecycle's steps 0 to 9, for invoke. (Its locals are not
// lifecycle's: the deeper the settle's calls run, the likelier an
// InvokeAction's goroutine grows its stack.)
//
// The steps of a sequential action's phases and body are written out here
// rather than called: the calls, their arguments and their spills cost a
// Call of one listener and a body about a tenth of its time. (afterFrom
// repeats the after phase's loop, to go on after a panicking listener.) The
// abort or failure of a before-listener stops the invocation, and ctx's
// cancellation is checked between before-listeners; an after-listener's
// failure is added to f.afterErrs. A typed handle's invocation, whose
// payloads are P, calls a typed listener of P with the payload as a P,
// without its adapter (see listener.typed), so that it costs what an
// untyped listener does; any other listener, and every listener of the
// untyped API, is called through fn.
func run[P any](f *frame, payload any, e *entry, s *snapshot, after *afterPhase) (any, error) {
	// Steps 0 to 5 are one admission for a Call of an action with nothing
	// to do in them (see snapshot.plain), whose ctx is not done, within the
	// depth limit, with a payload its types fit. Counting in ent.both, such
	// an invocation opens its in-flight window with its admission. Otherwise
	// the steps run in full (prepare), to go on or to fail.
	if s != nil && s.plain && f.out == nil && f.obs == nil && !f.ctxDone() && f.depth <= f.reg.maxDepth() &&
		(f.typesFit(s.act) || f.sig == nil && s.act.check(payload) == nil) && f.reg.admit(&e.both, f.hint()) {
		f.ent, f.gen, f.both, f.admitted, f.inflight = e, s.gen, true, true, true
	} else {
		act, payload2, res, err := f.prepare(e, s, payload)
		if act == nil {
			return res, err
		}
		payload = payload2
	}
	act := s.act
	ctx := f.ctx
	if f.ctxDone() { // steps 6 and 7: the before phase
		return nil, stopped(f.name, StageBefore, context.Cause(ctx))
	}
	var p P
	typed := f.sig != nil && !act.concurrent
	if typed {
		p, typed = payload.(P) // not for nil, or another type from a payload update: every listener checks it
	}
	now := f.ent.snap.Load()
	if list := pinned(now.before, now, f.gen); act.concurrent && len(list) > 1 { // the listeners registered now (see pinned)
		if err := f.concurrentPhase(list, payload, false); err != nil {
			return nil, err
		}
	} else if len(list) > 0 {
		f.enter(StageBefore)
		for i, l := range list {
			if i > 0 && !ctx.never && ctx.Err() != nil {
				return nil, stopped(f.name, StageBefore, context.Cause(ctx))
			}
			if l.once { // nested: the && of the two cost a listener 6 instructions
				if !claim(f.reg, f.name, l, false) {
					continue
				}
			}
			f.listener = l
			var err error
			if fn, ok := typedFn[P](l, typed); ok {
				err = fn(ctx, p)
			} else {
				err = l.fn(ctx, payload)
			}
			if err != nil {
				return nil, beforeError(ctx, f.name, l, screen(err))
			}
		}
	}
	if f.ctxDone() { // step 8: the body, the top of the replacement stack as it is now
		return nil, stopped(f.name, StageBody, context.Cause(ctx))
	}
	now = f.ent.snap.Load()
	stack := pinned(now.replacements, now, f.gen)
	f.enter(StageBody)
	var res any
	var err error
	if len(stack) == 0 {
		res, err = act.body(ctx, payload)
	} else {
		res, err = runLayer(ctx, stack, len(stack)-1, act.body, payload)
	}
	if err != nil {
		return nil, stageError(ctx, f.name, StageBody, "", screen(err))
	}
	f.res, f.inAfter = res, true
	if now := f.ent.snap.Load(); len(now.after) > 0 { // step 9: its failures go to the error handler, in settle
		list := pinned(now.after, now, f.gen)
		after.list, after.payload = list, payload
		if act.concurrent && len(list) > 1 {
			f.concurrentPhase(list, payload, true)
		} else {
			f.enter(StageAfter)
			for _, l := range list {
				if l.once {
					if !claim(f.reg, f.name, l, true) {
						continue
					}
				}
				f.listener = l
				var err error
				if fn, ok := typedFn[P](l, typed); ok {
					err = fn(ctx, p)
				} else {
					err = l.fn(ctx, payload)
				}
				if err != nil {
					f.afterErrs = append(f.afterErrs, listenerError(ctx, f.name, StageAfter, l, screen(err)))
				}
			}
		}
	}
	return res, nil
}

// typedFn returns l's own function and true when the invocation is typed
// (see run) and l is a typed listener of P, else false: l is then called
// through fn. (A bool rather than a nil function: the untyped case then
// branches once, 4 instructions less per listener.)
func typedFn[P any](l *listener, typed bool) (func(context.Context, P) error, bool) {
	if !typed {
		return nil, false
	}
	fn, ok := l.typed.(func(context.Context, P) error)
	return fn, ok
}

// invokeObserved is invoke for a registry with an observer: the observer's
// begin comes first, and the lookup (step 1) follows it, unless s is the
// snapshot found already (by an invocation that took a slot of its action's
// bulkhead before it began).
func (f *frame) invokeObserved(payload any, e *entry, s *snapshot) (any, error) {
	if !f.beginSettled(payload) {
		return f.res, f.err
	}
	if s == nil {
		e, s = f.reg.lookupSnap(f.name, e)
	}
	return f.invoke(payload, e, s)
}

// beginSettled shows the invocation's begin to the observer (user code:
// see begin) and reports whether it returned. If the observer's begin calls
// runtime.Goexit, the invocation is settled as invoke would settle it.
func (f *frame) beginSettled(payload any) (began bool) {
	defer func() {
		if !began {
			f.settle()
		}
	}()
	f.begin(payload)
	return true
}

// end, deferred by lifecycle, sees how the lifecycle left and settles the
// invocation. If it did not return, user code panicked or called
// runtime.Goexit (which ends the goroutine: settle reports the stage it was
// in). A panic fails the invocation in the before phase or the body; in the
// after phase it is that listener's failure, and the phase goes on with the
// next. (settle is called, not deferred apart: a second deferred call cost
// a Call 16 instructions in 800.)
func (f *frame) end(after *afterPhase) {
	if f.returned || !f.recovered(recover(), after) {
		f.settle()
	}
}

// recovered is end's for a lifecycle that did not return, where v is what
// end's recover returned. It reports whether it settled the invocation,
// which it does when it goes on with the after phase.
func (f *frame) recovered(v any, after *afterPhase) (settled bool) {
	if v == nil && goexiting() {
		return false
	}
	f.res, f.err = f.panicked(newPanicError(v))
	if !f.inAfter || f.listener == nil {
		f.returned = true
		return false
	}
	// The listeners it goes on with may end the goroutine: settle deferred.
	defer f.settle()
	for f.listener != nil { // f.inAfter stays true
		var p *PanicError
		if f.afterFrom(after.list, after.payload, &p); p == nil {
			break
		}
		f.panicked(p)
	}
	f.returned = true
	return true
}

// afterFrom runs the rest of the after phase after f.listener, whose panic
// the lifecycle's guard recovered, as run runs it (but for typed listeners,
// called through their adapters), and sets *p to the panic that leaves it,
// if one does.
func (f *frame) afterFrom(after []*listener, payload any, p **PanicError) {
	var g guard
	defer g.catch(p)
	rest := after[indexOf(after, f.listener)+1:]
	f.enter(StageAfter)
	ctx := f.ctx
	for _, l := range rest {
		if l.once && !claim(f.reg, f.name, l, true) {
			continue
		}
		f.listener = l
		if err := l.fn(ctx, payload); err != nil {
			f.afterErrs = append(f.afterErrs, listenerError(ctx, f.name, StageAfter, l, screen(err)))
		}
	}
	g.returned = true
}

// panicked returns the invocation's outcome after the panic p left its
// lifecycle: a failure of the before phase or the body; in the after phase,
// the result stands and the panic goes to the error handler.
func (f *frame) panicked(p *PanicError) (any, error) {
	switch {
	case f.inAfter && f.listener != nil:
		f.afterErrs = append(f.afterErrs, listenerError(f.ctx, f.name, StageAfter, f.listener, p))
	case f.inAfter: // not in a listener: nothing to go on with
		f.afterErrs = append(f.afterErrs, stageError(f.ctx, f.name, StageAfter, "", p))
		f.listener = nil
	case f.stage == StageBefore && f.listener != nil:
		return nil, beforeError(f.ctx, f.name, f.listener, p)
	default:
		return nil, stageError(f.ctx, f.name, f.stage, "", p)
	}
	return f.res, nil
}

// goexiting reports, in a deferred call whose recover returned nil, whether
// it runs because of runtime.Goexit rather than a panic: panic(nil) under
// GODEBUG=panicnil=1 recovers as nil too. The nearer of the runtime's two
// functions that run deferred calls tells.
func goexiting() bool {
	var pcs [64]uintptr
	frames := runtime.CallersFrames(pcs[:runtime.Callers(2, pcs[:])])
	for {
		fr, more := frames.Next()
		switch fr.Function {
		case "runtime.Goexit":
			return true
		case "runtime.gopanic":
			return false
		}
		if !more {
			return true
		}
	}
}

// prepare is steps 0 to 5 in full. It returns the action whose body runs and
// the payload the lifecycle goes on with, or a nil action and the
// invocation's outcome when a step ended it.
func (f *frame) prepare(e *entry, s *snapshot, payload any) (act *action, _ any, res any, err error) {
	if act, err = f.find(s); err != nil { // steps 0 and 1
		return nil, nil, nil, err
	}
	if err := f.admit(e, s, act, payload); err != nil { // step 2
		return nil, nil, nil, err
	}
	if len(s.blocks) > 0 { // step 3
		if err := f.checkBlocks(s.blocks, payload); err != nil {
			return nil, nil, nil, err
		}
	}
	if d := s.rule(); d != nil { // step 4
		if ends, res, err := f.dedupe(d, payload); ends {
			return nil, nil, res, err
		}
	}
	if act.update != nil { // step 5
		if payload, err = f.update(act.update, payload); err != nil {
			return nil, nil, nil, err
		}
	}
	f.beginInFlight()
	return act, payload, nil, nil
}

// indexOf returns the index of l in list.
func indexOf(list []*listener, l *listener) int {
	for i, x := range list {
		if x == l {
			return i
		}
	}
	return len(list)
}

// find is steps 0 and 1: a done ctx, the depth limit and a full bulkhead
// fail the invocation before anything runs; then the action, looked up by
// invoke, whose body is the one that runs.
func (f *frame) find(s *snapshot) (*action, error) {
	if f.ctxDone() {
		return nil, stopped(f.name, StageNone, context.Cause(f.ctx))
	}
	if limit := f.reg.maxDepth(); f.depth > limit {
		return nil, depthError(f.name, f.depth, limit)
	}
	if f.slot != nil && f.slot.err != nil {
		return nil, f.slot.err
	}
	if s == nil || s.act == nil {
		return nil, &Error{Action: f.name, Kind: ErrActionNotFound}
	}
	return s.act, nil
}
