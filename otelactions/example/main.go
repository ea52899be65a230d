// Command example traces a contact centre's actions with otelactions and
// prints the span tree that OpenTelemetry's stdout exporter wrote: an agent
// accepts a chat (a screen pop replaces AcceptTask and calls the original;
// an after-listener notifies the agent through a nested action), declines a
// call at the confirmation prompt, and completes a task too early.
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/go-actions/actions"
	"github.com/go-actions/actions/otelactions"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "example:", err)
		os.Exit(1)
	}
}

func run(w io.Writer) error {
	// The stdout exporter writes each span as JSON when it ends (a syncer,
	// not a batcher, so that nothing is pending when the shift is over).
	var exported bytes.Buffer
	exp, err := stdouttrace.New(stdouttrace.WithWriter(&exported))
	if err != nil {
		return err
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer tp.Shutdown(context.Background())

	// The two lines a service adds (here with the example's provider rather
	// than the global one, and with payloads, which are off by default).
	obs := otelactions.New(otelactions.WithTracerProvider(tp), otelactions.WithPayloads(true))
	reg := actions.New(actions.WithObserver(obs), actions.WithErrorHandler(func(context.Context, error) {}))

	c, err := newCentre(reg)
	if err != nil {
		return err
	}
	ctx, shift := tp.Tracer("example").Start(context.Background(), "contact-centre shift")
	c.shift(ctx)
	shift.End()

	spans, err := parseSpans(&exported)
	if err != nil {
		return err
	}
	return printTree(w, spans)
}

// Task is a task offered to the agent.
type Task struct {
	ID, Channel, Customer string
	Status                string
}

func (t *Task) String() string { return fmt.Sprintf("%s (%s from %s)", t.ID, t.Channel, t.Customer) }

var (
	// ErrDeclined is the reason the agent gives at the prompt.
	ErrDeclined = errors.New("agent declined")
	// ErrNotWrapped is why a task cannot be completed yet.
	ErrNotWrapped = errors.New("task is not wrapped up")
)

// centre is the contact centre's actions and plugins on one registry.
type centre struct {
	accept, complete actions.Action[*Task, string]
	notify           actions.Action[string, string]
}

func newCentre(reg *actions.Registry) (*centre, error) {
	c := &centre{
		accept:   actions.Typed[*Task, string](reg, "AcceptTask"),
		complete: actions.Typed[*Task, string](reg, "CompleteTask"),
		notify:   actions.Typed[string, string](reg, "NotifyAgent"),
	}
	_, err1 := c.accept.Register(func(_ context.Context, t *Task) (string, error) {
		t.Status = "assigned"
		return t.Status, nil
	})
	_, err2 := c.complete.Register(func(_ context.Context, t *Task) (string, error) {
		if t.Status != "wrapping" {
			return "", fmt.Errorf("%s is %s: %w", t.ID, t.Status, ErrNotWrapped)
		}
		t.Status = "completed"
		return t.Status, nil
	})
	_, err3 := c.notify.Register(func(_ context.Context, msg string) (string, error) {
		return "sent: " + msg, nil
	})

	// The confirmation prompt: the agent declines calls.
	c.accept.Before(func(_ context.Context, t *Task) error {
		if t.Channel == "voice" {
			return actions.Abort(fmt.Errorf("%w %s", ErrDeclined, t.ID))
		}
		return nil
	}, actions.Named("confirm-accept"))
	// The screen pop opens the customer's record, then runs the original.
	// Its ctx carries AcceptTask's span: it says what it did there.
	c.accept.Replace(func(ctx context.Context, t *Task, original func(context.Context, *Task) (string, error)) (string, error) {
		trace.SpanFromContext(ctx).AddEvent("screen pop", trace.WithAttributes(attribute.String("crm.customer", t.Customer)))
		return original(ctx, t)
	})
	// The notifier tells the agent, through an action of its own, nested in
	// AcceptTask's span because it is invoked with the listener's ctx.
	c.accept.After(func(ctx context.Context, t *Task) error {
		_, err := c.notify.Call(ctx, t.ID+" accepted")
		return err
	}, actions.Named("accept-notifier"))
	return c, errors.Join(err1, err2, err3)
}

// shift runs the scenario; the outcomes are in the spans.
func (c *centre) shift(ctx context.Context) {
	chat := &Task{ID: "WT001", Channel: "chat", Customer: "Ada", Status: "reserved"}
	call := &Task{ID: "WT002", Channel: "voice", Customer: "Grace", Status: "reserved"}
	_, _ = c.accept.Call(ctx, chat)   // ok, with a nested NotifyAgent
	_, _ = c.accept.Call(ctx, call)   // aborted by confirm-accept
	_, _ = c.complete.Call(ctx, chat) // failed: not wrapped up
}
