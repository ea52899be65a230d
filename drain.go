package actions

import (
	"context"
	"reflect"
)

// Admission and drain: an invocation is admitted (counted as running) at
// step 2 of the lifecycle unless the registry is closed, and released when it
// completes; Close waits until nothing admitted runs. Admission and release
// cost an atomic add each on the action's counter and nothing that depends on
// the number of actions; only a waiting Close sums every action's counter.

// Close stops new invocations, which fail with [ErrClosed], and waits until
// the invocations already admitted have completed, or until ctx is done, in
// which case it returns [context.Cause] of ctx and those invocations go on.
// An invocation whose InvokeAction returned before Close began is admitted,
// even if its goroutine had not started yet. Invocations that running ones
// start after Close began fail with ErrClosed. Close may be called more than
// once; every call waits in the same way. Registering and adding listeners
// still work on a closed registry, for symmetry with removal, but nothing can
// be invoked.
//
// Called from inside a stage (or an observer) with the ctx it received, or a
// context derived from it, Close stops new invocations and returns nil at
// once without waiting: an invocation cannot wait for its own end. Call Close
// from outside the registry's invocations to wait for the drain; a ctx kept
// from a stage after its invocation ended still counts as inside.
//
// A nil ctx panics, before anything changes.
func (r *Registry) Close(ctx context.Context) error {
	if ctx == nil {
		setupPanic("Close: nil context")
	}
	r.mu.Lock()
	if r.drained == nil {
		r.drained = make(chan struct{})
		r.wake = make(chan struct{}, 1)
	}
	drained := r.drained
	r.mu.Unlock()
	r.closed.Store(true)
	if r.inside(ctx) {
		return nil
	}
	for {
		if r.running() == 0 {
			r.signalDrained()
			return nil
		}
		select { // drained first: an idle registry closes even with a done ctx
		case <-drained:
			return nil
		default:
		}
		select {
		case <-drained:
			return nil
		case <-r.wake: // a release since the sum: sum again
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

// Stop is [Registry.Close] for a service that must shut down in bounded
// time, as http.Server's Close is to its Shutdown: it stops new invocations,
// cancels the context of every invocation in flight (its stages see
// ctx.Done() closed, and context.Cause(ctx) matches [ErrClosed]), then waits
// until they have completed, or until ctx is done, in which case it returns
// [context.Cause] of ctx. Stages that honour their context end at their next
// look at it; an invocation cancelled this way ends as cancelled (see
// "Aborting and errors" in the package documentation). Typically Stop
// follows a Close whose graceful wait ran out:
//
//	if err := reg.Close(graceful); err != nil {
//		err = reg.Stop(hard)
//	}
//
// Stop may be called more than once, and after Close; from inside a stage it
// returns at once, as Close does. A nil ctx panics, before anything changes.
func (r *Registry) Stop(ctx context.Context) error {
	if ctx == nil {
		setupPanic("Stop: nil context")
	}
	s := r.stopper()
	// The flag first: a stage woken by the cancel must find its context's
	// cause (see nest.Value).
	r.stopping.Store(true)
	s.cancel(ErrClosed)
	return r.Close(ctx)
}

// stopper is the registry's stop: a context that Stop cancels, on which the
// stages' contexts depend (see nest.merged).
type stopper struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
}

func (r *Registry) stopper() *stopper {
	if s := r.stop.Load(); s != nil {
		return s
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	if r.stop.CompareAndSwap(nil, &stopper{ctx, cancel}) {
		return r.stop.Load()
	}
	cancel(nil)
	return r.stop.Load()
}

func (r *Registry) stopContext() context.Context { return r.stopper().ctx }

// admit counts an invocation as running in c (e.running or e.both), or
// reports that the registry is closed. The order (count, then check) pairs
// with Close's (mark, then sum the counts): either the invocation sees the
// mark, or Close sees the count and the invocation's release wakes it.
func (r *Registry) admit(c *counter, hint uintptr) bool {
	c.inc(hint)
	if r.closed.Load() {
		r.release(c, hint)
		return false
	}
	return true
}

// release ends what admit counted, and wakes a waiting Close.
func (r *Registry) release(c *counter, hint uintptr) {
	c.dec(hint)
	if r.closed.Load() {
		r.wakeClose()
	}
}

// wakeClose tells a waiting Close to sum again; it never blocks.
func (r *Registry) wakeClose() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// running returns at least the number of admitted invocations of every
// action that have not completed: ends are read before starts, and spawned
// between them, since an invocation leaves spawned only after it has counted
// its start.
func (r *Registry) running() int64 {
	var n int64
	r.eachEntry(func(e *entry) { n -= e.running.ends() + e.both.ends() })
	n += r.spawned.Load()
	r.eachEntry(func(e *entry) { n += e.running.starts() + e.both.starts() })
	return n
}

// eachEntry calls fn with every live entry. An entry that invocations use is
// live: they hold it.
func (r *Registry) eachEntry(fn func(*entry)) {
	r.entries.Range(func(_, v any) bool {
		if e := entryOf(v); e != nil {
			fn(e)
		}
		return true
	})
}

// spawn starts an InvokeAction's goroutine. Whether the registry was closed
// is decided here, when InvokeAction is called, so that Close waits for (and
// lets run) every invocation whose InvokeAction returned before Close began.
// An action with a bulkhead takes its slot here, or leaves the invocation
// waiting for one without a goroutine (see spawnBounded).
func (r *Registry) spawn(ctx context.Context, name string, e *entry, payload any, sig reflect.Type) *outcome {
	o := newOutcome(name)
	r.spawned.Add(1)
	if r.closed.Load() {
		o.closedAtCall = true
		r.unspawn()
	}
	e, s := r.lookupSnap(name, e)
	if s != nil && s.act != nil && s.act.bulk != nil && !o.closedAtCall {
		r.spawnBounded(ctx, name, e, s, payload, o, sig)
		return o
	}
	go r.invoke(ctx, name, e, payload, o, sig)
	return o
}

// unspawn ends what spawn counted, once the invocation has counted in its
// entry or failed before step 2.
func (r *Registry) unspawn() {
	r.spawned.Add(-1)
	if r.closed.Load() {
		r.wakeClose()
	}
}

// signalDrained closes the drain's channel, once.
func (r *Registry) signalDrained() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.drainClosed {
		r.drainClosed = true
		close(r.drained)
	}
}

// admit is step 2: a closed registry fails the invocation, else it is
// admitted. A typed action's payload type check is library code without
// effects: made first, it lets a typed invocation count in ent.both; its
// failure is still reported after a closed registry's.
func (f *frame) admit(e *entry, s *snapshot, act *action, payload any) error {
	f.ent, f.gen = e, s.gen
	var typeErr error
	if !f.typesFit(act) {
		typeErr = act.check(payload)
	}
	f.both = f.out == nil && f.obs == nil && typeErr == nil && len(s.blocks) == 0 && s.rule() == nil && act.update == nil
	switch {
	case f.out != nil && f.out.closedAtCall:
		return &Error{Action: f.name, Kind: ErrClosed}
	case f.spawned: // admitted by InvokeAction, even if Close has begun since
		f.counter().inc(f.hint())
		f.spawned = false
		f.reg.unspawn()
	case !f.reg.admit(f.counter(), f.hint()):
		return &Error{Action: f.name, Kind: ErrClosed}
	}
	f.admitted = true
	if typeErr != nil {
		return &Error{Action: f.name, Kind: ErrPayloadType, Err: typeErr}
	}
	if f.sig != nil && !f.typesFit(act) {
		return resultMisfit(f.name, act, f.sig.Out(0))
	}
	return nil
}

// typesFit reports whether the invocation's payload and wanted result fit
// the action's types without a closer look: always for an untyped action,
// and for a typed handle of the typed action's signature (P and R), whose
// payload is a P and which wants an R. Else admit checks the payload (and
// for a handle, that the action's results fit its R).
func (f *frame) typesFit(act *action) bool {
	return act.check == nil || f.sig != nil && f.sig == act.sig
}
