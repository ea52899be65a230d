package actions

import (
	"context"
	"hash/maphash"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
	"weak"
)

// DefaultMaxDepth is the nesting limit of a registry made without
// [WithMaxDepth]: an invocation nested deeper than this fails with
// [ErrDepthExceeded].
const DefaultMaxDepth = 64

// MaxDepthLimit is the highest nesting limit [WithMaxDepth] accepts. Each
// level of a synchronous invocation uses the library's stack frames plus the
// user's; this cap keeps a runaway recursion at the limit far below the Go
// stack's maximum, so that it fails with [ErrDepthExceeded] rather than
// killing the process.
const MaxDepthLimit = 10_000

// Registry maps action names to their bodies, listeners, replacements and
// blocks. The zero value is ready to use, with the defaults of [New].
//
// A Registry is safe for concurrent use. Invoking takes no lock: every
// invocation reads immutable snapshots published by the writers
// (registering, adding and removing listeners, replacing, blocking), which
// copy what they change under a mutex. Writers never wait for invocations
// and invocations never wait for writers. (An action that de-duplicates
// takes a lock of its own, briefly, to look its key up.) No user code runs
// while the registry holds a lock, so any method may be called from inside
// any stage.
//
// A Registry must not be copied after first use.
type Registry struct {
	cfg config // set by New, read-only after

	// entries maps a name to its entry: the *entry while something is
	// registered under the name (so that listeners, replacements and blocks
	// outlive an unregistration), else a weak.Pointer[entry]. An entry with
	// nothing registered is kept alive only by those who use it (invocations
	// in progress, typed handles), so that a name with nothing left on it
	// costs nothing: once the entry is collected, a cleanup removes its name.
	// There is at most one live entry per name. Invoking an unknown name
	// does not create one.
	entries sync.Map
	// held is a hash table of the entries that entries holds itself, for
	// the lookup of an invocation: a hash and a comparison of the name,
	// where entries costs an interface hash and a walk of its trie. Changed
	// under mu where an entry becomes held or stops being held, read without
	// a lock; nil until something is registered.
	held atomic.Pointer[heldTable]

	mu sync.Mutex // serialises writers; guards drained and entries' snapshots on write
	// drained is closed once Close has begun and running reached zero; wake
	// tells a waiting Close that an invocation was released. Both are made
	// by the first Close, before closed is set, and read only after it is.
	drained     chan struct{}
	wake        chan struct{}
	drainClosed bool
	plugins     map[string]*installation // installed plugins by name, guarded by mu

	// observers is what invocations observe, nil for none; replaced whole
	// under mu (see AddObserver).
	observers atomic.Pointer[observerSet]

	ids      atomic.Uint64 // invocation IDs, handed out only when an observer is set
	closed   atomic.Bool   // set by Close
	stopping atomic.Bool   // set by Stop once stop is cancelled
	stop     atomic.Pointer[stopper]
	// spawned counts the invocations InvokeAction admitted whose goroutine
	// has not reached step 2 yet: Close waits for them too.
	spawned atomic.Int64
}

type config struct {
	errorHandler func(context.Context, error)
	observers    []Observer // as given to WithObserver
	maxDepth     int
	concurrent   bool
}

// Option configures a [Registry] made by [New].
type Option func(*config)

// New returns a registry configured by opts. Without options it is the same
// as a zero Registry.
func New(opts ...Option) *Registry {
	r := &Registry{}
	for _, o := range opts {
		o(&r.cfg)
	}
	var items []*observerItem
	for _, o := range r.cfg.observers {
		items = append(items, &observerItem{o: o})
	}
	r.setObservers(items)
	return r
}

// WithErrorHandler sets the function that receives errors no caller can
// receive: the failures of after-listeners (the result stood) and the panics
// of observers (see "Aborting and errors" in the package documentation),
// one call per invocation, several joined with [errors.Join]. ctx is the
// invocation's: [InvocationFrom] gives its action, depth and, with an
// observer, its ID and parent, and a trace-aware handler finds its span
// there. It is called from the invocation's goroutine before the
// invocation's future completes, and must be safe for concurrent use. A
// panic in it is recovered and logged.
//
// The default logs each error with [slog.Default] at level Error, one record
// per error, with the invocation's and the error's details as attributes.
func WithErrorHandler(h func(ctx context.Context, err error)) Option {
	if h == nil {
		setupPanic("WithErrorHandler: nil handler")
	}
	return func(c *config) { c.errorHandler = h }
}

// WithObserver adds an observer that sees every invocation begin and end
// (see [Observer]); [Registry.AddObserver] adds one at run time. The default
// is none, which costs nothing. Given more than once, every observer sees
// every invocation: begins in the order the observers were given, each one's
// context feeding the next, and ends (and the in-flight window, for those
// that implement [InFlightObserver]) in reverse order, as deferred calls
// unwind. A panic in one is delivered to the error handler and does not keep
// the others from being called.
func WithObserver(o Observer) Option {
	if o == nil {
		setupPanic("WithObserver: nil observer")
	}
	return func(c *config) { c.observers = append(c.observers, o) }
}

// WithMaxDepth sets the nesting limit: a top-level invocation has depth 1,
// one made with the ctx a stage (or the observer) received has its parent's
// depth plus one, and an invocation deeper than n fails with
// [ErrDepthExceeded]. The default is [DefaultMaxDepth]. n < 1 or n >
// [MaxDepthLimit] panics.
func WithMaxDepth(n int) Option {
	if n < 1 || n > MaxDepthLimit {
		setupPanic("WithMaxDepth: limit %d outside 1..%d", n, MaxDepthLimit)
	}
	return func(c *config) { c.maxDepth = n }
}

// WithConcurrentPhases makes the listeners of every action run concurrently
// within each phase, unless the action says otherwise with [Concurrent]. The
// default is sequential phases.
func WithConcurrentPhases() Option {
	return func(c *config) { c.concurrent = true }
}

func (r *Registry) maxDepth() int {
	if r.cfg.maxDepth > 0 {
		return r.cfg.maxDepth
	}
	return DefaultMaxDepth
}

// handleError delivers err, an error of the invocation whose context is
// ctx, to the error handler, guarded: a panic in it is logged; after a
// Goexit in it the rest of the settle still runs (see frame.settle), and
// nothing is logged, since callHandler does not return.
func (r *Registry) handleError(ctx context.Context, err error) {
	if herr := r.callHandler(ctx, err); herr != nil {
		slog.Default().LogAttrs(ctx, slog.LevelError, "actions: error handler panicked",
			slog.String("panic", errorString(herr)), slog.String("err", errorString(err)))
	}
}

func (r *Registry) callHandler(ctx context.Context, err error) (herr error) {
	var g guard
	defer g.recover(&herr)
	if h := r.cfg.errorHandler; h != nil {
		h(ctx, err)
	} else {
		logErrors(ctx, err)
	}
	g.returned = true
	return nil
}

// entry is everything registered under one name.
type entry struct {
	name string
	// snap is the current registration; writers replace it whole under
	// Registry.mu, invocations load it without a lock.
	snap atomic.Pointer[snapshot]
	// running counts the admitted invocations (past step 2, not yet
	// complete: Close waits for them), inflight those in their in-flight
	// window. An invocation whose two windows cannot be told apart (see
	// frame.both) counts in both at once, with one add at each end instead
	// of two: atomic adds were half the cost of a bare invocation.
	running, inflight, both counter

	dmu     sync.Mutex         // guards pending
	pending map[string]*flight // de-duplication: in-flight invocation by key

	// background and todo are the nests of the action's top-level
	// invocations over context.Background and context.TODO (see frameless).
	background, todo nest

	weak weak.Pointer[entry] // to itself, what entries holds while held is false
	held bool                // entries holds the entry itself; guarded by Registry.mu
}

// snapshot is immutable once published: writers build a new one.
type snapshot struct {
	// gen counts the publications of the name: each new snapshot has its
	// predecessor's gen plus one, and a plugin's listener or replacement
	// records the gen of the snapshot that installed it (see pinned).
	gen          uint64
	act          *action // nil while the name is not registered
	before       []*listener
	after        []*listener
	replacements []*replacement // bottom (oldest) first
	blocks       []*block
	dedupes      []*dedupeRule // attached at run time, oldest first (see snapshot.rule)
	// plain: the action is registered and has no bulkhead and nothing to
	// do at steps 3 to 5 (no block, de-duplication or payload update), so
	// that a Call admits it in one go (see run). Set by
	// publishLocked.
	plain bool
}

// empty reports whether nothing is registered under the name.
func (s *snapshot) empty() bool {
	return s.act == nil && len(s.before) == 0 && len(s.after) == 0 && len(s.replacements) == 0 && len(s.blocks) == 0 && len(s.dedupes) == 0
}

// lookup returns the entry of name, or nil.
func (r *Registry) lookup(name string) *entry {
	if t := r.held.Load(); t != nil {
		if e := t.find(name); e != nil {
			return e
		}
	}
	v, ok := r.entries.Load(name)
	if !ok {
		return nil
	}
	return entryOf(v)
}

// entryOf returns the entry a value of entries stands for, nil if it was
// collected.
func entryOf(v any) *entry {
	if e, ok := v.(*entry); ok {
		return e
	}
	return v.(weak.Pointer[entry]).Value()
}

// write applies f to a copy of name's snapshot and publishes the result,
// creating the entry if needed. f runs under r.mu: it must not call user code
// and must replace, never modify, the slices it changes. It reports whether f
// changed anything; when it did not, nothing is published.
func (r *Registry) write(name string, f func(s *snapshot) bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.entryLocked(name)
	s := *e.snap.Load()
	s.gen++
	if !f(&s) {
		return false
	}
	r.publishLocked(name, e, &s)
	return true
}

// publishLocked makes s the snapshot of e, name's entry; r.mu is held.
func (r *Registry) publishLocked(name string, e *entry, s *snapshot) {
	s.plain = s.act != nil && s.act.bulk == nil && len(s.blocks) == 0 && s.rule() == nil && s.act.update == nil
	e.snap.Store(s)
	if held := !s.empty(); held != e.held { // the registry holds what is registered
		e.held = held
		if held {
			r.entries.Store(name, e)
			r.held.Store(r.held.Load().with(e))
		} else {
			r.entries.Store(name, e.weak)
			r.held.Load().without(e)
		}
	}
}

// heldTable is an open-addressing hash table of entries by name, at most
// half full, so that a lookup probes a slot or two. It is changed in place
// only by filling an empty slot or marking a filled one removed, which a
// reader sees done or not; growing makes a new table.
//
// Before hashing, find looks in byData, where each entry is found by where
// its name's bytes are: a caller that invokes with the string the name was
// registered with (the same constant, say) finds its entry without hashing
// the name. The entry keeps those bytes alive, so no other string can be
// there: the same address and length are the same name. Two names at one
// index share it, the last put winning; the other is found by its hash.
type heldTable struct {
	slots  []atomic.Pointer[entry] // a power of two of them
	byData []atomic.Pointer[entry] // as many, by dataIndex
	n      int                     // filled slots, removed ones too; guarded by Registry.mu
}

// removed fills the slot of an entry no longer held: a probe goes on past it.
var removed = new(entry)

// heldSeed seeds the hash of heldTable.
var heldSeed = maphash.MakeSeed()

// find returns the entry of name, nil if the table has none.
func (t *heldTable) find(name string) *entry {
	mask := uint64(len(t.slots) - 1)
	if e := t.byData[dataIndex(name, mask)].Load(); e != nil && unsafe.StringData(e.name) == unsafe.StringData(name) && len(e.name) == len(name) {
		return e
	}
	for i := maphash.String(heldSeed, name) & mask; ; i = (i + 1) & mask {
		switch e := t.slots[i].Load(); {
		case e == nil:
			return nil
		case e.name == name && e != removed:
			return e
		}
	}
}

// with returns t with e, which it does not hold: t itself, or a new table,
// at most a quarter full, when t (nil for none) would be more than half full
// (removed slots included: they go with the copy).
func (t *heldTable) with(e *entry) *heldTable {
	if t == nil || 2*(t.n+1) > len(t.slots) {
		var live []*entry
		if t != nil {
			for i := range t.slots {
				if x := t.slots[i].Load(); x != nil && x != removed {
					live = append(live, x)
				}
			}
		}
		size := 64
		for 4*(len(live)+1) > size {
			size *= 2
		}
		t = &heldTable{slots: make([]atomic.Pointer[entry], size), byData: make([]atomic.Pointer[entry], size)}
		for _, x := range live {
			t.put(x)
		}
	}
	t.put(e)
	return t
}

// without marks e's slot removed.
func (t *heldTable) without(e *entry) {
	mask := uint64(len(t.slots) - 1)
	i := maphash.String(heldSeed, e.name) & mask
	for t.slots[i].Load() != e {
		i = (i + 1) & mask
	}
	t.slots[i].Store(removed)
	t.byData[dataIndex(e.name, mask)].CompareAndSwap(e, nil)
}

// dataIndex returns the index of byData for name: a hash of the address of
// its bytes, which differs from string to string but for substrings.
func dataIndex(name string, mask uint64) uint64 {
	return uint64(uintptr(unsafe.Pointer(unsafe.StringData(name)))) * 0x9E3779B97F4A7C15 >> 32 & mask
}

// put fills the first empty slot from the hash of e's name.
func (t *heldTable) put(e *entry) {
	mask := uint64(len(t.slots) - 1)
	i := maphash.String(heldSeed, e.name) & mask
	for t.slots[i].Load() != nil {
		i = (i + 1) & mask
	}
	t.slots[i].Store(e)
	t.byData[dataIndex(e.name, mask)].Store(e)
	t.n++
}

// entryLocked returns name's entry, creating it; r.mu must be held. A new
// entry is held weakly until something is registered in it.
func (r *Registry) entryLocked(name string) *entry {
	e := r.lookup(name)
	if e == nil {
		e = &entry{name: name, background: topNest(context.Background(), r, name), todo: topNest(context.TODO(), r, name)}
		e.snap.Store(&snapshot{})
		e.weak = weak.Make(e)
		r.entries.Store(name, e.weak)
		runtime.AddCleanup(e, forget, forgetArgs{reg: weak.Make(r), name: name, entry: e.weak})
	}
	return e
}

// forgetArgs says which name of which registry a collected entry had.
type forgetArgs struct {
	reg   weak.Pointer[Registry]
	name  string
	entry weak.Pointer[entry]
}

// forget removes the name of a collected entry, unless a new entry has taken
// it since.
func forget(a forgetArgs) {
	if r := a.reg.Value(); r != nil {
		r.entries.CompareAndDelete(a.name, a.entry)
	}
}

// entry returns name's entry, creating it: for typed handles, which keep it
// so that their invocations skip the lookup by name.
func (r *Registry) entry(name string) *entry {
	if e := r.lookup(name); e != nil {
		return e
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.entryLocked(name)
}

// attach appends x to the list of name's snapshot that list points into, and
// returns the undo that removes exactly x, reporting whether it did.
func attach[T comparable](r *Registry, name string, list func(*snapshot) *[]T, x T) (remove func() bool) {
	r.write(name, func(s *snapshot) bool {
		*list(s) = appendCopy(*list(s), x)
		return true
	})
	return func() bool {
		return r.write(name, func(s *snapshot) bool {
			var ok bool
			*list(s), ok = without(*list(s), func(y T) bool { return y == x })
			return ok
		})
	}
}

// appendCopy returns a new list: list with x at the end. Snapshots' lists
// are shared by the invocations reading them, so never appended to in place.
func appendCopy[T any](list []T, x T) []T {
	return append(list[:len(list):len(list)], x)
}

// keep returns list without the elements ok rejects: list itself when it
// keeps them all, else a new list.
func keep[T any](list []T, ok func(T) bool) []T {
	for i, x := range list {
		if !ok(x) {
			out := append(make([]T, 0, len(list)-1), list[:i]...)
			for _, x := range list[i+1:] {
				if ok(x) {
					out = append(out, x)
				}
			}
			return out
		}
	}
	return list
}

// without returns a copy of list without the element for which match is
// true, and whether there was one.
func without[T any](list []T, match func(T) bool) ([]T, bool) {
	for i, x := range list {
		if match(x) {
			out := make([]T, 0, len(list)-1)
			out = append(out, list[:i]...)
			return append(out, list[i+1:]...), true
		}
	}
	return list, false
}

// InFlight returns the number of invocations of the action that are in
// flight: past the payload update and not yet complete. Invocations that
// share another's outcome (see [Deduplicate]) are not counted. Under
// concurrent invocations the count is one that held at some moment of the
// call: never more than were in flight together, never fewer than were in
// flight throughout the call.
func (r *Registry) InFlight(name string) int {
	if e := r.lookup(name); e != nil {
		return int(lower(&e.inflight, &e.both))
	}
	return 0
}
