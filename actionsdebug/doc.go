// Package actionsdebug serves a debug page for an [actions.Registry], in the
// manner of net/http/pprof and expvar: an http.Handler a service mounts on
// its own mux under /debug/, showing what the registry holds and, with a
// [Recorder], what it recently ran.
//
//	rec := actionsdebug.NewRecorder()
//	reg := actions.New(actions.WithObserver(rec))
//	mux := http.NewServeMux()
//	actionsdebug.Register(mux, reg, actionsdebug.WithRecorder(rec)) // GET /debug/actions
//
// # What the page shows
//
// One row per name that has something on it, as [actions.Registry.Actions]
// reports it, sorted by name: whether an action is registered there, its
// before- and after-listeners in the order they run (name, priority, once),
// how many replacements and blocks it has, its de-duplication mode, whether
// its phases are concurrent, and how many of its invocations are in flight
// now. Next to the action, each listener, each replacement layer (top of
// the stack first) and each block, the page shows where it was registered:
// the file and line of the registering call, as "dir/file.go:line" (see
// [actions.ListenerInfo.Source]), which is where to look first when a
// plugin seems to do nothing. It also shows which [actions.Plugin] owns
// what: the plugin that registered the action and the one that added each
// listener, as tags, and under the name every plugin with a registration
// there (see [actions.ActionInfo.Plugins]); what was registered outside
// plugins has no tag. A name with listeners, replacements or blocks but no
// registered action is an orphan: what is kept there never runs, usually
// because of a typo. The page flags it, with the nearest registered name
// when [actions.Registry.Check] suggests one.
//
// With [WithRecorder], each row also counts the invocations by status (ok,
// aborted, failed, rejected, cancelled) and shows the last one; names that
// were invoked with nothing on them (an unknown action) are listed too.
// ?action=NAME shows one action with its recorded history: the last
// invocations (ID, parent ID, depth, start, duration, status, stage,
// listener, error message, an abort's reason), the slowest that ended
// within the slow window, in the spirit of golang.org/x/net/trace's
// latency view, and counts by latency bucket.
//
// The same data is served as JSON with ?format=json or a request that
// accepts application/json; [Page] documents the field names. Every name and
// message is escaped in HTML, and is a plain JSON string in JSON.
//
// # Mounting and access
//
// [Register] mounts the page at /debug/actions of the service's own mux;
// [Handler] returns it to mount elsewhere. Unlike net/http/pprof, nothing is
// mounted on http.DefaultServeMux by importing the package. The page is
// read-only: it answers GET and HEAD, and 405 to anything else. It shows no
// payloads unless the recorder was made with [ShowPayloads]. It still tells
// the service's structure, names and error messages: mount it behind the
// service's own access control, as one does pprof.
//
// # Memory
//
// The recorder's memory is bounded whatever the load: at most [MaxActions]
// names ([DefaultMaxActions], 1024; when a new name comes, the one recorded
// least recently is forgotten), each with the last [HistorySize]
// invocations ([DefaultHistorySize], 32), the [Slowest] (5) of each sixth of
// the [SlowWindow] ([DefaultSlowWindow], one minute) and fixed counters.
// Messages are truncated to [MaxMessageRunes] runes and payloads, when kept,
// to [MaxPayloadRunes].
//
// # Costs
//
// The recorder is an [actions.Observer]: it costs what an observer costs per
// invocation (the registry hands out IDs and calls it at begin and end),
// plus, at the end, formatting the error when there is one and a short
// critical section: one mutex held for a map lookup and a few copies.
//
// The handler reads the registry's snapshots without a lock, as
// [actions.Registry.Actions] and [actions.Registry.Check] do, and copies the
// recorder's history one action at a time under the recorder's mutex, held
// only for the copy; it renders with no lock held. So a request never blocks
// invocations for longer than one action's copy. Rendering is what costs:
// on a 2-core machine, a page of 1,000 actions with listeners and full
// histories takes about 25 ms as HTML (html/template escapes every field),
// 9 ms as JSON, and under 1 ms for one action with ?action (see
// BenchmarkHandler). A call of an action with no listeners, observed by
// a recorder, takes about 0.75 µs in all (BenchmarkRecorder).
//
// # Concurrency
//
// The handler and the recorder are safe for concurrent use: invocations
// may be recorded while any number of requests are served.
package actionsdebug
