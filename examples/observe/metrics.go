package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/go-actions/actions"
)

// metrics is an observer that counts invocations by action and outcome, and
// tracks how many are in flight at once, as a metrics adapter (Prometheus,
// OpenTelemetry) would. It is safe for concurrent use.
type metrics struct {
	mu       sync.Mutex        // guards the fields below
	counts   map[[2]string]int // by action and outcome
	inFlight int               // invocations in their in-flight window now
	peak     int               // the most there ever were
}

func newMetrics() *metrics { return &metrics{counts: make(map[[2]string]int)} }

func (m *metrics) InvocationBegin(ctx context.Context, _ actions.Invocation) context.Context {
	return ctx
}

func (m *metrics) InvocationEnd(_ context.Context, inv actions.Invocation, out actions.Outcome) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.counts[[2]string{inv.Action, out.Status().String()}]++
}

// InFlightBegin and InFlightEnd make metrics an [actions.InFlightObserver].
func (m *metrics) InFlightBegin(context.Context, actions.Invocation) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.inFlight++
	m.peak = max(m.peak, m.inFlight)
}

func (m *metrics) InFlightEnd(context.Context, actions.Invocation) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.inFlight--
}

// print writes the counts, sorted by action and outcome, and the peak.
func (m *metrics) print(w io.Writer) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	keys := make([][2]string, 0, len(m.counts))
	for k := range m.counts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b [2]string) int {
		return cmp.Or(strings.Compare(a[0], b[0]), strings.Compare(a[1], b[1]))
	})
	var b strings.Builder
	b.WriteString("metrics:\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "  %-16s %-8s %d\n", k[0], k[1], m.counts[k])
	}
	fmt.Fprintf(&b, "  in flight now %d, at most %d\n", m.inFlight, m.peak)
	_, err := io.WriteString(w, b.String())
	return err
}
