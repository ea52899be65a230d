package otelactions

import "go.opentelemetry.io/otel/attribute"

// ScopeName is the instrumentation scope of the tracer and the meter the
// observer gets from its providers.
const ScopeName = "github.com/go-actions/actions/otelactions"

// The attributes of an invocation's span (see "Spans" in the package
// documentation). ActionKey and OutcomeKey are also the attributes of the
// metrics.
const (
	// ActionKey is the action's name: [actions.Invocation.Action].
	ActionKey = attribute.Key("actions.action")
	// InvocationIDKey is the invocation's ID, unique within its registry:
	// [actions.Invocation.ID].
	InvocationIDKey = attribute.Key("actions.invocation.id")
	// ParentIDKey is the ID of the invocation whose stage started this one,
	// set only for a nested invocation: [actions.Invocation.ParentID].
	ParentIDKey = attribute.Key("actions.invocation.parent_id")
	// DepthKey is the nesting depth, 1 for a top-level invocation:
	// [actions.Invocation.Depth].
	DepthKey = attribute.Key("actions.depth")
	// OutcomeKey is how the invocation ended: "ok", "aborted", "failed",
	// "rejected" or "cancelled", the [actions.Status] of its outcome.
	OutcomeKey = attribute.Key("actions.outcome")
	// StageKey is the stage an invocation's error (or an after-listener's
	// failure) came from, as [actions.Stage.String] names it: "before
	// phase", "body", "after phase", ... Unset for an error that arose
	// outside user code (a rejection).
	StageKey = attribute.Key("actions.stage")
	// ListenerKey is the name of the listener that aborted or failed, when
	// it was given one with [actions.Named].
	ListenerKey = attribute.Key("actions.listener")
	// AbortReasonKey is the message of an abort's reason, when it has one.
	AbortReasonKey = attribute.Key("actions.abort.reason")
	// PluginKey is the name of the plugin whose listener, block or
	// de-duplication rule ended the invocation (see [actions.Error.Plugin]),
	// when it was installed by one.
	PluginKey = attribute.Key("actions.plugin")
	// BlockReasonKey is the message of a block's reason (see
	// [actions.Reason]), when it has one.
	BlockReasonKey = attribute.Key("actions.block.reason")
	// ErrorKey is the message of the invocation's error, for every outcome
	// but ok.
	ErrorKey = attribute.Key("actions.error")
	// SharedKey is true when the invocation shared the outcome of another
	// with the same de-duplication key ([actions.SharePending]); unset
	// otherwise.
	SharedKey = attribute.Key("actions.shared")
	// AfterListenerFailuresKey is the number of after-listeners that failed
	// ([actions.Outcome.AfterErr]), set only when some did. Each failure is
	// also an exception event.
	AfterListenerFailuresKey = attribute.Key("actions.after_listener.failures")
	// PayloadKey is the payload as the caller passed it, formatted with
	// fmt's %v; recorded only with [WithPayloads].
	PayloadKey = attribute.Key("actions.payload")
	// ResultKey is the result of an invocation that ended ok, formatted with
	// fmt's %v; recorded only with [WithPayloads].
	ResultKey = attribute.Key("actions.result")
)

// The names of the metrics (see "Metrics" in the package documentation).
const (
	// InvocationsMetric counts the invocations that ended, by ActionKey and
	// OutcomeKey. Unit "{invocation}".
	InvocationsMetric = "actions.invocations"
	// DurationMetric is the histogram of the invocations' durations, by
	// ActionKey and OutcomeKey. Unit "s".
	DurationMetric = "actions.invocation.duration"
	// InFlightMetric is the number of invocations in flight, by ActionKey: an
	// up-down counter fed by the in-flight window of
	// [actions.InFlightObserver]. Unit "{invocation}".
	InFlightMetric = "actions.invocations.in_flight"
	// AfterListenerFailuresMetric counts the after-listeners that failed, by
	// ActionKey: each of the errors joined in [actions.Outcome.AfterErr].
	// Unit "{failure}".
	AfterListenerFailuresMetric = "actions.after_listener.failures"
)

// durationBuckets are the explicit bucket boundaries, in seconds, that
// DurationMetric advises: those OpenTelemetry's semantic conventions
// recommend for durations.
var durationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}
