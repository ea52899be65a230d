package otelactions_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/go-actions/actions"
	"github.com/go-actions/actions/otelactions"
)

// harness is an Observer on the SDK, with spans kept by a recorder and
// metrics read on demand.
type harness struct {
	obs    *otelactions.Observer
	tp     *sdktrace.TracerProvider
	rec    *tracetest.SpanRecorder
	reader *sdkmetric.ManualReader
}

func newHarness(t testing.TB, opts ...otelactions.Option) *harness {
	t.Helper()
	h := &harness{rec: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader()}
	h.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(h.rec))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(h.reader))
	h.obs = otelactions.New(append([]otelactions.Option{
		otelactions.WithTracerProvider(h.tp),
		otelactions.WithMeterProvider(mp),
	}, opts...)...)
	return h
}

// registry returns a registry observed by h whose after-listener failures
// are dropped (they are observed, not logged).
func (h *harness) registry(opts ...actions.Option) *actions.Registry {
	return actions.New(append([]actions.Option{
		actions.WithObserver(h.obs),
		actions.WithErrorHandler(func(context.Context, error) {}),
	}, opts...)...)
}

// ended returns the spans ended so far, in the order they ended.
func (h *harness) ended() []sdktrace.ReadOnlySpan { return h.rec.Ended() }

// only returns the one span ended so far, failing t unless there is one.
func (h *harness) only(t testing.TB) sdktrace.ReadOnlySpan {
	t.Helper()
	spans := h.ended()
	require.Len(t, spans, 1)
	return spans[0]
}

// byName returns the ended spans named name.
func (h *harness) byName(name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range h.ended() {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

// collect reads the metrics recorded so far.
func (h *harness) collect(t testing.TB) metricdata.ResourceMetrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, h.reader.Collect(context.Background(), &rm))
	return rm
}

// attrs returns kvs as a map.
func attrs(kvs []attribute.KeyValue) map[attribute.Key]attribute.Value {
	m := make(map[attribute.Key]attribute.Value, len(kvs))
	for _, kv := range kvs {
		m[kv.Key] = kv.Value
	}
	return m
}

// metricOf returns the metric named name, failing t unless it was recorded.
func metricOf(t testing.TB, rm metricdata.ResourceMetrics, name string) metricdata.Metrics {
	t.Helper()
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				require.Equal(t, otelactions.ScopeName, sm.Scope.Name)
				return m
			}
		}
	}
	require.FailNow(t, "metric not recorded", name)
	return metricdata.Metrics{}
}

// outcomeKey is the action and outcome of a data point.
type outcomeKey struct{ action, outcome string }

func keyOf(set attribute.Set) outcomeKey {
	a, _ := set.Value(otelactions.ActionKey)
	o, _ := set.Value(otelactions.OutcomeKey)
	return outcomeKey{a.AsString(), o.AsString()}
}

// sums returns the int64 sum's points by action and outcome (outcome empty
// for a metric by action alone).
func sums(t testing.TB, rm metricdata.ResourceMetrics, name string) map[outcomeKey]int64 {
	t.Helper()
	sum, ok := metricOf(t, rm, name).Data.(metricdata.Sum[int64])
	require.True(t, ok, "%s is an int64 sum", name)
	out := map[outcomeKey]int64{}
	for _, dp := range sum.DataPoints {
		out[keyOf(dp.Attributes)] = dp.Value
	}
	return out
}

// histogram returns the duration histogram's points by action and outcome.
func histogram(t testing.TB, rm metricdata.ResourceMetrics) map[outcomeKey]metricdata.HistogramDataPoint[float64] {
	t.Helper()
	h, ok := metricOf(t, rm, otelactions.DurationMetric).Data.(metricdata.Histogram[float64])
	require.True(t, ok, "duration is a float64 histogram")
	out := map[outcomeKey]metricdata.HistogramDataPoint[float64]{}
	for _, dp := range h.DataPoints {
		out[keyOf(dp.Attributes)] = dp
	}
	return out
}

// register registers body as name on r, failing t on an error.
func register(t testing.TB, r *actions.Registry, name string, body actions.Body, opts ...actions.ActionOption) {
	t.Helper()
	_, err := r.RegisterAction(name, body, opts...)
	require.NoError(t, err)
}

// ok is a body that returns its payload.
func ok(_ context.Context, p any) (any, error) { return p, nil }
