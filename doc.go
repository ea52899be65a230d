// Package actions is an embeddable actions framework: named extension points
// that plugins hook into, modelled on the Actions Framework of Twilio Flex UI.
//
// An action is a name bound to a body. Plugins listen before an action (and
// may veto it), listen after it, replace what it does while still being able
// to call what they replaced, and register actions of their own. Callers
// invoke actions by name, or through typed handles, and get a future.
//
//	r := actions.New()
//	r.RegisterAction("AcceptTask", acceptTask)
//	r.AddListener("beforeAcceptTask", confirm)  // may return actions.Abort(reason)
//	r.AddListener("afterAcceptTask", notify)
//	r.ReplaceAction("AcceptTask", func(ctx context.Context, p any, original actions.Body) (any, error) {
//		// ... then run what was replaced
//		return original(ctx, p)
//	})
//	result, err := r.InvokeAction(ctx, "AcceptTask", task).Wait(ctx)
//
// # Registry
//
// A [Registry] holds the actions and everything attached to them. The zero
// value is ready to use; [New] takes options ([WithErrorHandler],
// [WithObserver], [WithMaxDepth], [WithConcurrentPhases]). The package-level
// functions ([RegisterAction], [InvokeAction], [AddListener], ...) work on
// [Default], a registry for programs that want one, like
// net/http.DefaultServeMux; libraries should take a *Registry.
//
// Every registration returns its own undo, a func() bool that removes exactly
// that registration and reports whether it did: an action, a listener, a
// replacement layer, a block, a de-duplication rule, an observer. Go funcs
// are not comparable, so nothing is removed by function value. A plugin
// makes its registrations through a [Plugin], installed and removed as one
// (see "Plugins").
//
// Listeners, replacements and blocks are kept by name: they may be added
// before the action is registered, and they stay when it is unregistered and
// apply again if it is registered again. A name with nothing left on it costs
// nothing: once no invocation or typed handle uses it, it is forgotten after
// the next garbage collection.
//
// # Lifecycle
//
// One invocation runs these steps, in this order. Before them, an action with a
// bulkhead ([Bulkhead]) takes a slot, waiting in line if none is free (see
// "Bounded execution").
//
//  0. A ctx that is already done fails the invocation with [context.Cause]; nothing runs.
//     An invocation nested deeper than the depth limit fails with [ErrDepthExceeded].
//     One that found no room in its action's bulkhead fails with [ErrBusy].
//  1. The action is looked up: unknown or unregistered fails with [ErrActionNotFound].
//     The body found here is the one that runs, whatever happens to the registration later.
//  2. A closed registry fails it with [ErrClosed]. (A typed action then checks the
//     payload's type: [ErrPayloadType].)
//  3. A block whose match accepts the payload fails it with [ErrBlocked].
//  4. De-duplication, if the action opted in with [Deduplicate] or a rule is attached to
//     its name ([Registry.DeduplicateAction]): [ErrPending], or the outcome of the
//     invocation in flight with the same key is shared.
//  5. The payload update, if registered with [UpdatePayload], runs once; its result is the
//     payload of every later stage.
//  6. The before phase: the before-listeners registered when the phase starts (but a
//     plugin's installed after step 1: see "Plugins").
//  7. If a before-listener aborted or failed, the invocation stops there.
//  8. The body: the top of the replacement stack as it is when this step starts, else the
//     registered body. Its error or panic fails the invocation; the after phase does not run.
//  9. The after phase: the after-listeners registered when the phase starts, with the same
//     payload. Their errors go to the error handler; the result stands.
//  10. The future completes with the body's result (or the outermost replacement's).
//
// Blocks and de-duplication keys see the payload as the caller passed it,
// before the payload update. The caller's ctx flows to every stage and to the
// observer, wrapped so that an invocation made with it is nested in this one.
// Cancellation is checked at step 0, before the before phase, between the
// listeners of a sequential before phase, and before the body; an invocation
// stopped there fails with context.Cause(ctx). Once the body has returned, its
// result stands: the after phase still runs.
//
// [Registry.InvokeAction] runs the lifecycle in a goroutine of its own and
// returns a [Future] at once; [Registry.Call] runs the same lifecycle in the
// calling goroutine, for hot paths. Typed handles ([Typed]) do the same with
// compile-time payload and result types, over the same names.
//
// # Listeners
//
// [Registry.AddListener] takes Flex's event names: "before<Action>" or
// "after<Action>", parsed exactly ([ParseEvent]); anything else panics, where
// Flex silently accepts any string. Listeners run in the order they were added;
// [Priority] reorders them, higher first, ties keeping the order they were
// added (the default priority is 0). [Registry.Listeners] reports the
// effective order. [Once] listeners run at most once, claimed atomically.
// [Registry.RemoveAllListeners] removes all the listeners of an event.
//
// Only the event's form is checked when a listener is added: the prefix
// "before" or "after", exact and case-sensitive, and a non-empty action
// name. The action need not exist then, so an event with a misspelt action
// ("beforeCreateOrdr") is accepted and its listener never runs;
// [Registry.Check] finds it (see "Introspection").
//
// Each phase runs a snapshot: the listeners registered when the phase starts.
// Adding or removing a listener while a phase runs affects later phases and
// invocations only; a listener whose removal has returned runs in no phase
// that starts afterwards. The listeners and replacements of a plugin are the
// exception that keeps a plugin whole: an invocation runs none of a plugin
// installed after it began (see "Plugins").
//
// Phases are sequential by default: each listener returns before the next
// starts. With [WithConcurrentPhases] or [Concurrent], all the listeners of a
// phase start together and the phase waits for all of them, as Flex does.
//
// # Aborting and errors
//
// A before-listener aborts the invocation by returning [Abort] (with an
// optional reason), the Go form of calling Flex's abortFunction. The body,
// every replacement and every after-listener are skipped and the invocation
// fails with an [*Error] that matches [ErrAborted], names the action and, when
// the listener was [Named], the listener, and wraps the reason. Any error
// that matches ErrAborted as [errors.Is] says aborts the same way, with itself
// as the reason: another invocation's abort returned as it is, or wrapped. In a
// sequential phase the listeners after the aborting one do not run; in a
// concurrent phase the others are awaited, their context is cancelled with the
// abort as its cause, and an abort wins over failures, which stay reachable
// through the joined error.
//
// An invocation whose own context is done, and whose stage returned that
// context's error or cause (or an error wrapping it), ended by cancellation,
// wherever the deadline or the cancel landed: in a stage, or between two.
// Its error has a nil Kind, matches the context's error with [errors.Is]
// (context.DeadlineExceeded, say) and not [ErrFailed], still names the stage
// and listener, and its [Status] is StatusCancelled. A stage that returns a
// context error while the invocation's context is live (a timeout of its
// own) has failed.
//
// A before-listener that returns another error, or panics, stops the
// invocation in the same way, but as a failure: the error matches [ErrFailed],
// not ErrAborted, and its Stage is [StageBefore]. So do errors and panics of
// the payload update, the body and the replacements. After-listener errors do
// not change the outcome: every after-listener runs, and their errors (joined
// when there are several) go to the registry's error handler, with the
// invocation's context ([WithErrorHandler]; by default they are logged with
// log/slog, one record per error). An abort returned from an after-listener,
// where it is too late to abort, is such an error.
//
// Every error the library returns matches a sentinel with [errors.Is]
// ([ErrActionNotFound], [ErrAlreadyRegistered], [ErrClosed], [ErrBlocked],
// [ErrPending], [ErrBusy], [ErrAborted], [ErrFailed], [ErrDepthExceeded],
// [ErrPayloadType]) or, for an invocation stopped by its context, the context's
// cause; details are reached with [errors.As] on [*Error], [*PanicError] and
// [*PayloadTypeError]; messages are lowercase, prefixed "actions: ", and name
// the action. [Future.Wait] gives up with a [*WaitError] that names the
// action and wraps its own context's cause (the invocation goes on);
// [Registry.Close] returns the bare cause of its context.
//
// Programmer errors found at setup time panic with a message prefixed
// "actions: ": an empty action name, a nil body, listener, replacement or
// option function, a malformed event name, a nil context.
//
// # User code that does not return
//
// Every call into user code (a stage, a key or match function, the observer,
// the error handler) is guarded, and whatever it does, the invocation is
// settled: its future completes, its in-flight window closes, [Registry.Close]
// stops waiting for it.
//
//   - A panic never crashes the host: it is recovered into a [*PanicError]
//     with the value and the stack, and handled as an error of its stage. So
//     is panic(nil), even under GODEBUG=panicnil=1, where recover cannot see
//     it: the library tells a return from anything else by whether the
//     function returned.
//   - [runtime.Goexit] (what t.FailNow does) ends the goroutine, as it means:
//     through [Registry.Call] the caller's. The invocation fails at the stage
//     that called it with an error matching [ErrFailed] and [ErrGoexit]; in
//     the observer's InvocationBegin or InFlightBegin, at [StageObserver]. In
//     an after-listener the body's result stands and the failure goes to the
//     error handler (the later after-listeners of a sequential phase do not
//     run: the goroutine is ending). In InvocationEnd, InFlightEnd or the
//     error handler the outcome is already settled and stands. A concurrent
//     phase waits for all its listeners even when the one it runs in the
//     invoking goroutine calls Goexit. Unlike a panic in an observer method
//     or the error handler, a Goexit there is not reported: it is the user's
//     own way of ending the goroutine.
//   - Errors returned by user code are user code too: their Is and Unwrap
//     methods run when the library asks whether an error aborts. They are
//     called with panics contained and at most 1000 errors of one tree
//     walked. An error the library cannot inspect safely (a method panics,
//     or Unwrap cycles) is replaced, in the invocation's error, by one that
//     names its type, so that errors.Is on the invocation's error cannot crash
//     or hang the caller either. Messages are read with fmt, which contains a
//     panicking Error or String method.
//
// # Plugins
//
// A plugin is a set of registrations that belong together: a rate limiter's
// before-listener, a timing plugin's before and after pair, a maintenance
// block, an idempotency rule, a metrics observer. [Registry.Plugin] makes
// one, named; its methods ([Plugin.RegisterAction], [Plugin.AddListener],
// [Plugin.ReplaceAction], [Plugin.BlockAction], [Plugin.DeduplicateAction],
// [Plugin.AddObserver], and typed handles through [Action.In]) record
// registrations, and [Plugin.Install] publishes them all at once, returning
// the undo that removes them all at once. Installing a plugin whose name is
// installed replaces the old one in the same publication: that is a reload,
// with no moment where neither or both are installed. A conflict (a name the
// plugin registers is held by another registration, or types that do not
// fit) fails Install with an error naming the plugin, and nothing changes.
//
// What an invocation sees of a plugin:
//
//   - One that begins (step 1 of "Lifecycle") after Install returned runs all
//     of the plugin's registrations on its action.
//   - One that began before runs none of them, in any phase, even a phase
//     that starts after Install: a plugin's after-listener never runs for an
//     invocation whose before phase did not see the plugin, so a before/after
//     pair is never split that way, and a reload never pairs the old
//     version's before with the new version's after.
//   - Removal wins, as for any registration: no phase that starts after the
//     removal (or the replacing Install) returned runs the removed plugin's
//     registrations. An invocation in flight across a removal may therefore
//     have run the plugin's before-listener and not its after-listener; a
//     plugin that pairs them must not rely on the after-listener to release
//     what the before-listener took (use the invocation's context, or an
//     observer, which sees the end of every invocation whose begin it saw).
//
// Errors say which plugin ended an invocation ([Error.Plugin]): an abort or a
// failure of its listener, its block, its de-duplication rule. Introspection
// names the plugin of each registration ([ActionInfo.Plugin],
// [ActionInfo.Plugins], [ListenerInfo.Plugin]), and [Registry.Plugins] lists
// those installed.
//
// Cost: a registry with no plugin pays nothing for them. An invocation reads
// a generation number with its snapshot and compares it at each phase (one
// comparison); only when a plugin was installed on its action since it began
// does the phase filter its list (one allocation).
//
// # Replacing actions
//
// [Registry.ReplaceAction] pushes a replacement on the action's stack; the
// most recent runs first. It receives original, the implementation it
// replaced: the layer below it, down to the registered body. Calling original
// runs that implementation only (no listeners, no de-duplication), as many
// times as the replacement likes, with any payload. Each layer's handle
// removes exactly that layer, wherever it is in the stack.
//
// # Blocking, de-duplication, in flight
//
// [Registry.BlockAction] fails matching invocations with [ErrBlocked] until
// unblocked; a block may carry a [Reason], which the error wraps and tells.
// [Deduplicate] makes an action reject ([RejectPending], Flex's "Action is
// pending") or join ([SharePending], like golang.org/x/sync/singleflight) an
// invocation while another with the same key is in flight.
// [Registry.DeduplicateAction] attaches the same rule at run time to an
// action registered by someone else (an idempotency plugin's); the table of
// keys in flight belongs to the name, so invocations in flight keep their
// keys across unregistration and registration. A nested invocation with the
// key of one of its ancestors is rejected in either mode, since it would wait
// for itself. [Future.Shared] tells a caller that its outcome was shared.
// [Registry.InFlight] counts the invocations in flight, from the start of the
// before phase until the future completes; an [InFlightObserver] sees each
// window open and close.
//
// # Bounded execution
//
// [Bulkhead] bounds an action's execution: at most limit of its invocations
// run at once; the others wait in line for a slot, first come first served,
// at most queue of them; one that finds the line full fails at once with
// [ErrBusy], whose [*Error] says the limit and the queue. The slot is taken
// before anything of the invocation runs, the observer's InvocationBegin
// included, by InvokeAction and Call alike; it is handed on in the
// invocation's settle, after the observer's InvocationEnd and before the
// future completes, so that a caller that has the outcome finds the slot
// free. To find the bulkhead, the action is looked up when the invocation is
// made (step 1, early): the body found then is the one that runs.
// [Registry.InFlight] counts only invocations that hold slots;
// [Registry.Waiting] counts those in line, and an observer reads how long one
// waited in [Invocation].Waited.
//
// An InvokeAction that must wait holds no goroutine: it returns its future at
// once and stays a record in the line; when a running invocation releases its
// slot, the first in line is handed it and only then does its goroutine
// start. (golang.org/x/sync/semaphore's Acquire blocks a goroutine per
// waiter, which is why the library keeps a line of its own.) Call waits in
// the same line, in its caller's goroutine. A waiting invocation whose ctx is
// done leaves the line without a slot and fails at step 0 with
// [context.Cause] of ctx; the observer sees it begin and end, as every
// invocation. InvokeAction watches the ctx with context.AfterFunc, which
// needs no goroutine for the standard library's contexts and those derived
// from them, nor for a stage's ctx passed on as it is.
//
// A nested invocation that finds no slot free while one of its ancestors
// holds a slot of the same bulkhead fails with ErrBusy at once, by Call or
// InvokeAction: it would wait for its ancestor, which may wait for it. Only
// an invocation's own ancestors are known: two bulkheaded actions that invoke
// each other from separate top-level invocations can still wait for each
// other, as two mutexes locked in opposite orders can.
//
// Closing: an InvokeAction that returned before [Registry.Close] began was
// admitted, waiting or not; Close waits until it has had its slot, run and
// completed. [Registry.Stop] cancels the invocations that hold slots; those
// waiting are handed the slots in turn as they free, and fail at step 0 with
// the stop's cause. An invocation that the closed registry refuses at step 2
// takes no slot and does not wait for one.
//
// Each registration has a bulkhead of its own, and an invocation holds a
// slot of the one it found: after the action is registered again, the
// invocations of the old registration still run under the old bound.
//
// # Concurrency
//
// Every exported method is safe for concurrent use. Invoking takes no lock:
// an invocation reads immutable snapshots that writers (registering,
// listening, replacing, blocking) replace whole under a mutex, so invocations
// never wait for writers and writers never wait for invocations. (An action
// that de-duplicates takes a lock of its own, briefly, to look its key up;
// one with a bulkhead, to take and release its slot.)
// No user code runs while the library holds a lock: registering, removing,
// replacing and invoking from inside any stage never deadlocks.
//
// Concurrent invocations of one action are independent: each has its own
// payload, abort state and outcome. The payload itself is shared between the
// stages of one invocation (that is how a listener's change reaches the body);
// if the caller shares one payload between concurrent invocations, it must
// synchronise access to it.
//
// Every goroutine the library starts ends when its invocation ends: one per
// InvokeAction (started only once it has a slot, for an action with a
// bulkhead), and one per listener of a concurrent phase but the last.
// [Registry.Close] stops new invocations and waits for those in flight; called
// from inside a stage with the stage's ctx, it stops new invocations and
// returns at once, since an invocation cannot wait for its own end.
// [Registry.Stop] is the bounded form, for when the graceful wait ran out: it
// also cancels the contexts of the invocations in flight (their cause matches
// [ErrClosed]), so that stages that honour their context end, and waits for
// them. A stage's context merges the caller's with the registry's stop
// lazily: over context.Background it costs nothing; over a context that can
// be cancelled, the first call of its Done costs two context.AfterFunc
// registrations.
//
// An action that re-invokes itself through its own listeners is stopped by
// the depth limit ([DefaultMaxDepth], [WithMaxDepth]) with [ErrDepthExceeded].
// The limit is at most [MaxDepthLimit], far below what would overflow the Go
// stack, so runaway recursion fails with an error rather than killing the
// process; the error tells its chain of alike nested failures once, with a
// count. Nesting is carried by the ctx a stage or the observer receives: an
// invocation made with another ctx, such as one made by the error handler
// (which has none) or with context.Background, starts a new top-level chain.
// Only invocations still in flight are ancestors: a ctx kept after its
// invocation completed nests but no longer holds a de-duplication key.
//
// # Observability
//
// An [Observer] ([WithObserver], or [Registry.AddObserver] at run time) sees
// every invocation begin and end: the
// action, an ID and the parent's, the depth, the duration, the result, the
// error and its [Status] (ok, aborted, failed, rejected, cancelled),
// including invocations rejected before any stage ran. Its InvocationBegin
// may return a context for the stages, so a tracing adapter can start a span
// there. The observer's methods receive the invocation's context: an
// invocation they make with it (an audit action, say) is nested in the one
// observed, and the depth limit stops an observer that observes its own
// invocations. (An invocation made with the context of one the depth limit
// rejected fails at once with [ErrDepthExceeded], unseen by the observer, so
// that one invoking on every end cannot nest for ever.) Several observers
// (logging, metrics, tracing) are given with several [WithObserver] options;
// they unwind in reverse order, like deferred calls. An invocation calls the
// observers it began with, from its begin to its end: one added later sees
// nothing of it, one removed meanwhile still sees its end. Without an
// observer, observation costs nothing.
//
// A stage, an observer method and the error handler find their invocation in
// their context with [InvocationFrom]: its action and depth always, its ID,
// parent ID and payload when the registry had an observer as it began (IDs
// are handed out only then, so that an unobserved invocation costs none). So a plugin logs
// and correlates without writing an observer.
//
// [SlogObserver] logs every end with log/slog, with the invocation's context
// (a trace-aware handler correlates it with its span), at the level of its
// status, with the error's details as attributes ([ErrorAttrs]): stage,
// listener, an abort's reason, a panic's value and stack.
//
// # Introspection
//
// Listeners, replacements and blocks may be added before their action is
// registered (plugins load in any order), so nothing refuses one whose action
// never comes. [Registry.Check] reports those the registry holds under names
// with no registered action, each as an [*OrphanError] that suggests the
// nearest registered name; a service calls it once its plugins are loaded and
// fails its startup on an error. [Registry.Actions] describes every name that
// has something on it: whether it is registered and how, its listeners in
// order, its replacements, blocks and invocations in flight. Both read the
// snapshots without a lock, one name after another.
//
// Every registration records where it was made: the file and line of the
// call of RegisterAction, AddListener, ReplaceAction or BlockAction (or of a
// typed handle's Register, Before, After, Replace or Block), as
// "dir/file.go:line", the file's base name under the last element of its
// directory. [Registry.Actions] and [Registry.Listeners] report it
// ([ActionInfo.Source], [ListenerInfo.Source], [ActionInfo.ReplacementSources],
// [ActionInfo.BlockSources]), so that a listener that never seems to run can
// be traced to the code that added it. A registration made through a helper
// of the caller's own records the helper's line. Registering keeps the
// call's program counter (one short stack read, about 0.2 µs, no
// allocation); it becomes a file and line only when reported, and invoking
// never reads it.
//
// # Testing
//
// Package [github.com/go-actions/actions/actionstest] does, once, what every
// test of code built on actions does, with plain testing. Its New returns a
// registry for one test which, when the test ends, fails it if an
// invocation is still in flight (naming the actions, then stopping them) or
// if an error the test did not expect reached the error handler. Its
// Recorder tells which invocations ran, nested how and ending with which
// [Status], and which listeners and bodies ran in which order, with
// assertions that show what was wanted and what ran. Its fakes stand in for
// bodies and listeners that return, abort, fail, or block until released.
//
// # Differences from Flex
//
//   - Registering a name twice fails with [ErrAlreadyRegistered]; Flex overwrites
//     the action silently, so plugins clobber each other.
//   - original, in a replacement, is the layer below. Flex 2.x passes the base body
//     as original (and the layer below as a third argument), so calling original
//     there silently skips other plugins' replacements.
//   - Event names are parsed strictly; Flex accepts any string. The action an
//     event names may be registered later; [Registry.Check] finds those never registered.
//   - A failing before-listener stops the invocation with an error; Flex logs it and
//     carries on. After-listener errors reach an error handler instead of the console.
//   - Listeners are removed by the handle their registration returned, not by
//     function value, and may have a priority and a name, or run once.
//   - Listeners run one after another unless a phase is made concurrent; Flex starts
//     all of a phase's listeners together.
//   - Invocations carry a context: values, cancellation, nesting and a depth limit.
//   - Typed handles check payload and result types at compile time.
//   - De-duplication is opt-in per action and may share the outcome instead of
//     rejecting; the registry can be closed and drained.
package actions
