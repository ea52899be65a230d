package otelactions

import (
	"context"
	"fmt"

	"github.com/go-actions/actions"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// Observer is an [actions.Observer] and [actions.InFlightObserver] that
// traces each invocation as a span and records its metrics (see the package
// documentation). Make one with [New] and give it to a registry with
// [actions.WithObserver]. It is safe for concurrent use, and one Observer
// may observe several registries.
type Observer struct {
	tracer      trace.Tracer
	payloads    bool
	errorStatus statusSet
	metrics     *instruments
}

var (
	_ actions.Observer         = (*Observer)(nil)
	_ actions.InFlightObserver = (*Observer)(nil)
)

// New returns an Observer configured by opts. It gets its tracer and meter
// (scope [ScopeName]) and creates its instruments once, here; an instrument
// the meter provider fails to create is reported to otel.Handle and records
// nothing.
func New(opts ...Option) *Observer {
	c := config{errorStatus: 1 << actions.StatusFailed}
	for _, opt := range opts {
		opt(&c)
	}
	if c.tp == nil {
		c.tp = otel.GetTracerProvider()
	}
	if c.mp == nil {
		c.mp = otel.GetMeterProvider()
	}
	return &Observer{
		tracer:      c.tp.Tracer(ScopeName),
		payloads:    c.payloads,
		errorStatus: c.errorStatus,
		metrics:     newInstruments(c.mp),
	}
}

// spanKey is the context key of the span an Observer started for an
// invocation. It is keyed by the observer, so that InvocationEnd ends its
// own span even when a later observer put another span in the context.
type spanKey struct{ o *Observer }

// InvocationBegin starts the invocation's span, a child of the span in ctx
// (the caller's, or the invocation's whose stage made this one), and
// returns ctx with the span in it, so that the stages' spans and the
// invocations they make are its children.
func (o *Observer) InvocationBegin(ctx context.Context, inv actions.Invocation) context.Context {
	ctx, span := o.tracer.Start(ctx, inv.Action, internal, trace.WithTimestamp(inv.Start))
	if span.IsRecording() {
		o.setBegin(span, inv)
	}
	return context.WithValue(ctx, spanKey{o}, span)
}

// internal is the kind of every span.
var internal = trace.WithSpanKind(trace.SpanKindInternal)

// setBegin sets the attributes of the invocation on its span. They are set
// once the span is started, and only if it is recorded, so that an
// invocation whose span is not (no SDK, or not sampled) costs none of them;
// a sampler decides on the span's name, the action's.
func (o *Observer) setBegin(span trace.Span, inv actions.Invocation) {
	attrs := make([]attribute.KeyValue, 0, 5)
	attrs = append(attrs,
		ActionKey.String(inv.Action),
		InvocationIDKey.Int64(int64(inv.ID)),
		DepthKey.Int(inv.Depth))
	if inv.ParentID != 0 {
		attrs = append(attrs, ParentIDKey.Int64(int64(inv.ParentID)))
	}
	if o.payloads {
		attrs = append(attrs, PayloadKey.String(fmt.Sprintf("%v", inv.Payload)))
	}
	span.SetAttributes(attrs...)
}

// InvocationEnd records the invocation's metrics, then sets the outcome on
// its span and ends it, at the invocation's start plus its duration: the span
// lasts exactly what the duration metric records.
func (o *Observer) InvocationEnd(ctx context.Context, inv actions.Invocation, out actions.Outcome) {
	st := out.Status()
	sets := o.metrics.setsOf(inv.Action)
	add, record := sets.outcome(inv.Action, st)
	o.metrics.invocations.Add(ctx, 1, add...)
	o.metrics.duration.Record(ctx, out.Duration.Seconds(), record...)
	afterErrs := joined(out.AfterErr)
	if len(afterErrs) > 0 {
		o.metrics.afterFailures.Add(ctx, int64(len(afterErrs)), sets.action...)
	}

	span, ok := ctx.Value(spanKey{o}).(trace.Span)
	if !ok {
		return
	}
	if !span.IsRecording() {
		span.End()
		return
	}
	defer span.End(trace.WithTimestamp(inv.Start.Add(out.Duration)))
	o.setOutcome(span, st, out, afterErrs)
}

// InFlightBegin counts the invocation in flight.
func (o *Observer) InFlightBegin(ctx context.Context, inv actions.Invocation) {
	o.metrics.inFlight.Add(ctx, 1, o.metrics.setsOf(inv.Action).action...)
}

// InFlightEnd counts the invocation out of flight.
func (o *Observer) InFlightEnd(ctx context.Context, inv actions.Invocation) {
	o.metrics.inFlight.Add(ctx, -1, o.metrics.setsOf(inv.Action).action...)
}
