package actions

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ActionInfo describes everything a registry holds under one name, as
// [Registry.Actions] reports it.
type ActionInfo struct {
	// Name is the action's name.
	Name string
	// Registered reports whether an action is registered under Name. When it
	// is false, the fields that describe the registration (Deduplicates,
	// SharePending, Concurrent, Limit, Queue, Source) are zero too.
	Registered bool
	// Source is where the action was registered: the file and line of the
	// call of [Registry.RegisterAction], [RegisterAction] or a typed
	// handle's Register, as [ListenerInfo.Source] reports a listener's; ""
	// when no action is registered.
	Source string
	// Deduplicates reports whether the action de-duplicates its invocations
	// by key (see [Deduplicate]).
	Deduplicates bool
	// SharePending reports whether an invocation whose key is in flight
	// shares that invocation's outcome ([SharePending]) rather than failing
	// with [ErrPending] ([RejectPending]). It is meaningful only when
	// Deduplicates is true.
	SharePending bool
	// Concurrent reports whether the listeners of each phase run
	// concurrently (see [Concurrent] and [WithConcurrentPhases]).
	Concurrent bool
	// Limit and Queue are the action's [Bulkhead]: how many of its
	// invocations may run at once and how many may wait; both are 0 for an
	// action without one.
	Limit, Queue int
	// Before is the before-listeners in the order they run, as
	// [Registry.Listeners] reports them; nil when there are none.
	Before []ListenerInfo
	// After is the after-listeners in the order they run, as
	// [Registry.Listeners] reports them; nil when there are none.
	After []ListenerInfo
	// Replacements is the number of layers on the replacement stack (see
	// [Registry.ReplaceAction]).
	Replacements int
	// ReplacementSources is where each layer of the replacement stack was
	// pushed (the call of [Registry.ReplaceAction], [ReplaceAction] or a
	// typed handle's Replace, as [ListenerInfo.Source] reports a
	// listener's), from the top of the stack to the bottom: the order in
	// which they run. It has Replacements elements; nil when there are none.
	ReplacementSources []string
	// Blocks is the number of blocks placed with [Registry.BlockAction],
	// whether or not their match would accept a payload.
	Blocks int
	// BlockSources is where each block was placed (the call of
	// [Registry.BlockAction], [BlockAction] or a typed handle's Block, as
	// [ListenerInfo.Source] reports a listener's), in the order they were
	// placed, which is the order their matches are asked. It has Blocks
	// elements; nil when there are none.
	BlockSources []string
	// InFlight is the number of invocations in flight, as
	// [Registry.InFlight] counts them.
	InFlight int
	// Plugin is the plugin that registered the action (see
	// [Registry.Plugin]), "" when it was registered outside plugins or is
	// not registered.
	Plugin string
	// Plugins is the names of the plugins with any registration on the
	// name (the action, a listener, a replacement, a block or a
	// de-duplication rule), sorted; nil when there are none.
	Plugins []string
}

// named is one name's entry and the snapshot read from it.
type named struct {
	e *entry
	s *snapshot
}

// snapshots returns the entry and current snapshot of every name that has
// something on it, sorted by name. It takes no lock: each snapshot is read
// atomically, one name after another.
func (r *Registry) snapshots() []named {
	var out []named
	r.eachEntry(func(e *entry) {
		if s := e.snap.Load(); !s.empty() {
			out = append(out, named{e, s})
		}
	})
	slices.SortFunc(out, func(a, b named) int { return strings.Compare(a.e.name, b.e.name) })
	return out
}

// Actions describes every name that has something on it: a registered
// action, listeners, replacements or blocks. It is sorted by name. A name
// whose registrations have all been removed is not listed.
//
// Actions takes no lock that invocations or writers take, and never waits
// for them. Each name's description is read from one snapshot of that name,
// but the names are read one after another, not at one instant: a
// registration made or removed during the call may be seen on one name and
// not on another. It costs a pass over every name the registry knows, a sort
// of those listed, and the result's allocations (one per listener list, per
// non-empty replacement stack and per name with blocks, one for the slice); it is for diagnostics and startup, not for a hot path.
func (r *Registry) Actions() []ActionInfo {
	snaps := r.snapshots()
	out := make([]ActionInfo, len(snaps))
	for i, n := range snaps {
		info := ActionInfo{
			Name:               n.e.name,
			Before:             listenerInfos(n.s.before),
			After:              listenerInfos(n.s.after),
			Replacements:       len(n.s.replacements),
			ReplacementSources: replacementSources(n.s.replacements),
			Blocks:             len(n.s.blocks),
			BlockSources:       blockSources(n.s.blocks),
			InFlight:           int(lower(&n.e.inflight, &n.e.both)),
			Plugins:            n.s.plugins(),
		}
		if a := n.s.act; a != nil {
			info.Registered = true
			info.Source = a.site.String()
			info.Plugin = a.owner.nameOf()
			if d := n.s.rule(); d != nil {
				info.Deduplicates, info.SharePending = true, d.share
			}
			info.Concurrent = a.concurrent
			if b := a.bulk; b != nil {
				info.Limit, info.Queue = b.limit, b.queue
			}
		}
		out[i] = info
	}
	return out
}

// listenerInfos describes list in order, as [Registry.Listeners] does; nil
// when list is empty.
func listenerInfos(list []*listener) []ListenerInfo {
	if len(list) == 0 {
		return nil
	}
	out := make([]ListenerInfo, len(list))
	for i, l := range list {
		out[i] = ListenerInfo{Name: l.name, Priority: l.priority, Once: l.once, Source: l.site.String(), Plugin: l.owner.nameOf()}
	}
	return out
}

// plugins returns the sorted names of the plugins with a registration in
// the snapshot, nil if none.
func (s *snapshot) plugins() []string {
	var out []string
	add := func(p *Plugin) {
		if p != nil && !slices.Contains(out, p.name) {
			out = append(out, p.name)
		}
	}
	if s.act != nil {
		add(s.act.owner)
	}
	for _, list := range [][]*listener{s.before, s.after} {
		for _, l := range list {
			add(l.owner)
		}
	}
	for _, x := range s.replacements {
		add(x.owner)
	}
	for _, b := range s.blocks {
		add(b.owner)
	}
	for _, d := range s.dedupes {
		add(d.owner)
	}
	slices.Sort(out)
	return out
}

// replacementSources returns where each layer of stack was pushed, from the
// top of the stack (its end) to the bottom; nil when stack is empty.
func replacementSources(stack []*replacement) []string {
	if len(stack) == 0 {
		return nil
	}
	out := make([]string, len(stack))
	for i, layer := range stack {
		out[len(stack)-1-i] = layer.site.String()
	}
	return out
}

// blockSources returns where each of blocks was placed, in order; nil when
// there are none.
func blockSources(blocks []*block) []string {
	if len(blocks) == 0 {
		return nil
	}
	out := make([]string, len(blocks))
	for i, b := range blocks {
		out[i] = b.site.String()
	}
	return out
}

// OrphanError reports listeners, replacements or blocks kept under a name
// with no registered action: they never run, usually because of a typo in
// an event or action name. [Registry.Check] returns it. It matches
// [ErrActionNotFound].
type OrphanError struct {
	// Action is the name the orphans are kept under.
	Action string
	// What says what is orphaned: `listener "validate"` for a listener
	// given a name with [Named], `a listener` for one without, or a count
	// such as `2 replacements` or `1 block`.
	What string
	// Event is where the orphans were added: the event ("beforeX" or
	// "afterX") for a listener, the action's name for replacements and
	// blocks.
	Event string
	// Suggestion is the registered action whose name is nearest to Action,
	// "" when none is close (see [Registry.Check]).
	Suggestion string
}

// Error returns a lowercase message prefixed "actions: " that names the
// event, what is orphaned and the action, and suggests the nearest
// registered name when there is one, e.g.
// `actions: afterCreateOrdr: listener "audit" on no action CreateOrdr; did you mean CreateOrder?`.
func (e *OrphanError) Error() string {
	msg := "actions: " + e.Event + ": " + e.What + " on no action " + e.Action
	if e.Suggestion != "" {
		msg += "; did you mean " + e.Suggestion + "?"
	}
	return msg
}

// Is reports whether target is [ErrActionNotFound].
func (e *OrphanError) Is(target error) bool { return target == ErrActionNotFound }

// Check reports what the registry keeps under names with no registered
// action: listeners, replacements and blocks that never run. It returns nil
// when there are none, else the [errors.Join] of one [*OrphanError] per
// orphan listener and one per name with orphan replacements and per name
// with orphan blocks, ordered by name, then before-listeners (in the order
// they would run), after-listeners, replacements, blocks. The error matches
// [ErrActionNotFound].
//
// Each OrphanError suggests the registered name nearest to the orphan's:
// the one at the smallest case-insensitive edit (Levenshtein) distance, if
// that distance is at most a third of the orphan name's length (at least
// 1), the first by name order among equals.
//
// Listeners, replacements and blocks may be added before their action is
// registered, so nothing refuses them when they are added; a service calls
// Check once its plugins are loaded, and fails its startup on an error.
// Check reads the registry as [Registry.Actions] does, without a lock and
// one name after another. Besides that read, its cost grows with the
// number of orphan names times the number of registered ones.
func (r *Registry) Check() error {
	snaps := r.snapshots()
	var registered []string // sorted, as snaps is
	for _, n := range snaps {
		if n.s.act != nil {
			registered = append(registered, n.e.name)
		}
	}
	var errs []error
	for _, n := range snaps {
		s, name := n.s, n.e.name
		if s.act != nil {
			continue
		}
		orphan := func(what, event string) {
			errs = append(errs, &OrphanError{Action: name, What: what, Event: event, Suggestion: nearest(name, registered)})
		}
		for _, l := range s.before {
			orphan(listenerWhat(l), "before"+name)
		}
		for _, l := range s.after {
			orphan(listenerWhat(l), "after"+name)
		}
		if k := len(s.replacements); k > 0 {
			orphan(plural(k, "replacement"), name)
		}
		if k := len(s.blocks); k > 0 {
			orphan(plural(k, "block"), name)
		}
	}
	return errors.Join(errs...)
}

// listenerWhat is an OrphanError's What for l.
func listenerWhat(l *listener) string {
	if l.name == "" {
		return "a listener"
	}
	return fmt.Sprintf("listener %q", l.name)
}

// plural returns "1 noun" or "k nouns".
func plural(k int, noun string) string {
	if k == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", k, noun)
}

// nearest returns the name among candidates (sorted) at the smallest
// case-insensitive Levenshtein distance from name, if that distance is at
// most max(1, len(name)/3) in runes; the first among equals; "" if none is
// that close.
func nearest(name string, candidates []string) string {
	a := []rune(strings.ToLower(name))
	limit := max(1, len(a)/3)
	best, bestDist := "", limit+1
	for _, c := range candidates {
		b := []rune(strings.ToLower(c))
		if abs(len(a)-len(b)) >= bestDist { // the distance is at least the difference in length
			continue
		}
		if d := levenshtein(a, b); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// levenshtein returns the edit distance between a and b: the fewest
// insertions, deletions and substitutions of runes that turn a into b.
// It costs O(len(a)·len(b)) time and O(len(b)) space.
func levenshtein(a, b []rune) int {
	row := make([]int, len(b)+1)
	for j := range row {
		row[j] = j
	}
	for i := 1; i <= len(a); i++ {
		diag := row[0] // row[i-1][j-1]
		row[0] = i
		for j := 1; j <= len(b); j++ {
			up := row[j] // row[i-1][j]
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			row[j] = min(up+1, row[j-1]+1, diag+cost)
			diag = up
		}
	}
	return row[len(b)]
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
