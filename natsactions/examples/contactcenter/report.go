package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/go-actions/actions/natsactions"
)

// reporting is the reporting service: a durable consumer of the events the
// replicas publish. Delivery is at least once, so it keeps each invocation
// once, by event ID.
type reporting struct {
	mu     sync.Mutex                    // guards events
	events map[string]*natsactions.Event // by Event.ID
}

// startReporting subscribes the reporting service on a connection of its
// own; down stops it.
func startReporting(ctx context.Context, url string, down *closers) (*reporting, error) {
	_, js, err := connect(url, "reporting", down)
	if err != nil {
		return nil, err
	}
	r := &reporting{events: map[string]*natsactions.Event{}}
	sub, err := natsactions.Subscribe(ctx, js, "reporting", func(_ context.Context, ev *natsactions.Event) error {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.events[ev.ID] = ev
		return nil
	})
	if err != nil {
		return nil, err
	}
	down.add(sub.Stop)
	return r, nil
}

func (r *reporting) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

// print writes the report: the invocations, the replicas they ran on, and
// those that did not succeed, with their errors.
func (r *reporting) print(w io.Writer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	sources, ok := map[string]bool{}, 0
	var failures []string
	for _, ev := range r.events {
		sources[ev.Source] = true
		if ev.Status == "ok" {
			ok++
			continue
		}
		var sid string
		ev.DecodePayload(&sid)
		failures = append(failures, fmt.Sprintf("  %s %s: %s", sid, ev.Status, ev.Error))
	}
	slices.Sort(failures)
	fmt.Fprintf(w, "%d invocations of AcceptTask, each once, from %s\n", len(r.events), strings.Join(slices.Sorted(maps.Keys(sources)), ", "))
	fmt.Fprintf(w, "ok: %d, not ok: %d\n%s\n", ok, len(failures), strings.Join(failures, "\n"))
}
