package actionsdebug

import (
	"errors"
	"time"

	"github.com/go-actions/actions"
)

// Page is what the handler serves: as HTML, or as JSON with the field names
// of the struct tags.
type Page struct {
	// Action is the ?action filter, "" when the page lists every name.
	Action string `json:"action,omitempty"`
	// Actions is every name with something on it, sorted, or with the
	// filter the one named (none if it has nothing on it).
	Actions []Action `json:"actions"`
	// Recorder describes the recorder; nil without [WithRecorder].
	Recorder *RecorderStats `json:"recorder,omitempty"`
}

// Action is what the page shows of one name.
type Action struct {
	// Name is the action's name.
	Name string `json:"name"`
	// Registered reports whether an action is registered under Name.
	Registered bool `json:"registered"`
	// Source is where the action was registered, "dir/file.go:line" (see
	// [actions.ActionInfo.Source]); "" when it is not registered.
	Source string `json:"source,omitempty"`
	// Plugin is the plugin that registered the action (see
	// [actions.ActionInfo.Plugin]); "" when it is not registered or was
	// registered outside plugins.
	Plugin string `json:"plugin,omitempty"`
	// Plugins is the names of the plugins with any registration on the
	// name (the action, a listener, a replacement, a block or a
	// de-duplication rule), sorted (see [actions.ActionInfo.Plugins]).
	Plugins []string `json:"plugins"`
	// Orphan reports that listeners, replacements or blocks are kept under
	// Name while no action is registered there: they never run (see
	// [actions.Registry.Check]).
	Orphan bool `json:"orphan"`
	// Suggestion is, for an orphan, the registered name nearest to Name, as
	// [actions.OrphanError] suggests it; "" when none is near.
	Suggestion string `json:"suggestion,omitempty"`
	// Dedup is the action's de-duplication mode: "none", "reject"
	// ([actions.RejectPending]) or "share" ([actions.SharePending]).
	Dedup string `json:"dedup"`
	// Concurrent reports whether the action's phases run their listeners
	// concurrently.
	Concurrent bool `json:"concurrent"`
	// Before and After are the listeners in the order they run.
	Before []Listener `json:"before"`
	After  []Listener `json:"after"`
	// Replacements is the number of layers on the replacement stack.
	Replacements int `json:"replacements"`
	// ReplacementSources is where each layer was pushed, from the top of
	// the stack (the one that runs first) to the bottom (see
	// [actions.ActionInfo.ReplacementSources]).
	ReplacementSources []string `json:"replacement_sources"`
	// Blocks is the number of blocks placed on the action.
	Blocks int `json:"blocks"`
	// BlockSources is where each block was placed, in the order they were
	// placed (see [actions.ActionInfo.BlockSources]).
	BlockSources []string `json:"block_sources"`
	// InFlight is the number of invocations in flight now, as
	// [actions.Registry.InFlight] counts them.
	InFlight int `json:"in_flight"`

	// The fields below are the recorder's; they are zero without
	// [WithRecorder] or before the recorder saw an invocation of Name. A
	// name the recorder saw invoked but with nothing on it (an invocation
	// of an unknown action) is listed too, neither Registered nor Orphan.

	// Counts is how many invocations ended with each status.
	Counts *Counts `json:"counts,omitempty"`
	// Last is the last invocation recorded.
	Last *Record `json:"last,omitempty"`
	// Recent is the last invocations, newest first; with the ?action
	// filter only.
	Recent []Record `json:"recent,omitempty"`
	// Slowest is the slowest invocations that ended within the slow
	// window, slowest first; with the ?action filter only.
	Slowest []Record `json:"slowest,omitempty"`
	// Latency counts the invocations by duration; with the ?action filter
	// only.
	Latency []Bucket `json:"latency,omitempty"`
}

// Listener describes a listener, as [actions.ListenerInfo] does.
type Listener struct {
	Name     string `json:"name"`
	Priority int    `json:"priority"`
	Once     bool   `json:"once"`
	// Source is where the listener was added, "dir/file.go:line" (see
	// [actions.ListenerInfo.Source]).
	Source string `json:"source"`
	// Plugin is the plugin that installed the listener, "" for none (see
	// [actions.ListenerInfo.Plugin]).
	Plugin string `json:"plugin,omitempty"`
}

// RecorderStats describes a [Recorder] and its bounds.
type RecorderStats struct {
	// Actions is how many names the recorder has a history for, at most
	// MaxActions; Evicted how many it forgot to make room for others.
	Actions    int    `json:"actions"`
	MaxActions int    `json:"max_actions"`
	Evicted    uint64 `json:"evicted"`
	// HistorySize is how many invocations it keeps per action.
	HistorySize int `json:"history_size"`
	// SlowWindow is how far back it keeps the slowest, in nanoseconds in
	// JSON.
	SlowWindow time.Duration `json:"slow_window_ns"`
	// Payloads reports whether it keeps payloads ([ShowPayloads]).
	Payloads bool `json:"payloads"`
}

// buildPage reads the registry's snapshots, then the recorder's, for the
// names filter selects ("" for all).
func buildPage(reg *actions.Registry, rec *Recorder, filter string, now time.Time) *Page {
	p := &Page{Action: filter, Actions: []Action{}}
	suggestions := orphanSuggestions(reg.Check())
	byName := make(map[string]int)
	for _, info := range reg.Actions() {
		if filter != "" && info.Name != filter {
			continue
		}
		byName[info.Name] = len(p.Actions)
		p.Actions = append(p.Actions, fromInfo(info, suggestions[info.Name]))
	}
	if rec == nil {
		return p
	}
	stats := rec.stats()
	p.Recorder = &stats
	var names []string
	if filter != "" {
		names = []string{filter}
	} else {
		names = rec.names()
	}
	unknown := false
	for _, name := range names {
		i, ok := byName[name]
		if !ok {
			p.Actions = append(p.Actions, Action{Name: name, Dedup: "none"})
			i, unknown = len(p.Actions)-1, true
		}
		if !addHistory(&p.Actions[i], rec, filter != "", now) && !ok {
			p.Actions = p.Actions[:i] // the name has nothing on it and no history
		}
	}
	if unknown {
		sortActions(p.Actions)
	}
	return p
}

// fromInfo is what the page shows of info, without the recorder's history.
func fromInfo(info actions.ActionInfo, suggestion string) Action {
	a := Action{
		Name:               info.Name,
		Registered:         info.Registered,
		Source:             info.Source,
		Plugin:             info.Plugin,
		Plugins:            sources(info.Plugins),
		Orphan:             !info.Registered,
		Suggestion:         suggestion,
		Dedup:              "none",
		Concurrent:         info.Concurrent,
		Before:             listeners(info.Before),
		After:              listeners(info.After),
		Replacements:       info.Replacements,
		ReplacementSources: sources(info.ReplacementSources),
		Blocks:             info.Blocks,
		BlockSources:       sources(info.BlockSources),
		InFlight:           info.InFlight,
	}
	switch {
	case info.Deduplicates && info.SharePending:
		a.Dedup = "share"
	case info.Deduplicates:
		a.Dedup = "reject"
	}
	return a
}

// sources returns in, or an empty slice for nil, so that JSON has a list.
// It serves the lists of plugin names too.
func sources(in []string) []string {
	if in == nil {
		return []string{}
	}
	return in
}

func listeners(in []actions.ListenerInfo) []Listener {
	out := make([]Listener, len(in))
	for i, l := range in {
		out[i] = Listener(l)
	}
	return out
}

// addHistory adds what rec has of a's name: the summary, and with detail
// all of it. It reports whether rec has a history of the name.
func addHistory(a *Action, rec *Recorder, detail bool, now time.Time) bool {
	if !detail {
		counts, last, ok := rec.summary(a.Name)
		if ok {
			a.Counts, a.Last = &counts, &last
		}
		return ok
	}
	d, ok := rec.detail(a.Name, now)
	if !ok {
		return false
	}
	a.Counts, a.Recent, a.Slowest, a.Latency = &d.counts, d.recent, d.slowest, d.latency
	if len(d.recent) > 0 {
		a.Last = &d.recent[0]
	}
	return true
}

// orphanSuggestions returns, by action name, the suggestion of the
// [actions.OrphanError]s that err, what Check returned, joins.
func orphanSuggestions(err error) map[string]string {
	out := make(map[string]string)
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else if err != nil {
		errs = []error{err}
	}
	for _, e := range errs {
		var o *actions.OrphanError
		if errors.As(e, &o) && o.Suggestion != "" {
			out[o.Action] = o.Suggestion
		}
	}
	return out
}
