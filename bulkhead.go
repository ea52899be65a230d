package actions

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"time"
)

// Bulkhead bounds the action's execution: at most limit of its invocations
// run at once, each holding a slot from before it begins until its outcome
// is settled; the others wait for a slot in line, first come first served,
// at most queue of them; an invocation that finds the line full fails at
// once with [ErrBusy]. A waiting invocation whose ctx is done leaves the line
// and fails with [context.Cause] of ctx, without taking a slot. A nested
// invocation that finds no slot free while one of its ancestors holds a
// slot of the same bulkhead fails with ErrBusy at once rather than wait for
// itself. See "Bounded execution" in the package documentation.
//
// An [Registry.InvokeAction] that waits holds no goroutine: it is a record
// in the line until a slot is handed to it, and only then does its goroutine
// start. [Registry.Call] waits in the same line, in its caller's goroutine.
//
// Each registration made with the option has a bulkhead of its own: the
// same option given to two actions bounds each separately.
//
// Without the option an action is unbounded, and costs nothing more. With
// it, an invocation that finds a slot free costs a lock and three
// allocations (its claim on the line, its frame on the heap, where its
// descendants find the slot it holds, and the frame's context): about
// 400 ns more than a Call of the same action without it on a 2-core server
// (BenchmarkBulkhead), noise next to the work a bulkhead is for; one that
// waits costs a context.AfterFunc registration too (InvokeAction) or a
// channel (Call).
//
// limit < 1 or queue < 0 panics.
func Bulkhead(limit, queue int) ActionOption {
	if limit < 1 {
		setupPanic("Bulkhead: limit %d, want at least 1", limit)
	}
	if queue < 0 {
		setupPanic("Bulkhead: queue %d, want at least 0", queue)
	}
	return func(a *action) { a.bulk = &bulkhead{limit: limit, queue: queue} }
}

// bulkhead is a counting semaphore whose waiters are records, not blocked
// goroutines. golang.org/x/sync/semaphore's Weighted is the standard one, but
// its Acquire blocks the goroutine that calls it: an InvokeAction waiting
// there would hold a goroutine and its stack for as long as it waits. Here an
// InvokeAction that must wait leaves a ticket in the line and returns its
// future; the invocation that releases a slot hands it to the first ticket
// and starts that ticket's goroutine. A ticket whose ctx ends first is taken
// out of the line by a context.AfterFunc, whose stop is called when the
// ticket is handed a slot. Only Call, which owns its caller's goroutine
// anyway, blocks while it waits.
//
// A slot is never free while a ticket waits: release hands it on under mu,
// so that nothing arriving later overtakes the line.
type bulkhead struct {
	limit, queue int // as given to Bulkhead

	mu          sync.Mutex // guards taken, the line and the queued, prev, next and stop of its tickets
	taken       int        // slots held
	waiting     int        // tickets in the line
	first, last *ticket    // the line, oldest first
}

// ticket is one invocation's claim on its action's bulkhead, from the call
// until the invocation's settle releases its slot. It holds what starting
// the invocation takes, so that an InvokeAction waiting in the line needs no
// goroutine.
type ticket struct {
	b *bulkhead
	// held: the ticket holds a slot, from when it took one or was handed
	// one until its invocation's settle. Descendants read it (see
	// ancestorHolds).
	held atomic.Bool
	// err is ErrBusy when the bulkhead had no room for the ticket; its
	// invocation then fails at step 0.
	err *Error
	// since is when the ticket joined the line; waited is how long it
	// waited, set when it left the line. Both are written before the
	// invocation starts and read only by it.
	since  time.Time
	waited time.Duration

	// The invocation.
	reg     *Registry
	ctx     context.Context
	parent  *nest
	name    string
	e       *entry
	s       *snapshot // the snapshot whose action's bulkhead this is: its body runs
	payload any
	out     *outcome     // the future, nil for Call
	sig     reflect.Type // a typed handle's signature (see action.sig)

	// In the line, guarded by b.mu.
	queued     bool
	prev, next *ticket
	stop       func() bool   // an InvokeAction's watch on its ctx (see watchDone)
	ready      chan struct{} // a Call's: closed when it is handed a slot
}

// spawnBounded is spawn for an action with a bulkhead: the invocation takes a
// slot and its goroutine starts, or it fails to and its goroutine starts to
// fail it, or it waits in the line without a goroutine until it is handed a
// slot (release) or its ctx is done (watchDone), whichever comes first, and
// its goroutine starts then. In every case the invocation runs the lifecycle
// once, so that the observer sees it begin and end once.
func (r *Registry) spawnBounded(ctx context.Context, name string, e *entry, s *snapshot, payload any, out *outcome, sig reflect.Type) {
	parent := parentNest(ctx)
	if parent != nil && parent.depth > r.maxDepth() {
		r.beyondLimit(name, parent.depth+1, out)
		return
	}
	t := &ticket{b: s.act.bulk, reg: r, ctx: ctx, parent: parent, name: name, e: e, s: s, payload: payload, out: out, sig: sig}
	if !t.b.take(t, false) {
		go t.run()
		return
	}
	stop := watchDone(ctx, func() {
		if t.b.leave(t) {
			t.run()
		}
	})
	t.b.mu.Lock()
	if t.queued {
		t.stop, stop = stop, nil
	}
	t.b.mu.Unlock()
	if stop != nil { // handed a slot already: its ctx no longer matters
		stop()
	}
}

// invokeBounded is invoke for an action with a bulkhead, whose entry is e, in
// the invoking goroutine: a Call, or the goroutine of an InvokeAction that
// found no bulkhead when it was called (the action was registered since). It
// waits for a slot, then runs the invocation. An invocation that the closed
// registry will refuse at step 2 takes no slot.
//
// It takes few arguments, and reads the snapshot again, so that invoke
// passes them all in registers: a few more words on invoke's frame would
// make every InvokeAction's goroutine outgrow its first stack.
func (r *Registry) invokeBounded(ctx context.Context, e *entry, payload any, out *outcome, sig reflect.Type) (any, error) {
	s := e.snap.Load()
	if s.act == nil || s.act.bulk == nil { // unregistered since invoke looked
		return invokeAs[any](r, ctx, e.name, e, payload, out, sig)
	}
	t := &ticket{b: s.act.bulk, reg: r, ctx: ctx, parent: parentNest(ctx), name: e.name, e: e, s: s, payload: payload, out: out, sig: sig}
	refused := r.closed.Load()
	if out != nil {
		refused = out.closedAtCall
	}
	if !refused && t.b.take(t, true) {
		t.await()
	}
	return t.run()
}

// take gives t a free slot, or puts it in the line (with a channel to wait
// on when ready is true), or, when there is no room or an ancestor of the
// invocation holds a slot, sets t.err. It reports whether t is in the line.
func (b *bulkhead) take(t *ticket, ready bool) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.taken < b.limit:
		b.taken++
		t.held.Store(true)
		return false
	case t.ancestorHolds():
		t.err = &Error{Action: t.name, Kind: ErrBusy, Err: fmt.Errorf("limit %d, a slot held by an ancestor of this invocation, which would wait for itself", b.limit)}
		return false
	case b.waiting >= b.queue:
		t.err = &Error{Action: t.name, Kind: ErrBusy, Err: fmt.Errorf("limit %d, queue %d, all taken", b.limit, b.queue)}
		return false
	}
	t.since = time.Now()
	if ready {
		t.ready = make(chan struct{})
	}
	t.queued, t.prev = true, b.last
	if b.last != nil {
		b.last.next = t
	} else {
		b.first = t
	}
	b.last = t
	b.waiting++
	return true
}

// ancestorHolds reports whether an ancestor of t's invocation still holds a
// slot of t's bulkhead. Every invocation with a bulkhead has its frame on the
// heap, where its descendants' nests find it.
func (t *ticket) ancestorHolds() bool {
	if t.parent == nil {
		return false
	}
	for p := t.parent.frame; p != nil; p = p.parent {
		if p.slot != nil && p.slot.b == t.b && p.slot.held.Load() {
			return true
		}
	}
	return false
}

// unlink takes t out of the line; b.mu must be held.
func (b *bulkhead) unlink(t *ticket) {
	if t.prev != nil {
		t.prev.next = t.next
	} else {
		b.first = t.next
	}
	if t.next != nil {
		t.next.prev = t.prev
	} else {
		b.last = t.prev
	}
	t.queued, t.prev, t.next = false, nil, nil
	b.waiting--
}

// leave takes t out of the line because its ctx is done, and reports whether
// it was there; if not, it has been handed a slot.
func (b *bulkhead) leave(t *ticket) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !t.queued {
		return false
	}
	b.unlink(t)
	t.waited = time.Since(t.since)
	return true
}

// release ends a slot: the first ticket in the line is handed it, or it is
// free.
func (b *bulkhead) release() {
	b.mu.Lock()
	t := b.first
	if t == nil {
		b.taken--
		b.mu.Unlock()
		return
	}
	b.unlink(t)
	stop := t.stop
	b.mu.Unlock()
	t.waited = time.Since(t.since)
	t.held.Store(true)
	if t.ready != nil {
		close(t.ready) // a Call: it runs in its own goroutine
		return
	}
	if stop != nil {
		stop()
	}
	go t.run()
}

// await waits in the line until t is handed a slot or its ctx is done, in
// which case it leaves the line without one.
func (t *ticket) await() {
	select {
	case <-t.ready:
		return
	case <-t.ctx.Done():
	}
	if !t.b.leave(t) {
		<-t.ready // handed a slot meanwhile: release is closing ready
	}
}

// run runs the ticket's invocation, in a frame on the heap so that its
// descendants can see the slot it holds (see ancestorHolds). Without a
// slot (the line was full, or the ticket left it) step 0 fails it.
func (t *ticket) run() (any, error) {
	r := t.reg
	if set := r.observers.Load(); set != nil {
		o := &observedFrame{observation: observation{obs: set.obs}}
		r.initHeapFrame(&o.frame, t.ctx, t.name, t.parent, t.out)
		o.frame.obs, o.frame.sig, o.frame.slot = &o.observation, t.sig, t
		return o.frame.invokeObserved(t.payload, t.e, t.s)
	}
	f := r.heapFrame(t.ctx, t.name, t.parent, t.out)
	f.sig, f.slot = t.sig, t
	return f.invoke(t.payload, t.e, t.s)
}

// freeSlot hands the invocation's slot on, in its settle, before its future
// completes.
func (f *frame) freeSlot() {
	if t := f.slot; t != nil && t.held.Load() {
		t.held.Store(false)
		t.b.release()
	}
}

// watchDone calls fn in a goroutine of its own once ctx is done, as
// context.AfterFunc does, and returns the stop. A stage's ctx (a nest) is
// watched through the caller's context under it: the nest is not a context
// that AfterFunc can watch without a goroutine of its own, and a waiting
// InvokeAction must hold none. The registry's stop is not watched: Stop
// cancels the invocations that hold slots, and those waiting are handed the
// slots in turn and fail at step 0.
func watchDone(ctx context.Context, fn func()) (stop func() bool) {
	if n, ok := ctx.(*nest); ok {
		ctx = n.inner
	}
	return context.AfterFunc(ctx, fn)
}

// Waiting returns the number of invocations of the action registered under
// name that wait in line for a slot of its bulkhead (see [Bulkhead]); 0 when
// the action has none. [Registry.InFlight] counts only those that run.
func (r *Registry) Waiting(name string) int {
	if e := r.lookup(name); e != nil {
		if a := e.snap.Load().act; a != nil && a.bulk != nil {
			a.bulk.mu.Lock()
			defer a.bulk.mu.Unlock()
			return a.bulk.waiting
		}
	}
	return 0
}
