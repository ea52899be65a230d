package actions

import (
	"context"
	"slices"
	"time"
)

// Observer sees every invocation begin and end: enough to write logging,
// metrics and tracing adapters without changing the library. Set one with
// [WithObserver].
//
// Every call of InvokeAction, Call or a typed handle's Invoke or Call is
// seen exactly once at begin and once at end, including those rejected
// before any stage runs (unknown action, closed, blocked, pending, ...),
// which end at once with their error, and those that share another's outcome.
// Both methods are called from the invoking goroutine, with no lock held, and
// must be safe for concurrent use. A panic in either is recovered and
// delivered to the error handler; it never changes an invocation's outcome.
type Observer interface {
	// InvocationBegin is called before step 0 of the lifecycle, with the
	// invocation's context: an invocation made with it is nested in this
	// one. The context it returns (derived from ctx) becomes the
	// invocation's context, seen by every stage and by InvocationEnd: a
	// tracing adapter starts a span here. Returning ctx unchanged is fine.
	InvocationBegin(ctx context.Context, inv Invocation) context.Context
	// InvocationEnd is called once the outcome is known, before the future
	// completes.
	InvocationEnd(ctx context.Context, inv Invocation, out Outcome)
}

// InFlightObserver may be implemented by an [Observer] that also wants to see
// the in-flight window of each invocation (Flex's invocationBegin and
// invocationEnd, which Flex UI uses to disable a button while its action
// runs): from the start of the before phase until the future completes.
// Rejected and sharing invocations have no in-flight window.
type InFlightObserver interface {
	InFlightBegin(ctx context.Context, inv Invocation)
	InFlightEnd(ctx context.Context, inv Invocation)
}

// observerSet is the observers of a registry, as one invocation sees them
// from its begin to its end: published whole on every change.
type observerSet struct {
	obs   Observer // what invocations call: the only one, or an observerList
	items []*observerItem
}

// observerItem is one registration of an observer.
type observerItem struct {
	o     Observer
	owner *Plugin // the plugin that added it, if any
}

// AddObserver adds an observer at run time, after those given to [New] with
// [WithObserver] and those added before it, with the same rules of order.
// It sees exactly the invocations that begin after AddObserver returned: an
// invocation calls the observers it began with, from its begin to its end,
// so that one removed meanwhile still sees the end of each invocation whose
// begin it saw, and one added meanwhile sees nothing of it. It returns a
// function that removes exactly this observer, reporting whether it did. A
// nil o panics.
//
// Cost: an invocation pays for observers (see [Registry.Call]) only while
// the registry has one.
func (r *Registry) AddObserver(o Observer) (remove func() bool) {
	if o == nil {
		setupPanic("AddObserver: nil observer")
	}
	item := &observerItem{o: o}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.setObservers(appendCopy(r.observerItems(), item))
	return func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		items, ok := without(r.observerItems(), func(x *observerItem) bool { return x == item })
		r.setObservers(items)
		return ok
	}
}

// observerItems returns the registry's observers; r.mu is held, or r is
// being made by New.
func (r *Registry) observerItems() []*observerItem {
	if set := r.observers.Load(); set != nil {
		return set.items
	}
	return nil
}

// setObservers publishes items as the registry's observers; r.mu is held,
// or r is being made by New.
func (r *Registry) setObservers(items []*observerItem) {
	switch len(items) {
	case 0:
		r.observers.Store(nil)
	case 1:
		r.observers.Store(&observerSet{obs: items[0].o, items: items})
	default:
		list := make([]Observer, len(items))
		for i, x := range items {
			list[i] = x.o
		}
		r.observers.Store(&observerSet{obs: &observerList{reg: r, list: list}, items: items})
	}
}

// observerList is the observer of a registry given several.
type observerList struct {
	reg  *Registry
	list []Observer
}

func (l *observerList) InvocationBegin(ctx context.Context, inv Invocation) context.Context {
	for _, o := range l.list {
		l.reg.observe(ctx, nil, inv.Action, func() {
			if c := o.InvocationBegin(ctx, inv); c != nil {
				ctx = c
			}
		})
	}
	return ctx
}

func (l *observerList) InvocationEnd(ctx context.Context, inv Invocation, out Outcome) {
	for _, o := range slices.Backward(l.list) {
		l.reg.observe(ctx, nil, inv.Action, func() { o.InvocationEnd(ctx, inv, out) })
	}
}

func (l *observerList) InFlightBegin(ctx context.Context, inv Invocation) {
	for _, o := range l.list {
		if f, ok := o.(InFlightObserver); ok {
			l.reg.observe(ctx, nil, inv.Action, func() { f.InFlightBegin(ctx, inv) })
		}
	}
}

func (l *observerList) InFlightEnd(ctx context.Context, inv Invocation) {
	for _, o := range slices.Backward(l.list) {
		if f, ok := o.(InFlightObserver); ok {
			l.reg.observe(ctx, nil, inv.Action, func() { f.InFlightEnd(ctx, inv) })
		}
	}
}

// observe runs one observer method, guarded: a panic is delivered to the
// error handler with ctx, the invocation's, so that the invocation and the
// other observers go on. f, when there is one, is the invocation's frame,
// whose stage a Goexit reports. A Goexit is not reported here: guarded
// returns only when the goroutine goes on.
func (r *Registry) observe(ctx context.Context, f *frame, action string, fn func()) {
	if err := guarded(f, fn); err != nil {
		r.handleError(ctx, fail(action, StageObserver, "", err))
	}
}

// guarded runs an observer method under a guard.
func guarded(f *frame, fn func()) (err error) {
	if f != nil {
		f.enter(StageObserver)
	}
	var g guard
	defer g.recover(&err)
	fn()
	g.returned = true
	return nil
}

// begin shows the invocation to the observer, before step 0, and makes the
// context it returns the stages' context. The observer receives the
// invocation's own nest, so that an invocation it makes is nested in this one.
func (f *frame) begin(payload any) {
	o := f.obs
	o.info = Invocation{Action: f.name, ID: f.reg.ids.Add(1), Depth: f.depth, Payload: payload, Start: time.Now()}
	if f.slot != nil {
		o.info.Waited = f.slot.waited
	}
	if p := f.parent; p != nil && p.reg == f.reg && p.depth == f.depth-1 {
		o.info.ParentID = p.obs.info.ID
	}
	f.reg.observe(f.ctx, f, f.name, func() {
		if c := o.obs.InvocationBegin(f.ctx, o.info); c != nil && c != context.Context(f.ctx) {
			f.ctx = newNest(c, f.reg, f.name, f.depth, f)
		}
	})
}

func (f *frame) observeEnd() {
	o := f.obs
	if o == nil {
		return
	}
	out := Outcome{Result: f.res, Err: f.err, Aborted: isAbort(f.err), Shared: f.shared, AfterErr: f.afterErr(), Duration: time.Since(o.info.Start)}
	f.reg.observe(f.ctx, f, f.name, func() { o.obs.InvocationEnd(f.ctx, o.info, out) })
}

func (f *frame) inFlightBegin() {
	if ifo, ok := f.obs.obs.(InFlightObserver); ok {
		f.reg.observe(f.ctx, f, f.name, func() { ifo.InFlightBegin(f.ctx, f.obs.info) })
	}
}

func (f *frame) inFlightEnd() {
	if ifo, ok := f.obs.obs.(InFlightObserver); ok {
		f.reg.observe(f.ctx, f, f.name, func() { ifo.InFlightEnd(f.ctx, f.obs.info) })
	}
}

// Invocation identifies an invocation to an [Observer].
type Invocation struct {
	// Action is the action's name.
	Action string
	// ID is unique within the registry and never 0.
	ID uint64
	// ParentID is the ID of the invocation whose stage started this one,
	// 0 for a top-level invocation (or a parent in another registry).
	ParentID uint64
	// Depth is 1 for a top-level invocation, the parent's plus 1 otherwise.
	Depth int
	// Payload is the payload as the caller passed it.
	Payload any
	// Start is when the invocation began.
	Start time.Time
	// Waited is how long the invocation waited for a slot of its action's
	// bulkhead before it began (see [Bulkhead]): zero for an action without
	// one and for an invocation that found a slot free. An invocation whose
	// context was done while it waited began then, without a slot, and
	// Waited says how long it had waited. Start minus Waited is when it was
	// invoked.
	Waited time.Duration
}

// Outcome is how an invocation ended, as an [Observer] sees it.
type Outcome struct {
	// Result and Err are what the invocation's future completes with.
	Result any
	Err    error
	// Aborted is true when a before-listener aborted the invocation.
	Aborted bool
	// Shared is true when the invocation shared the outcome of another with
	// the same de-duplication key (see [SharePending]).
	Shared bool
	// AfterErr is what the error handler received for this invocation: the
	// failures of its after-listeners (joined when several), nil when none.
	// The result stood; Err is nil for them.
	AfterErr error
	// Duration is the time from begin to end.
	Duration time.Duration
}
