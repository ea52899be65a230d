package actions

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The fakes and helpers shared by the tests of several files.

// recorder records calls in order, safe for concurrent use; tests assert
// order by comparing its trace.
type recorder struct {
	mu    sync.Mutex
	calls []string
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	r.calls = append(r.calls, s)
	r.mu.Unlock()
}

func (r *recorder) trace() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.calls, " ")
}

func (r *recorder) sorted() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := slices.Clone(r.calls)
	slices.Sort(s)
	return strings.Join(s, " ")
}

// listen returns a listener that records tag and returns err.
func (r *recorder) listen(tag string, err error) Listener {
	return func(context.Context, any) error {
		r.add(tag)
		return err
	}
}

// body returns a body that records tag and returns res.
func (r *recorder) body(tag string, res any) Body {
	return func(context.Context, any) (any, error) {
		r.add(tag)
		return res, nil
	}
}

func TestRecorder(t *testing.T) {
	var rec recorder
	rec.add("b")
	rec.add("a")
	require.Equal(t, "b a", rec.trace())
	require.Equal(t, "a b", rec.sorted())
}

// doneBody returns a body that records the payload it saw and returns
// "done".
func doneBody(rec *recorder) Body {
	return func(_ context.Context, p any) (any, error) {
		rec.add(fmt.Sprint("body:", p))
		return "done", nil
	}
}

// layer returns a replacement that records tag and calls its original once.
func layer(rec *recorder, tag string) Replacement {
	return func(ctx context.Context, p any, original Body) (any, error) {
		rec.add(tag)
		return original(ctx, p)
	}
}

// mustRegister registers an action and fails the test on error.
func mustRegister(t testing.TB, r *Registry, name string, body Body, opts ...ActionOption) func() bool {
	t.Helper()
	unregister, err := r.RegisterAction(name, body, opts...)
	require.NoError(t, err)
	return unregister
}

// registerEveryStage registers "Act" with a payload update, two before- and
// two after-listeners and a replacement, each of which passes its stage's
// name and ctx to see.
func registerEveryStage(t testing.TB, r *Registry, concurrent bool, see func(stage string, ctx context.Context)) {
	t.Helper()
	mustRegister(t, r, "Act", func(ctx context.Context, p any) (any, error) {
		see("body", ctx)
		return p, nil
	}, Concurrent(concurrent), UpdatePayload(func(ctx context.Context, p any) (any, error) {
		see("update", ctx)
		return p, nil
	}))
	for _, ev := range []string{"beforeAct", "afterAct"} {
		for i := range 2 {
			r.AddListener(ev, func(ctx context.Context, _ any) error {
				see(fmt.Sprintf("%s%d", ev, i), ctx)
				return nil
			})
		}
	}
	r.ReplaceAction("Act", func(ctx context.Context, p any, original Body) (any, error) {
		see("replacement", ctx)
		return original(ctx, p)
	})
}

// registerTraced registers name with a payload update, a before- and an
// after-listener and a replacement, all recorded in rec, so that a test can
// check that nothing of an invocation ran. The update appends "+updated" to
// a string payload.
func registerTraced(t *testing.T, r *Registry, rec *recorder, name string, opts ...ActionOption) {
	t.Helper()
	opts = append(opts, UpdatePayload(func(_ context.Context, p any) (any, error) {
		rec.add("update")
		return fmt.Sprint(p, "+updated"), nil
	}))
	mustRegister(t, r, name, func(_ context.Context, p any) (any, error) {
		rec.add("body")
		return p, nil
	}, opts...)
	r.AddListener("before"+name, rec.listen("before", nil))
	r.AddListener("after"+name, rec.listen("after", nil))
	r.ReplaceAction(name, func(ctx context.Context, p any, original Body) (any, error) {
		rec.add("replacement")
		return original(ctx, p)
	})
}

// tracedFull is the trace of an invocation of an action registered by
// registerTraced that ran every stage.
const tracedFull = "update before replacement body after"

// phaseModes run an action's phases one listener after another, as by
// default, or concurrently.
var phaseModes = []struct {
	name string
	act  []ActionOption
}{{"sequential", nil}, {"concurrent", []ActionOption{Concurrent(true)}}}

// concurrentModes are the ways to make an action's phases concurrent.
var concurrentModes = []struct {
	name string
	reg  []Option
	act  []ActionOption
}{
	{"Concurrent(true)", nil, []ActionOption{Concurrent(true)}},
	{"WithConcurrentPhases", []Option{WithConcurrentPhases()}, nil},
}

// invokeWay is one of the two ways to run an invocation: the package docs'
// Lifecycle promises that Call and InvokeAction have the same semantics, so
// tests that can run through both do.
type invokeWay struct {
	name string
	run  func(ctx context.Context, r *Registry, name string, payload any) (any, error)
}

var invokeWays = []invokeWay{
	{"Call", func(ctx context.Context, r *Registry, name string, payload any) (any, error) {
		return r.Call(ctx, name, payload)
	}},
	{"InvokeAction", func(ctx context.Context, r *Registry, name string, payload any) (any, error) {
		// Waited for up to waitBound, so that a future that never completes
		// fails the invocation with errNotCompleted instead of hanging the
		// test. In a synctest bubble the bound is on the fake clock and is
		// reached as soon as everything else is blocked.
		wctx, cancel := context.WithTimeoutCause(context.Background(), waitBound, errNotCompleted)
		defer cancel()
		return r.InvokeAction(ctx, name, payload).Wait(wctx)
	}},
}

// waitBound bounds every wait on the library in the tests: ample on a
// loaded machine under -race, so that reaching it means a hang, which then
// fails the test instead of hanging the run.
const waitBound = 5 * time.Second

// errNotCompleted is the cause of a wait for a future that gave up at
// waitBound.
var errNotCompleted = fmt.Errorf("the future did not complete within %v", waitBound)

// within runs fn in a goroutine of its own and returns what it returned. If
// fn panics, calls runtime.Goexit or has not returned within waitBound, it
// fails the test and reports false; a fn that hangs is left running.
func within[T any](t testing.TB, what string, fn func() T) (T, bool) {
	t.Helper()
	type result struct {
		v        T
		returned bool
		panicked any
	}
	ch := make(chan result, 1)
	go func() {
		var r result
		defer func() {
			if !r.returned {
				r.panicked = recover()
			}
			ch <- r
		}()
		r.v = fn()
		r.returned = true
	}()
	var zero T
	select {
	case r := <-ch:
		switch {
		case r.returned:
			return r.v, true
		case r.panicked != nil:
			t.Errorf("%s panicked: %s", what, safeSprint(r.panicked))
		default:
			t.Errorf("%s called runtime.Goexit", what)
		}
		return zero, false
	case <-time.After(waitBound):
		t.Errorf("%s did not return within %v", what, waitBound)
		return zero, false
	}
}

// callOutcome is what a Call returned.
type callOutcome struct {
	res any
	err error
}

// callWithin runs r.Call in a goroutine of its own, under waitBound, with no
// panic let through.
func callWithin(t testing.TB, r *Registry, ctx context.Context, name string, payload any) (callOutcome, bool) {
	t.Helper()
	return within(t, "Call", func() callOutcome {
		res, err := r.Call(ctx, name, payload)
		return callOutcome{res, err}
	})
}

// awaitFuture waits up to waitBound for fut and returns its outcome, or
// reports false after failing the test. In a synctest bubble the bound is on
// the fake clock and is reached as soon as everything else is blocked.
func awaitFuture[R any](t testing.TB, fut *Future[R]) (res R, err error, ok bool) {
	t.Helper()
	select {
	case <-fut.Done():
		res, err = fut.Result()
		return res, err, true
	case <-time.After(waitBound):
		t.Errorf("the future did not complete within %v", waitBound)
		return res, nil, false
	}
}

// awaitChan waits up to waitBound for ch to receive or be closed, or
// reports false after failing the test.
func awaitChan[T any](t testing.TB, ch <-chan T, what string) (v T, ok bool) {
	t.Helper()
	select {
	case v = <-ch:
		return v, true
	case <-time.After(waitBound):
		t.Errorf("%s: nothing within %v", what, waitBound)
		return v, false
	}
}

// isDone reports whether f has completed, without waiting.
func isDone(f *Future[any]) bool {
	select {
	case <-f.Done():
		return true
	default:
		return false
	}
}

// closeWithin closes r with a ctx that gives up after d.
func closeWithin(r *Registry, d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return r.Close(ctx)
}

// safeSprint formats v with %v, or names its type when formatting it panics.
func safeSprint(v any) (s string) {
	defer func() {
		if recover() != nil {
			s = fmt.Sprintf("a value of type %T that cannot be printed", v)
		}
	}()
	return fmt.Sprint(v)
}

// panicValue runs fn and returns what it panicked with, if it did.
func panicValue(fn func()) (v any, panicked bool) {
	defer func() {
		if panicked {
			v = recover()
		}
	}()
	panicked = true
	fn()
	panicked = false
	return nil, false
}

// setupPanicMessage runs fn, which must panic as a programmer error does
// (the package docs' "Aborting and errors"): with a message, a string,
// prefixed "actions: ". It returns the message; if fn did not panic with a
// string, it fails the test and returns "".
func setupPanicMessage(t testing.TB, what string, fn func()) string {
	t.Helper()
	v, panicked := panicValue(fn)
	if !panicked {
		t.Errorf("%s did not panic", what)
		return ""
	}
	msg, ok := v.(string)
	if !ok {
		t.Errorf("%s panicked with %T %s, not a message", what, v, safeSprint(v))
		return ""
	}
	if !strings.HasPrefix(msg, "actions: ") {
		t.Errorf("%s panicked with %q, not a message prefixed \"actions: \"", what, msg)
	}
	return msg
}

// hookObserver is an Observer and InFlightObserver that calls its funcs,
// those that are set.
type hookObserver struct {
	begin   func(ctx context.Context, inv Invocation) context.Context
	end     func(ctx context.Context, inv Invocation, out Outcome)
	inBegin func(ctx context.Context, inv Invocation)
	inEnd   func(ctx context.Context, inv Invocation)
}

func (o hookObserver) InvocationBegin(ctx context.Context, inv Invocation) context.Context {
	if o.begin != nil {
		if c := o.begin(ctx, inv); c != nil {
			return c
		}
	}
	return ctx
}

func (o hookObserver) InvocationEnd(ctx context.Context, inv Invocation, out Outcome) {
	if o.end != nil {
		o.end(ctx, inv, out)
	}
}

func (o hookObserver) InFlightBegin(ctx context.Context, inv Invocation) {
	if o.inBegin != nil {
		o.inBegin(ctx, inv)
	}
}

func (o hookObserver) InFlightEnd(ctx context.Context, inv Invocation) {
	if o.inEnd != nil {
		o.inEnd(ctx, inv)
	}
}

// everyHook returns a hookObserver each of whose methods calls fn with the
// method's name: observer-begin, observer-end, inflight-begin or
// inflight-end. Its InvocationBegin returns the ctx it received.
func everyHook(fn func(method string, ctx context.Context, inv Invocation)) hookObserver {
	return hookObserver{
		begin: func(ctx context.Context, inv Invocation) context.Context {
			fn("observer-begin", ctx, inv)
			return ctx
		},
		end:     func(ctx context.Context, inv Invocation, _ Outcome) { fn("observer-end", ctx, inv) },
		inBegin: func(ctx context.Context, inv Invocation) { fn("inflight-begin", ctx, inv) },
		inEnd:   func(ctx context.Context, inv Invocation) { fn("inflight-end", ctx, inv) },
	}
}

// obsEvent is one call an Observer received.
type obsEvent struct {
	kind string // begin, end, inflight-begin, inflight-end
	ctx  context.Context
	inv  Invocation
	out  Outcome
}

// spyObserver records what an Observer sees, in order; safe for concurrent
// use. It does not implement InFlightObserver; inFlightSpy does.
type spyObserver struct {
	mu     sync.Mutex
	events []obsEvent
	// beginCtx, when set, makes the context InvocationBegin returns.
	beginCtx func(ctx context.Context, inv Invocation) context.Context
}

func (o *spyObserver) record(ev obsEvent) {
	o.mu.Lock()
	o.events = append(o.events, ev)
	o.mu.Unlock()
}

func (o *spyObserver) InvocationBegin(ctx context.Context, inv Invocation) context.Context {
	o.record(obsEvent{kind: "begin", ctx: ctx, inv: inv})
	if o.beginCtx != nil {
		return o.beginCtx(ctx, inv)
	}
	return ctx
}

func (o *spyObserver) InvocationEnd(ctx context.Context, inv Invocation, out Outcome) {
	o.record(obsEvent{kind: "end", ctx: ctx, inv: inv, out: out})
}

// where returns the events for which keep is true, in order.
func (o *spyObserver) where(keep func(obsEvent) bool) []obsEvent {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []obsEvent
	for _, ev := range o.events {
		if keep(ev) {
			out = append(out, ev)
		}
	}
	return out
}

// ends returns the end events of action.
func (o *spyObserver) ends(action string) []obsEvent {
	return o.where(func(ev obsEvent) bool { return ev.kind == "end" && ev.inv.Action == action })
}

// kinds returns the kinds of the events of the invocations whose payload is
// payload, space-separated.
func (o *spyObserver) kinds(payload any) string {
	var ks []string
	for _, ev := range o.where(func(ev obsEvent) bool { return ev.inv.Payload == payload }) {
		ks = append(ks, ev.kind)
	}
	return strings.Join(ks, " ")
}

// inFlightSpy is a spyObserver that also records the InFlightObserver
// calls.
type inFlightSpy struct{ *spyObserver }

func (o inFlightSpy) InFlightBegin(ctx context.Context, inv Invocation) {
	o.record(obsEvent{kind: "inflight-begin", ctx: ctx, inv: inv})
}

func (o inFlightSpy) InFlightEnd(ctx context.Context, inv Invocation) {
	o.record(obsEvent{kind: "inflight-end", ctx: ctx, inv: inv})
}

// errorSink collects what an error handler receives; safe for concurrent
// use. Give its handle method to WithErrorHandler.
type errorSink struct {
	mu   sync.Mutex
	errs []error
}

func (s *errorSink) handle(_ context.Context, err error) {
	s.mu.Lock()
	s.errs = append(s.errs, err)
	s.mu.Unlock()
}

// all returns the errors received so far, in order.
func (s *errorSink) all() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]error(nil), s.errs...)
}

// errFacts is what inspecting an invocation's error found.
type errFacts struct {
	msg                                         string
	failed, aborted, canceled, goexit, panicked bool
	depth, closed, pending                      bool
	isError                                     bool  // errors.As reached an *Error
	stage                                       Stage // that *Error's
}

// absentError is an error type no invocation's error contains: errors.As
// with it walks the whole tree.
type absentError struct{}

func (*absentError) Error() string { return "absent" }

// inspect examines err with every tool a caller has (its message,
// errors.Is with sentinels and with context.Canceled, errors.As), within
// waitBound and without letting a panic through; it reports false, after
// failing the test, if any of them panicked or hung.
func inspect(t testing.TB, err error) (errFacts, bool) {
	t.Helper()
	return within(t, "inspecting the error", func() errFacts {
		f := errFacts{
			msg:      err.Error(),
			failed:   errors.Is(err, ErrFailed),
			aborted:  errors.Is(err, ErrAborted),
			canceled: errors.Is(err, context.Canceled),
			goexit:   errors.Is(err, ErrGoexit),
			panicked: errors.Is(err, ErrPanicked),
			depth:    errors.Is(err, ErrDepthExceeded),
			closed:   errors.Is(err, ErrClosed),
			pending:  errors.Is(err, ErrPending),
		}
		var e *Error
		if errors.As(err, &e) {
			f.isError, f.stage = true, e.Stage
		}
		var absent *absentError
		errors.As(err, &absent)
		return f
	})
}

// childEnv names the environment variable that makes a re-executed test
// binary run one case, named by its value.
const childEnv = "ACTIONS_CHILD"

// childOK is what a child prints when its case passed.
const childOK = "actions child case passed: "

// inChild runs fn as the test t in a child process: the test binary
// re-executed with only t selected, its environment extended by env. A case
// whose failure could crash the process (a fatal stack overflow, a panic in
// a goroutine the library started) or leave a goroutine spinning runs there,
// so that the failure is reported, with the child's output, by the test
// alone. In the child, inChild runs fn.
func inChild(t *testing.T, env []string, fn func(t *testing.T)) {
	t.Helper()
	switch os.Getenv(childEnv) {
	case t.Name():
		fn(t)
		if !t.Failed() {
			fmt.Println(childOK + t.Name())
		}
		return
	case "":
	default:
		t.Skip("the child process of another case")
	}
	var pattern []string
	for _, elem := range strings.Split(t.Name(), "/") {
		pattern = append(pattern, "^"+regexp.QuoteMeta(elem)+"$")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0],
		"-test.run="+strings.Join(pattern, "/"), "-test.count=1", "-test.v", "-test.timeout=45s")
	cmd.Env = append(append(os.Environ(), childEnv+"="+t.Name()), env...)
	out, err := cmd.CombinedOutput()
	output := string(out)
	if len(output) > 8000 { // a crash dumps every goroutine: keep its start and the end
		output = output[:5000] + "\n...\n" + output[len(output)-3000:]
	}
	switch {
	case ctx.Err() != nil:
		t.Errorf("the child process did not finish within its deadline; output:\n%s", output)
	case err != nil:
		t.Errorf("the child process failed (%v); output:\n%s", err, output)
	case !strings.Contains(string(out), childOK+t.Name()):
		t.Errorf("the child process did not run the case; output:\n%s", output)
	}
}

// nilCtx is a nil context.Context, for the tests of the setup-time panic a
// nil ctx causes.
var nilCtx context.Context

// noSources returns infos with every Source, ReplacementSources and
// BlockSources cleared, for tests about the rest of what Actions reports.
func noSources(infos []ActionInfo) []ActionInfo {
	if infos == nil {
		return nil
	}
	out := make([]ActionInfo, len(infos))
	for i, info := range infos {
		info.Source, info.ReplacementSources, info.BlockSources = "", nil, nil
		info.Before, info.After = noListenerSources(info.Before), noListenerSources(info.After)
		out[i] = info
	}
	return out
}

// noListenerSources returns infos with every Source cleared.
func noListenerSources(infos []ListenerInfo) []ListenerInfo {
	if infos == nil {
		return nil
	}
	out := make([]ListenerInfo, len(infos))
	for i, l := range infos {
		l.Source = ""
		out[i] = l
	}
	return out
}

// nextLine returns the line after the one it is called from, as the
// registry reports a registration's site: "dir/file_test.go:line".
func nextLine() string {
	_, file, line, _ := runtime.Caller(1)
	return filepath.Base(filepath.Dir(file)) + "/" + filepath.Base(file) + ":" + strconv.Itoa(line+1)
}
