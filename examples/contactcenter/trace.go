package main

import (
	"context"
	"errors"
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

// printf prints a line inside the invocation whose stage received ctx, or at
// the top level for a ctx that is not an invocation's.
func (t *tracer) printf(ctx context.Context, format string, args ...any) {
	t.line(depthOf(ctx), format, args...)
}

func (t *tracer) error() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err
}

type depthKey struct{}

// depthOf returns the nesting depth of the invocation ctx belongs to, 0
// outside any invocation. The library does not expose it to stages, so
// traceObserver puts it in the context it returns from InvocationBegin, which
// every stage then receives.
func depthOf(ctx context.Context) int {
	d, _ := ctx.Value(depthKey{}).(int)
	return d
}

// traceObserver prints a line as each invocation begins and ends: the
// skeleton of the trace that plugins and bodies fill in.
type traceObserver struct{ t *tracer }

func (o traceObserver) InvocationBegin(ctx context.Context, inv actions.Invocation) context.Context {
	o.t.line(inv.Depth-1, "> %s %v", inv.Action, inv.Payload)
	return context.WithValue(ctx, depthKey{}, inv.Depth)
}

func (o traceObserver) InvocationEnd(_ context.Context, inv actions.Invocation, out actions.Outcome) {
	switch {
	case out.Aborted:
		o.t.line(inv.Depth-1, "< %s aborted", inv.Action)
	case errors.Is(out.Err, actions.ErrFailed):
		o.t.line(inv.Depth-1, "< %s failed", inv.Action)
	case out.Err != nil:
		o.t.line(inv.Depth-1, "< %s rejected", inv.Action)
	default:
		o.t.line(inv.Depth-1, "< %s ok: %v", inv.Action, out.Result)
	}
}
