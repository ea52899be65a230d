package otelactions_test

import (
	"context"
	"testing"

	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/go-actions/actions"
	"github.com/go-actions/actions/otelactions"
)

// benchPayload counts what ran, so that the benchmark checks its work.
type benchPayload struct{ before, body, after int }

// newChain1 returns a registry with the action chain1: one before-listener,
// the body, one after-listener.
func newChain1(b *testing.B, opts ...actions.Option) *actions.Registry {
	b.Helper()
	r := actions.New(opts...)
	if _, err := r.RegisterAction("chain1", func(_ context.Context, p any) (any, error) {
		p.(*benchPayload).body++
		return p, nil
	}); err != nil {
		b.Fatal(err)
	}
	r.AddListener("beforechain1", func(_ context.Context, p any) error {
		p.(*benchPayload).before++
		return nil
	})
	r.AddListener("afterchain1", func(_ context.Context, p any) error {
		p.(*benchPayload).after++
		return nil
	})
	return r
}

// BenchmarkObserver measures what the observer adds to one invocation of
// chain1 through Registry.Call with context.Background:
//
//   - observer=none: no observer, the baseline;
//   - observer=empty: an observer that does nothing, what the library itself
//     spends on observing an invocation (IDs, the observer's calls, the
//     invocation's context), whatever the observer;
//   - observer=noop: otelactions on OpenTelemetry's no-op providers, what a
//     service pays when it installs the observer but no SDK;
//   - observer=sdk: otelactions on the SDK, every span sampled and kept by
//     an in-memory recorder (reset every 4096 spans, so that memory stays
//     bounded), metrics aggregated for a manual reader.
func BenchmarkObserver(b *testing.B) {
	observers := []struct {
		name string
		opts func(b *testing.B) (opts []actions.Option, reset func())
	}{
		{"none", func(*testing.B) ([]actions.Option, func()) { return nil, func() {} }},
		{"empty", func(*testing.B) ([]actions.Option, func()) {
			return []actions.Option{actions.WithObserver(emptyObserver{})}, func() {}
		}},
		{"noop", func(*testing.B) ([]actions.Option, func()) {
			obs := otelactions.New(
				otelactions.WithTracerProvider(tracenoop.NewTracerProvider()),
				otelactions.WithMeterProvider(metricnoop.NewMeterProvider()))
			return []actions.Option{actions.WithObserver(obs)}, func() {}
		}},
		{"sdk", func(b *testing.B) ([]actions.Option, func()) {
			rec := tracetest.NewSpanRecorder()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
			b.Cleanup(func() {
				_ = tp.Shutdown(context.Background())
				_ = mp.Shutdown(context.Background())
			})
			obs := otelactions.New(otelactions.WithTracerProvider(tp), otelactions.WithMeterProvider(mp))
			return []actions.Option{actions.WithObserver(obs)}, rec.Reset
		}},
	}
	for _, o := range observers {
		b.Run("observer="+o.name, func(b *testing.B) {
			opts, reset := o.opts(b)
			r := newChain1(b, opts...)
			ctx := context.Background()
			p := &benchPayload{}
			n := 0
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.Call(ctx, "chain1", p); err != nil {
					b.Fatal(err)
				}
				if n++; n%4096 == 0 {
					reset()
				}
			}
			if p.before != n || p.body != n || p.after != n {
				b.Fatalf("after %d invocations: before=%d body=%d after=%d", n, p.before, p.body, p.after)
			}
		})
	}
}

// emptyObserver sees every invocation and does nothing.
type emptyObserver struct{}

func (emptyObserver) InvocationBegin(ctx context.Context, _ actions.Invocation) context.Context {
	return ctx
}
func (emptyObserver) InvocationEnd(context.Context, actions.Invocation, actions.Outcome) {}
func (emptyObserver) InFlightBegin(context.Context, actions.Invocation)                  {}
func (emptyObserver) InFlightEnd(context.Context, actions.Invocation)                    {}
