package actionstest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-actions/actions"
)

// closeTimeout bounds each of the two waits at the end of a test: the
// graceful Close, then the Stop that follows it when invocations leaked.
const closeTimeout = 5 * time.Second

// recorders maps each registry made by New to its recorder, from New until
// the end of the test's cleanup. Observers are given to actions.New only,
// and a registry cannot be asked for its own, so Record finds it here.
var recorders sync.Map // *actions.Registry -> *Recorder

// New returns a registry for the test t, configured by opts, with a
// [Recorder] installed: [Record] returns it. Every invocation is observed,
// so it costs an ID and a record more than on a registry without observer.
//
// When the test ends, its cleanup closes the registry and waits for the
// invocations in flight, at most 5 seconds. If some are still running then,
// the test fails with a message that names their actions, and the registry
// is stopped ([actions.Registry.Stop]: their contexts are cancelled, and the
// cleanup waits 5 seconds more). Then, unless the test called
// [Recorder.AllowHandledErrors], the test fails if any error reached the
// error handler, and the message lists them. A test that passes pays one
// Close of an idle registry.
//
// New's error handler and observer come before opts. Observers in opts are
// added to New's; an [actions.WithErrorHandler] in opts replaces New's, and
// the recorder then records the after-listeners' failures only (see "The
// error handler and the observer" in the package documentation).
func New(t testing.TB, opts ...actions.Option) *actions.Registry {
	t.Helper()
	rec := &Recorder{ids: map[uint64]int{}, pending: map[uint64]error{}}
	all := append([]actions.Option{actions.WithErrorHandler(rec.handle), actions.WithObserver(observer{rec})}, opts...)
	reg := actions.New(all...)
	recorders.Store(reg, rec)
	t.Cleanup(func() {
		defer recorders.Delete(reg)
		if msg := drain(reg, rec); msg != "" {
			t.Errorf("%s", msg)
		}
		if msg := rec.unexpected(); msg != "" {
			t.Errorf("%s", msg)
		}
	})
	return reg
}

// Record returns the recorder of reg, a registry that [New] made, from the
// moment New returns until the test's cleanup has checked it. It panics for
// any other registry: that is a mistake in the test.
func Record(reg *actions.Registry) *Recorder {
	if rec, ok := recorders.Load(reg); ok {
		return rec.(*Recorder)
	}
	panic("actionstest: Record: the registry was not made by actionstest.New, or its test has ended")
}

// drain closes reg and waits for its invocations, at most closeTimeout; if
// some are still running then, it stops reg, waits closeTimeout more, and
// returns the message that reports them.
func drain(reg *actions.Registry, rec *Recorder) string {
	if wait(reg.Close) == nil {
		return ""
	}
	leaked := running(reg, rec)
	msg := fmt.Sprintf("actionstest: leaked invocations: %s still in flight %v after the test ended; "+
		"a stage never returned, or a blocking fake was never released (Registry.Stop cancelled their contexts)",
		leaked, closeTimeout)
	if wait(reg.Stop) != nil {
		msg += fmt.Sprintf("; %s still in flight %v after the stop: a stage ignores its context", running(reg, rec), closeTimeout)
	}
	return msg
}

// wait calls end (Close or Stop) with a context that ends after closeTimeout.
func wait(end func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	return end(ctx)
}

// running names the actions of the invocations still running, with a count
// when there are several of one: those the recorder saw begin and not end,
// in the order they began, else those that reg counts in flight.
func running(reg *actions.Registry, rec *Recorder) string {
	var names []string
	counts := map[string]int{}
	add := func(name string, n int) {
		if counts[name] == 0 {
			names = append(names, name)
		}
		counts[name] += n
	}
	for _, inv := range rec.Invocations() {
		if !inv.Ended {
			add(inv.Action, 1)
		}
	}
	if len(names) == 0 {
		for _, a := range reg.Actions() {
			if a.InFlight > 0 {
				add(a.Name, a.InFlight)
			}
		}
	}
	if len(names) == 0 {
		return "invocations"
	}
	for i, name := range names {
		if n := counts[name]; n > 1 {
			names[i] = fmt.Sprintf("%s (%d)", name, n)
		}
	}
	return strings.Join(names, ", ")
}
