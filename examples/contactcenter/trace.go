package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/go-actions/actions"
)

// tracer prints the demo's trace, indenting each line by the nesting of the
// invocation it belongs to. It is safe for concurrent use.
type tracer struct {
	mu  sync.Mutex // guards w and err
	w   io.Writer
	err error // the first write error, returned by run
}

// line prints one line at the given depth.
func (t *tracer) line(depth int, format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.err != nil {
		return
	}
	_, t.err = fmt.Fprintf(t.w, "%s%s\n", strings.Repeat("  ", depth), fmt.Sprintf(format, args...))
}

// printf prints a line inside the invocation whose stage, observer or error
// handler received ctx, indented by its depth ([actions.InvocationFrom]),
// or at the top level for a ctx that is not an invocation's.
func (t *tracer) printf(ctx context.Context, format string, args ...any) {
	inv, _ := actions.InvocationFrom(ctx) // depth 0 outside any invocation
	t.line(inv.Depth, format, args...)
}

// legendLines say how to read the trace; it starts with them, for a newcomer.
var legendLines = []string{
	"Tasks (WT001, ...) are chats or calls offered to an agent, who accepts, wraps up, completes.",
	"Wrap-up: the work after the conversation. Screen pop: the customer's CRM record, on accept.",
	`"> X" / "< X": invocation X begins / ends (the demo's own observer); nested ones indented.`,
	`"[name]": a plugin speaks; "body:": an action's own body.`,
	`aborted: a before-listener vetoed it; failed: a stage erred or panicked;`,
	`rejected: refused before any stage ran (unknown, blocked, pending, closed).`,
}

// legend prints legendLines and a blank line.
func (t *tracer) legend() {
	for _, l := range legendLines {
		t.line(0, "%s", l)
	}
	t.line(0, "")
}

func (t *tracer) error() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err
}

// traceObserver prints a line as each invocation begins and ends: the
// skeleton of the trace that plugins and bodies fill in, one level less
// indented than the lines of the invocation's stages.
type traceObserver struct{ t *tracer }

func (o traceObserver) InvocationBegin(ctx context.Context, inv actions.Invocation) context.Context {
	o.t.line(inv.Depth-1, "> %s %v", inv.Action, inv.Payload)
	return ctx
}

func (o traceObserver) InvocationEnd(_ context.Context, inv actions.Invocation, out actions.Outcome) {
	if st := out.Status(); st != actions.StatusOK {
		o.t.line(inv.Depth-1, "< %s %s", inv.Action, st) // aborted, failed, rejected or cancelled
		return
	}
	o.t.line(inv.Depth-1, "< %s ok: %v", inv.Action, out.Result)
}
