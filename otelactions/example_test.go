package otelactions_test

import (
	"context"
	"errors"
	"fmt"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/go-actions/actions"
	"github.com/go-actions/actions/otelactions"
)

// A service adds the observer to its registry: here on an SDK tracer
// provider whose spans a recorder keeps. Without WithTracerProvider and
// WithMeterProvider, New uses the global providers.
func ExampleNew() {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))

	reg := actions.New(actions.WithObserver(otelactions.New(otelactions.WithTracerProvider(tp))))
	reg.RegisterAction("NotifyAgent", func(context.Context, any) (any, error) { return "sent", nil })
	reg.RegisterAction("AcceptTask", func(context.Context, any) (any, error) { return "assigned", nil })
	reg.AddListener("afterAcceptTask", func(ctx context.Context, task any) error {
		_, err := reg.Call(ctx, "NotifyAgent", task) // ctx nests it: a child span
		return err
	})

	ctx, request := tp.Tracer("service").Start(context.Background(), "POST /tasks/accept")
	reg.Call(ctx, "AcceptTask", "WT001")
	request.End()

	for _, s := range rec.Ended() {
		fmt.Printf("%s (parent %s)\n", s.Name(), nameOfID(rec, s.Parent().SpanID().String()))
	}
	// Output:
	// NotifyAgent (parent AcceptTask)
	// AcceptTask (parent POST /tasks/accept)
	// POST /tasks/accept (parent none)
}

// nameOfID returns the name of the span rec ended whose ID is id.
func nameOfID(rec *tracetest.SpanRecorder, id string) string {
	for _, s := range rec.Ended() {
		if s.SpanContext().SpanID().String() == id {
			return s.Name()
		}
	}
	return "none"
}

// Aborts and rejections are not errors of the action by default; a service
// that alerts on them makes their spans' status Error too.
func ExampleWithErrorStatusFor() {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	reg := actions.New(actions.WithObserver(otelactions.New(
		otelactions.WithTracerProvider(tp),
		otelactions.WithErrorStatusFor(actions.StatusAborted),
	)))
	reg.RegisterAction("AcceptTask", func(context.Context, any) (any, error) { return "assigned", nil })
	reg.AddListener("beforeAcceptTask", func(context.Context, any) error {
		return actions.Abort(errors.New("agent declined"))
	}, actions.Named("confirm"))

	reg.Call(context.Background(), "AcceptTask", "WT002")
	reg.Call(context.Background(), "Hangup", "WT002") // not registered: rejected

	for _, s := range rec.Ended() {
		fmt.Printf("%s: %v %q\n", s.Name(), s.Status().Code, s.Status().Description)
	}
	// Output:
	// AcceptTask: Error "actions: AcceptTask: action aborted in before phase by listener \"confirm\": agent declined"
	// Hangup: Unset ""
}

// With WithPayloads, the payload and the result are recorded as the span's
// attributes, formatted with %v.
func ExampleWithPayloads() {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	reg := actions.New(actions.WithObserver(otelactions.New(
		otelactions.WithTracerProvider(tp),
		otelactions.WithPayloads(true),
	)))
	reg.RegisterAction("AcceptTask", func(context.Context, any) (any, error) { return "assigned", nil })

	reg.Call(context.Background(), "AcceptTask", struct{ Task, Customer string }{"WT001", "Ada"})

	for _, kv := range rec.Ended()[0].Attributes() {
		if kv.Key == otelactions.PayloadKey || kv.Key == otelactions.ResultKey {
			fmt.Printf("%s=%s\n", kv.Key, kv.Value.AsString())
		}
	}
	// Output:
	// actions.payload={WT001 Ada}
	// actions.result=assigned
}

// The metrics, read here with a manual reader: each invocation is counted by
// action and outcome.
func ExampleWithMeterProvider() {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	reg := actions.New(actions.WithObserver(otelactions.New(otelactions.WithMeterProvider(mp))))
	reg.RegisterAction("AcceptTask", func(context.Context, any) (any, error) { return "assigned", nil })

	reg.Call(context.Background(), "AcceptTask", "WT001")
	reg.Call(context.Background(), "AcceptTask", "WT002")
	reg.Call(context.Background(), "Hangup", "WT002")

	var rm metricdata.ResourceMetrics
	reader.Collect(context.Background(), &rm)
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if sum, ok := m.Data.(metricdata.Sum[int64]); ok && m.Name == otelactions.InvocationsMetric {
			for _, dp := range sum.DataPoints {
				action, _ := dp.Attributes.Value(otelactions.ActionKey)
				outcome, _ := dp.Attributes.Value(otelactions.OutcomeKey)
				fmt.Printf("%s %s{%s=%s, %s=%s}: %d\n", m.Name, m.Unit, otelactions.ActionKey, action.AsString(),
					otelactions.OutcomeKey, outcome.AsString(), dp.Value)
			}
		}
	}
	// Unordered output:
	// actions.invocations {invocation}{actions.action=AcceptTask, actions.outcome=ok}: 2
	// actions.invocations {invocation}{actions.action=Hangup, actions.outcome=rejected}: 1
}
