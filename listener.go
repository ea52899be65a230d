package actions

import (
	"context"
	"reflect"
	"strings"
	"sync/atomic"
)

// Listener is a before- or after-listener. It receives the invocation's
// context and payload (after the payload update). A before-listener returns
// [Abort] to abort the invocation, another error to fail it, nil to let it go
// on. An after-listener's error goes to the registry's error handler (see
// [WithErrorHandler]); it does not change the invocation's outcome.
type Listener func(ctx context.Context, payload any) error

// listener is one registration of a Listener.
type listener struct {
	fn       Listener
	typed    any // a typed listener's own func(context.Context, P) error, which fn adapts; nil for untyped
	name     string
	priority int
	once     bool
	site     site        // where it was added, "dir/file.go:line" (see ListenerInfo.Source)
	fired    atomic.Bool // claimed by the one invocation that runs a once-listener
	owner    *Plugin     // the plugin that installed it, if any
	gen      uint64      // a plugin's: the gen of the snapshot that installed it (see pinned); 0 otherwise
}

func (l *listener) addedIn() uint64 { return l.gen }

// ptype returns the payload type of a typed listener, nil for an untyped one.
func (l *listener) ptype() reflect.Type {
	if l.typed == nil {
		return nil
	}
	return reflect.TypeOf(l.typed).In(1)
}

// ListenerOption configures a listener at [Registry.AddListener].
type ListenerOption func(*listener)

// Priority sets the listener's priority. Listeners of an event run from the
// highest priority to the lowest; listeners of equal priority run in the
// order they were added. The default priority is 0.
func Priority(p int) ListenerOption { return func(l *listener) { l.priority = p } }

// Once makes the listener run at most once: the first invocation to reach it
// claims it atomically and removes it; concurrent invocations skip it.
func Once() ListenerOption { return func(l *listener) { l.once = true } }

// Named gives the listener a name, reported by [Registry.Listeners] and by
// the error of an invocation it aborts or fails ([Error.Listener]).
func Named(name string) ListenerOption { return func(l *listener) { l.name = name } }

// ListenerInfo describes a listener, as [Registry.Listeners] reports it.
type ListenerInfo struct {
	// Name is the name given with [Named], "" for none.
	Name string
	// Priority is the priority given with [Priority], 0 by default.
	Priority int
	// Once reports whether the listener was added with [Once].
	Once bool
	// Source is where the listener was added: the file and line of the call
	// of [Registry.AddListener], [AddListener], or a typed handle's Before or
	// After, as "dir/file.go:line" (the file's base name under the last
	// element of its directory, e.g. "contactcenter/plugin_crm.go:41"; the
	// directory is the one the file was compiled from, so a package at the
	// root of a module shows its checkout's directory, or, built with
	// -trimpath, the module path's last element). A listener added through a
	// helper of the caller's own reports the helper's line. "" if the
	// runtime could not tell.
	Source string
	// Plugin is the plugin that installed the listener (see
	// [Registry.Plugin]), "" for one added outside plugins.
	Plugin string
}

// ParseEvent splits a Flex-style event name into its phase and action:
// "beforeAcceptTask" is the before phase of AcceptTask, "afterAcceptTask" its
// after phase. The prefix is exact and case-sensitive, and the action name
// must not be empty: "before", "Before X" and "onX" are not events.
func ParseEvent(event string) (after bool, action string, ok bool) {
	switch {
	case strings.HasPrefix(event, "before"):
		action = event[len("before"):]
	case strings.HasPrefix(event, "after"):
		after, action = true, event[len("after"):]
	default:
		return false, "", false
	}
	if action == "" {
		return false, "", false
	}
	return after, action, true
}

func mustParseEvent(method, event string) (after bool, action string) {
	after, action, ok := ParseEvent(event)
	if !ok {
		setupPanic("%s: malformed event %q: want \"before<Action>\" or \"after<Action>\"", method, event)
	}
	return after, action
}

// AddListener adds fn as a listener of event, "before<Action>" or
// "after<Action>" (see [ParseEvent]), configured by opts. The action need not
// be registered yet. It returns a function that removes exactly this
// listener, reporting whether it did; a listener removed while a phase runs
// still runs in that phase if it was in the phase's snapshot, and in no phase
// that starts after the removal returned.
//
// A malformed event or a nil fn panics: those are programmer errors.
func (r *Registry) AddListener(event string, fn Listener, opts ...ListenerOption) (remove func() bool) {
	return r.addListener("AddListener", event, fn, nil, opts, callerSite(0))
}

// addListener adds fn, which adapts typed (a typed listener's own func, nil
// for an untyped listener), as method on behalf of the caller, whose call
// was made at the site at.
func (r *Registry) addListener(method, event string, fn Listener, typed any, opts []ListenerOption, at site) (remove func() bool) {
	after, name := mustParseEvent(method, event)
	if fn == nil {
		setupPanic("%s(%q): nil listener", method, event)
	}
	l := newListener(fn, typed, opts, at)
	var bad string
	r.write(name, func(s *snapshot) bool {
		bad = s.listen(after, l)
		return bad == ""
	})
	if bad != "" {
		setupPanic("%s(%q): %s", method, event, bad)
	}
	return func() bool { return r.removeListener(name, after, l) }
}

func newListener(fn Listener, typed any, opts []ListenerOption, at site) *listener {
	l := &listener{fn: fn, typed: typed, site: at}
	for _, o := range opts {
		o(l)
	}
	return l
}

// listen adds l to the snapshot's before- or after-listeners, and returns
// what does not fit the action's types, "" if all does (see misfit).
func (s *snapshot) listen(after bool, l *listener) (bad string) {
	list := &s.before
	if after {
		list = &s.after
	}
	*list = insertByPriority(*list, l)
	return misfit(s.act, s)
}

// insertByPriority returns a new list with l after every listener of higher
// or equal priority: a stable order.
func insertByPriority(list []*listener, l *listener) []*listener {
	i := len(list)
	for i > 0 && list[i-1].priority < l.priority {
		i--
	}
	out := make([]*listener, 0, len(list)+1)
	out = append(out, list[:i]...)
	out = append(out, l)
	return append(out, list[i:]...)
}

func (r *Registry) removeListener(name string, after bool, l *listener) bool {
	return r.write(name, func(s *snapshot) bool {
		list := &s.before
		if after {
			list = &s.after
		}
		var ok bool
		*list, ok = without(*list, func(x *listener) bool { return x == l })
		return ok
	})
}

// RemoveAllListeners removes every listener of event and returns how many it
// removed. A malformed event panics.
func (r *Registry) RemoveAllListeners(event string) int {
	after, name := mustParseEvent("RemoveAllListeners", event)
	n := 0
	r.write(name, func(s *snapshot) bool {
		list := &s.before
		if after {
			list = &s.after
		}
		n = len(*list)
		*list = nil
		return n > 0
	})
	return n
}

// Listeners returns the listeners of event in the order they run. A
// malformed event panics.
func (r *Registry) Listeners(event string) []ListenerInfo {
	after, name := mustParseEvent("Listeners", event)
	e := r.lookup(name)
	if e == nil {
		return nil
	}
	s := e.snap.Load()
	list := s.before
	if after {
		list = s.after
	}
	return listenerInfos(list)
}
