package otelactions_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/go-actions/actions"
	"github.com/go-actions/actions/otelactions"
)

// Without provider options, New uses the global providers as they are when
// it is called.
func TestNew_globalProviders(t *testing.T) {
	prevTP, prevMP := otel.GetTracerProvider(), otel.GetMeterProvider()
	t.Cleanup(func() {
		otel.SetTracerProvider(prevTP)
		otel.SetMeterProvider(prevMP)
	})
	rec, reader := tracetest.NewSpanRecorder(), sdkmetric.NewManualReader()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)))
	otel.SetMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)))

	obs := otelactions.New()
	later := tracetest.NewSpanRecorder()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(later)))
	r := actions.New(actions.WithObserver(obs))
	register(t, r, "A", ok)
	_, err := r.Call(context.Background(), "A", nil)
	require.NoError(t, err)

	assert.Len(t, rec.Ended(), 1, "the global tracer provider of New's time")
	assert.Empty(t, later.Ended(), "not one set later")
	h := &harness{reader: reader}
	assert.Equal(t, map[outcomeKey]int64{{"A", "ok"}: 1}, sums(t, h.collect(t), otelactions.InvocationsMetric))
}

// A nil provider keeps the default, the global one.
func TestWithProviders_nilKeepsDefault(t *testing.T) {
	prevTP := otel.GetTracerProvider()
	t.Cleanup(func() { otel.SetTracerProvider(prevTP) })
	rec := tracetest.NewSpanRecorder()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)))

	r := actions.New(actions.WithObserver(otelactions.New(otelactions.WithTracerProvider(nil), otelactions.WithMeterProvider(nil))))
	register(t, r, "A", ok)
	_, err := r.Call(context.Background(), "A", nil)
	require.NoError(t, err)

	assert.Len(t, rec.Ended(), 1)
}

// On the no-op providers the observer records nothing and changes nothing:
// stages still see the caller's span, and outcomes are the same.
func TestNoopProviders(t *testing.T) {
	obs := otelactions.New(
		otelactions.WithTracerProvider(tracenoop.NewTracerProvider()),
		otelactions.WithMeterProvider(metricnoop.NewMeterProvider()),
		otelactions.WithPayloads(true))
	r := actions.New(actions.WithObserver(obs))
	var seen trace.SpanContext
	register(t, r, "A", func(ctx context.Context, p any) (any, error) {
		seen = trace.SpanContextFromContext(ctx)
		return p, nil
	})
	rec := tracetest.NewSpanRecorder()
	ctx, caller := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)).Tracer("test").Start(context.Background(), "caller")

	res, err := r.Call(ctx, "A", 42)

	require.NoError(t, err)
	assert.Equal(t, 42, res)
	assert.Equal(t, caller.SpanContext(), seen, "the no-op span carries the caller's span context")
}

// countingStringer counts how often it is formatted.
type countingStringer struct{ n *int }

func (c countingStringer) String() string {
	*c.n++
	return "formatted"
}

// A span that is not sampled costs no attributes: the payload is not even
// formatted; its stages still see its (unsampled) span context.
func TestSpans_notSampled(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec), sdktrace.WithSampler(sdktrace.NeverSample()))
	r := actions.New(actions.WithObserver(otelactions.New(otelactions.WithTracerProvider(tp), otelactions.WithPayloads(true))))
	var seen trace.SpanContext
	register(t, r, "A", func(ctx context.Context, p any) (any, error) {
		seen = trace.SpanContextFromContext(ctx)
		return p, nil
	})
	formatted := 0

	_, err := r.Call(context.Background(), "A", countingStringer{&formatted})

	require.NoError(t, err)
	assert.Zero(t, formatted, "the payload of an unsampled span is not formatted")
	assert.Empty(t, rec.Ended())
	assert.True(t, seen.IsValid(), "the stages see the span context")
	assert.False(t, seen.IsSampled())
}
