package otelactions

import (
	"fmt"

	"github.com/go-actions/actions"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// Option configures an [Observer] at [New].
type Option func(*config)

type config struct {
	tp          trace.TracerProvider
	mp          metric.MeterProvider
	payloads    bool
	errorStatus statusSet
}

// statusSet is a set of [actions.Status], one bit each.
type statusSet uint32

func (s statusSet) has(st actions.Status) bool { return st < 32 && s&(1<<st) != 0 }

// WithTracerProvider sets the provider of the observer's tracer. The default
// is the global provider (otel.GetTracerProvider) as it is when [New] is
// called. A nil provider keeps the default.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) {
		if tp != nil {
			c.tp = tp
		}
	}
}

// WithMeterProvider sets the provider of the observer's meter. The default
// is the global provider (otel.GetMeterProvider) as it is when [New] is
// called. A nil provider keeps the default.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) {
		if mp != nil {
			c.mp = mp
		}
	}
}

// WithPayloads records each invocation's payload ([PayloadKey]) and, when it
// ended ok, its result ([ResultKey]) as span attributes, formatted with fmt's
// %v (which contains a panicking String method). The default is off:
// payloads may hold personal data, and formatting them costs on every
// invocation whose span is recorded. A payload is formatted when its
// invocation begins, before any stage runs; a payload that stages change
// concurrently with other goroutines must be synchronised as usual.
func WithPayloads(on bool) Option {
	return func(c *config) { c.payloads = on }
}

// WithErrorStatusFor makes the spans of invocations that ended with any of
// statuses have status Error too. By default only failed invocations
// ([actions.StatusFailed]) have status Error, and always do; the spans of
// the others have status Unset, as OpenTelemetry advises for outcomes that
// are not errors of the operation itself: an abort is a listener's decision,
// a rejection or a cancellation the caller's. A service that wants to alert
// on them adds them:
//
//	otelactions.New(otelactions.WithErrorStatusFor(actions.StatusAborted, actions.StatusRejected))
//
// Options given more than once add up. [actions.StatusOK], or a status the
// package does not know, panics.
func WithErrorStatusFor(statuses ...actions.Status) Option {
	var set statusSet
	for _, st := range statuses {
		if st == actions.StatusOK || st > actions.StatusCancelled {
			panic(fmt.Sprintf("otelactions: WithErrorStatusFor: %v is not an outcome that can be an error", st))
		}
		set |= 1 << st
	}
	return func(c *config) { c.errorStatus |= set }
}
