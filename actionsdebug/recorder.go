package actionsdebug

import (
	"cmp"
	"container/list"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/go-actions/actions"
)

// Defaults of a [Recorder].
const (
	// DefaultHistorySize is how many invocations of each action a recorder
	// keeps by default (see [HistorySize]).
	DefaultHistorySize = 32
	// DefaultSlowWindow is how far back the slowest invocations of each
	// action are looked for by default (see [SlowWindow]).
	DefaultSlowWindow = time.Minute
	// DefaultMaxActions is how many action names a recorder keeps a history
	// for by default (see [MaxActions]).
	DefaultMaxActions = 1024
	// Slowest is how many of the slowest invocations of each action within
	// the slow window a recorder keeps.
	Slowest = 5
)

// slowSlots is how many sub-windows the slow window is cut into. Each keeps
// its own slowest invocations, so that the slowest of the window are exact
// and the window slides by a sixth of itself.
const slowSlots = 6

// Recorder is an [actions.Observer] that keeps, for each action, the last
// invocations, the slowest of the recent ones, and counts by status and by
// latency, for the page [Handler] serves ([WithRecorder]). Pass it to the
// registry with [actions.WithObserver].
//
// Its memory is bounded whatever the load: at most [MaxActions] names, each
// with at most [HistorySize] recent invocations and [Slowest] slow ones per
// sixth of the [SlowWindow], each with its messages truncated to
// [MaxMessageRunes] runes and its payload, when kept at all, to
// [MaxPayloadRunes]. When a new name comes while the recorder is full, the
// name whose last invocation ended longest ago is forgotten.
//
// A Recorder is safe for concurrent use. The zero value records with the
// defaults. Recording costs, per invocation end, formatting the error when
// there is one (and the payload with [ShowPayloads]), then one mutex held
// for a map lookup and a few copies; InvocationBegin does nothing.
type Recorder struct {
	// Set by NewRecorder, read-only afterwards.
	size       int
	window     time.Duration
	maxActions int
	payloads   bool

	mu      sync.Mutex          // protects the fields below and every history
	byName  map[string]*history // the histories, by action name
	lru     list.List           // of *history, the most recently recorded first
	evicted uint64              // names forgotten to make room for others
}

// RecorderOption configures a [Recorder] made by [NewRecorder].
type RecorderOption func(*Recorder)

// HistorySize sets how many of its last invocations the recorder keeps per
// action. The default is [DefaultHistorySize]. n < 1 panics.
func HistorySize(n int) RecorderOption {
	if n < 1 {
		panic(fmt.Sprintf("actionsdebug: HistorySize: %d < 1", n))
	}
	return func(r *Recorder) { r.size = n }
}

// SlowWindow sets how far back the recorder looks for each action's slowest
// invocations: those that ended within d, to a sixth of d. The default is
// [DefaultSlowWindow]. d <= 0 panics.
func SlowWindow(d time.Duration) RecorderOption {
	if d <= 0 {
		panic(fmt.Sprintf("actionsdebug: SlowWindow: %v <= 0", d))
	}
	return func(r *Recorder) { r.window = d }
}

// MaxActions sets how many action names the recorder keeps a history for.
// The default is [DefaultMaxActions]. n < 1 panics.
func MaxActions(n int) RecorderOption {
	if n < 1 {
		panic(fmt.Sprintf("actionsdebug: MaxActions: %d < 1", n))
	}
	return func(r *Recorder) { r.maxActions = n }
}

// ShowPayloads makes the recorder keep each invocation's payload, formatted
// with %v when the invocation ends and truncated to [MaxPayloadRunes] runes,
// so that the page shows it. The default is off: payloads often hold
// personal data or secrets, and formatting one runs its String method.
func ShowPayloads(on bool) RecorderOption {
	return func(r *Recorder) { r.payloads = on }
}

// NewRecorder returns a recorder configured by opts.
func NewRecorder(opts ...RecorderOption) *Recorder {
	r := &Recorder{}
	for _, o := range opts {
		o(r)
	}
	return r
}

func (r *Recorder) historySize() int {
	if r.size > 0 {
		return r.size
	}
	return DefaultHistorySize
}

func (r *Recorder) slowWindow() time.Duration {
	if r.window > 0 {
		return r.window
	}
	return DefaultSlowWindow
}

func (r *Recorder) actionsLimit() int {
	if r.maxActions > 0 {
		return r.maxActions
	}
	return DefaultMaxActions
}

// slot returns the sub-window of the slow window that t falls in.
func (r *Recorder) slot(t time.Time) int64 {
	return t.UnixNano() / max(int64(r.slowWindow()/slowSlots), 1)
}

// InvocationBegin returns ctx: the recorder records ends only.
func (r *Recorder) InvocationBegin(ctx context.Context, inv actions.Invocation) context.Context {
	return ctx
}

// InvocationEnd records the invocation.
func (r *Recorder) InvocationEnd(ctx context.Context, inv actions.Invocation, out actions.Outcome) {
	rec := newRecord(inv, out, r.payloads) // user code (Error, String): before the lock
	st := out.Status()
	slot := r.slot(rec.End())
	r.mu.Lock()
	defer r.mu.Unlock()
	r.history(inv.Action).add(rec, st, slot, r.historySize())
}

// history returns name's history, made (and another forgotten, if the
// recorder is full) if need be, and marks it the most recently recorded.
// r.mu is held.
func (r *Recorder) history(name string) *history {
	if h, ok := r.byName[name]; ok {
		r.lru.MoveToFront(h.elem)
		return h
	}
	if r.byName == nil {
		r.byName = make(map[string]*history)
	}
	if len(r.byName) >= r.actionsLimit() {
		old := r.lru.Remove(r.lru.Back()).(*history)
		delete(r.byName, old.name)
		r.evicted++
	}
	h := &history{name: name}
	h.elem = r.lru.PushFront(h)
	r.byName[name] = h
	return h
}

// names returns the names the recorder has a history for, sorted.
func (r *Recorder) names() []string {
	r.mu.Lock()
	out := make([]string, 0, len(r.byName))
	for name := range r.byName {
		out = append(out, name)
	}
	r.mu.Unlock()
	slices.Sort(out)
	return out
}

// summary copies what the overview shows of name's history; ok is false
// when there is none.
func (r *Recorder) summary(name string) (c Counts, last Record, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	h, ok := r.byName[name]
	if !ok {
		return Counts{}, Record{}, false
	}
	return h.counts, h.last(), h.n > 0
}

// detail copies all of name's history: its summary, its recent invocations
// newest first, the slowest of those that ended within the slow window
// before now, slowest first, and its latency buckets.
func (r *Recorder) detail(name string, now time.Time) (d historyCopy, ok bool) {
	from := r.slot(now) - slowSlots + 1
	r.mu.Lock()
	h, ok := r.byName[name]
	if ok {
		d = h.copy(from)
	}
	r.mu.Unlock()
	if !ok {
		return d, false
	}
	slices.SortStableFunc(d.slowest, func(a, b Record) int { return -cmp.Compare(a.Duration, b.Duration) })
	d.slowest = d.slowest[:min(len(d.slowest), Slowest)]
	return d, true
}

// stats returns the recorder's own figures.
func (r *Recorder) stats() RecorderStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return RecorderStats{
		Actions:     len(r.byName),
		MaxActions:  r.actionsLimit(),
		Evicted:     r.evicted,
		HistorySize: r.historySize(),
		SlowWindow:  r.slowWindow(),
		Payloads:    r.payloads,
	}
}
