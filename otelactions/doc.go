// Package otelactions traces and measures the invocations of actions
// (github.com/go-actions/actions) with OpenTelemetry: one span per
// invocation, and metrics of invocations, durations, invocations in flight
// and after-listener failures. It is an [actions.Observer]: a service adds
// it with one option, and a registry without it pays nothing.
//
//	obs := otelactions.New() // the global tracer and meter providers
//	reg := actions.New(actions.WithObserver(obs))
//
// # Spans
//
// Each invocation (InvokeAction, Call, a typed handle's Invoke or Call) is
// one span, started when the invocation begins and ended when its outcome is
// known, before its future completes: see "Observability" in the
// documentation of package actions. Invocations rejected before any stage
// runs (an unknown action, a closed registry, a block, a pending key) and
// those that share another's outcome have a span too.
//
// The span is a child of the span in the context the invocation was made
// with: the caller's for a top-level invocation. Its stages receive a
// context that carries it, so that an invocation a stage makes with its
// context (a body calling another action, an after-listener notifying, a
// replacement calling one) is its child, at any depth, synchronous or not,
// and so are the spans the stages start themselves. Calling original in a
// replacement is not an invocation and has no span.
//
// The span's name is the action's name, such as "AcceptTask": it identifies
// the class of work, as OpenTelemetry's naming guidance asks, and its
// cardinality is that of the registered actions. (An invocation of a name
// nobody registered is rejected, and named after what the caller asked for:
// a service that invokes names from untrusted input should check them first.)
// Its kind is internal; it starts at [actions.Invocation.Start] and lasts
// [actions.Outcome.Duration], exactly what the duration metric records.
//
// # Attributes
//
// A span has [ActionKey] (actions.action), [InvocationIDKey]
// (actions.invocation.id), [DepthKey] (actions.depth) and, for a nested
// invocation, [ParentIDKey] (actions.invocation.parent_id), set as it
// starts; [OutcomeKey] (actions.outcome), "ok", "aborted", "failed",
// "rejected" or "cancelled", the [actions.Status] of the outcome, set as it
// ends; and [SharedKey] (actions.shared) when it shared another's outcome.
// Attributes are set only on a span that is recorded, after the sampler
// decided: a sampler sees the span's name, which is the action's.
//
// For every outcome but ok, error.type is the outcome (the domain's own
// low-cardinality classification, as the semantic conventions advise) and
// [ErrorKey] (actions.error) the error's message; where the error says so,
// [StageKey] (actions.stage) is the stage it came from as
// [actions.Stage.String] names it ("before phase", "body", ...),
// [ListenerKey] (actions.listener) the [actions.Named] listener that aborted
// or failed, [PluginKey] (actions.plugin) the plugin whose listener, block or
// de-duplication rule ended it, [AbortReasonKey] (actions.abort.reason) the
// message of an abort's reason and [BlockReasonKey] (actions.block.reason)
// that of a block's. They are read from the library's [*actions.Error] as
// [actions.ErrorAttrs] reads them, without walking into what user code
// returned; messages are read with fmt, which contains a panicking Error
// method.
//
// A failed invocation has an exception event: exception.type is the type of
// the stage's own error, exception.message the invocation's error message,
// with actions.stage, actions.listener and actions.plugin. When the stage panicked,
// exception.type is the type of the panic's value and exception.stacktrace
// the stack of the panicking goroutine where it was recovered
// ([actions.PanicError.Stack]): the stack that says where it panicked, which
// span.RecordError with trace.WithStackTrace would not give.
//
// After-listener failures ([actions.Outcome.AfterErr]) do not change the
// outcome; each is an exception event too (with actions.stage "after phase"
// and the listener), and [AfterListenerFailuresKey]
// (actions.after_listener.failures) counts them.
//
// With [WithPayloads], [PayloadKey] (actions.payload) and, for an ok
// outcome, [ResultKey] (actions.result) record the payload and the result,
// formatted with fmt's %v. They are off by default: payloads may hold
// personal data.
//
// # Status
//
// The span of a failed invocation has status Error, with the error's message
// as its description. The others have status Unset: an abort is a
// listener's decision, a rejection and a cancellation the caller's, not
// errors of the action; [WithErrorStatusFor] makes them errors too. A span
// is never given status Ok: that is for the application to say.
//
// # Metrics
//
// The meter (scope [ScopeName]) records:
//
//   - [InvocationsMetric] (actions.invocations), a counter of the invocations
//     that ended, with actions.action and actions.outcome; unit {invocation}.
//   - [DurationMetric] (actions.invocation.duration), a histogram of their
//     durations in seconds, with actions.action and actions.outcome, with
//     the bucket boundaries OpenTelemetry recommends for durations (0.005,
//     0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10); a
//     view may override them; unit s.
//   - [InFlightMetric] (actions.invocations.in_flight), an up-down counter
//     of the invocations in flight, with actions.action: from the start of
//     the before phase until the future completes ([actions.InFlightObserver]);
//     rejected and sharing invocations are never in flight; unit {invocation}.
//   - [AfterListenerFailuresMetric] (actions.after_listener.failures), a
//     counter of failed after-listeners, with actions.action: one per error
//     joined in [actions.Outcome.AfterErr]; unit {failure}.
//
// Measurements are recorded with the invocation's context, whose span the
// SDK may take as an exemplar. The attribute sets are made once per action
// name (for the first 1024 names) and reused.
//
// # Cost
//
// The observer is only an observer: a registry without it runs no code of
// this package. With it, one invocation of an action with a before-listener
// and an after-listener (Registry.Call, context.Background), measured on a
// 2-core server, costs: about 0.9 µs and 2 allocations for the library's own
// observation, whatever the observer; about 0.65 µs and 5 allocations more
// for otelactions on OpenTelemetry's no-op providers; and about 7.5 µs and
// 13 allocations more on the SDK, every span sampled (see the README and
// BenchmarkObserver). The attributes, the payload and the result are
// computed only for a span that is recorded (sampled); a measurement builds
// no attribute set.
//
// # Concurrency
//
// An [Observer] is safe for concurrent use, and may observe several
// registries: everything it keeps per invocation is in the invocation's
// context. Its options are read once, by [New]; the global providers, when
// no provider is given, are read then too.
package otelactions
