package actions

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fuzzErr is the error user code returns in the fuzz targets: comparable,
// and described by its tag. With abort set it matches ErrAborted, the way a
// user's own abort error does.
type fuzzErr struct {
	tag   string
	abort bool
}

func (e fuzzErr) Error() string        { return "fuzz " + e.tag }
func (e fuzzErr) Is(target error) bool { return e.abort && target == ErrAborted }

// errStop is the cause a listener or body cancels the caller's ctx with.
var errStop = fuzzErr{tag: "stop"}

// errClosing is the cause of the done ctx a listener closes the registry
// with.
var errClosing = fuzzErr{tag: "closing"}

// hangAfter bounds every wait of FuzzModel: a future that does not complete
// by then is reported as a hang instead of stalling the fuzzer.
const hangAfter = 10 * time.Second

var errKindNames = []struct {
	err  error
	name string
}{
	{ErrActionNotFound, "not-found"},
	{ErrAlreadyRegistered, "already-registered"},
	{ErrClosed, "closed"},
	{ErrBlocked, "blocked"},
	{ErrPending, "pending"},
	{ErrAborted, "aborted"},
	{ErrFailed, "failed"},
	{ErrDepthExceeded, "depth-exceeded"},
	{ErrPayloadType, "payload-type"},
}

// describeErr writes err in the model's vocabulary (see model_test.go), and
// checks on the way what the package docs' "Aborting and errors" requires of
// every *Error: it matches its kind with errors.Is, and its message is
// prefixed "actions: " and names the action. A violation shows in the
// description, so it fails the comparison.
func describeErr(err error) string {
	switch e := err.(type) {
	case nil:
		return "nil"
	case *Error:
		kind := "ctx"
		if e.Kind != nil {
			kind = "?" + e.Kind.Error()
			for _, k := range errKindNames {
				if e.Kind == k.err {
					kind = k.name
				}
			}
		}
		cause := describeErr(e.Err)
		if e.Kind == ErrDepthExceeded {
			cause = "-" // a detail of the message, not of the contract
		}
		d := errDesc(e.Action, kind, e.Stage, e.Listener, cause)
		if e.Kind != nil && !errors.Is(e, e.Kind) {
			d += "!is"
		}
		if !strings.HasPrefix(e.Error(), "actions: "+e.Action) {
			d += "!message(" + e.Error() + ")"
		}
		return d
	case *PanicError:
		d := fmt.Sprintf("panic(%v)", e.Value)
		if !errors.Is(e, ErrPanicked) || len(e.Stack) == 0 {
			d += "!panic-error"
		}
		return d
	case fuzzErr:
		if e.abort {
			return "aerr(" + e.tag + ")"
		}
		return "err(" + e.tag + ")"
	case interface{ Unwrap() []error }:
		var descs []string
		for _, err := range e.Unwrap() {
			descs = append(descs, describeErr(err))
		}
		return joinDesc(descs)
	}
	if errors.Is(err, ErrAborted) { // what Abort returns
		return "abort(" + describeErr(errors.Unwrap(err)) + ")"
	}
	return fmt.Sprintf("?%T(%v)", err, err)
}

func describeOutcome(res any, err error) string {
	if err != nil {
		if res != nil {
			return fmt.Sprintf("!result %v with error %s", res, describeErr(err))
		}
		return "err:" + describeErr(err)
	}
	s, ok := res.(string)
	if !ok {
		return fmt.Sprintf("!result %T(%v)", res, res)
	}
	return okOutcome(s)
}

// libRun runs operations on a real Registry, with user code built from the
// behaviours the model interprets.
type libRun struct {
	reg     *Registry
	rec     recorder
	handles []func() bool
	cancel  context.CancelCauseFunc // the current top-level invocation's
	budget  int
	dyn     int           // registrations made from inside stages so far, for their tags
	obs     *fuzzObserver // nil without an observer
}

func newLibRun(observe bool) *libRun {
	r := &libRun{}
	opts := []Option{WithMaxDepth(modelMaxDepth), WithErrorHandler(func(_ context.Context, err error) {
		r.rec.add("EH " + describeErr(err))
	})}
	if observe {
		r.obs = &fuzzObserver{rec: &r.rec, open: map[uint64]bool{}}
		opts = append(opts, WithObserver(r.obs))
	}
	r.reg = New(opts...)
	return r
}

// fuzzObserver records what the model's observer does (see model.invoke),
// and checks on the way that the ctx InvocationBegin returns is the one
// InvocationEnd sees, and that in-flight windows open and close once.
type fuzzObserver struct {
	rec  *recorder
	open map[uint64]bool // in-flight windows open; invocations run one at a time
}

type fuzzObserverKey struct{}

func (o *fuzzObserver) InvocationBegin(ctx context.Context, inv Invocation) context.Context {
	o.rec.add(fmt.Sprintf("ob+%d:%s^%d@%d(%v)", inv.ID, inv.Action, inv.ParentID, inv.Depth, inv.Payload))
	if p, _ := inv.Payload.(int); p%5 == 4 {
		panic("ob-begin")
	}
	return context.WithValue(ctx, fuzzObserverKey{}, inv.ID)
}

func (o *fuzzObserver) InvocationEnd(ctx context.Context, inv Invocation, out Outcome) {
	s := fmt.Sprintf("ob-%d:%s", inv.ID, describeOutcome(out.Result, out.Err))
	if out.Aborted {
		s += " aborted"
	}
	if out.Shared {
		s += " !shared"
	}
	p, _ := inv.Payload.(int)
	if id, _ := ctx.Value(fuzzObserverKey{}).(uint64); id != inv.ID && p%5 != 4 {
		s += " !ctx"
	}
	if out.Duration < 0 {
		s += " !duration"
	}
	o.rec.add(s)
	if p%7 == 6 {
		panic("ob-end")
	}
}

func (o *fuzzObserver) InFlightBegin(_ context.Context, inv Invocation) {
	o.rec.add(fmt.Sprintf("if+%d", inv.ID))
	if o.open[inv.ID] {
		o.rec.add("!in-flight opened twice")
	}
	o.open[inv.ID] = true
}

func (o *fuzzObserver) InFlightEnd(_ context.Context, inv Invocation) {
	if !o.open[inv.ID] {
		o.rec.add("!in-flight closed but not open")
	}
	delete(o.open, inv.ID)
}

// traceSince returns the calls recorded from index from on.
func traceSince(rec *recorder, from int) string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return strings.Join(rec.calls[from:], " ")
}

func traceLen(rec *recorder) int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return len(rec.calls)
}

func (r *libRun) apply(i int, o op) string {
	name := fuzzNames[o.name]
	switch o.kind {
	case opRegister:
		var opts []ActionOption
		if o.update != uNone {
			opts = append(opts, UpdatePayload(r.update(i, o.update)))
		}
		if mod, share := dedupOf(o.dedup); mod > 0 {
			mode := RejectPending
			if share {
				mode = SharePending
			}
			opts = append(opts, Deduplicate(r.key(i, mod), mode))
		}
		return r.register(name, r.body(fmt.Sprintf("b%d", i), name, o.beh, o.arg), opts...)
	case opUndo:
		return r.undo(o.arg)
	case opListen:
		var opts []ListenerOption
		if o.prio != 0 {
			opts = append(opts, Priority(o.prio))
		}
		if o.once {
			opts = append(opts, Once())
		}
		if o.named {
			opts = append(opts, Named(fmt.Sprintf("L%d", i)))
		}
		event := phaseName(o.after) + name
		r.handles = append(r.handles, r.reg.AddListener(event, r.listener(fmt.Sprintf("L%d", i), o.beh, o.arg), opts...))
		return "ok"
	case opReplace:
		r.handles = append(r.handles, r.reg.ReplaceAction(name, r.replacement(fmt.Sprintf("r%d", i), o.beh)))
		return "ok"
	case opBlock:
		r.handles = append(r.handles, r.reg.BlockAction(name, r.match(i, o.beh, int(o.arg))))
		return "ok"
	case opCall, opInvoke:
		ctx, cancel := context.WithCancelCause(context.Background())
		defer cancel(nil)
		r.cancel, r.budget = cancel, modelBudget
		if o.cancelled {
			cancel(errStop)
		}
		if o.kind == opCall {
			return describeOutcome(r.reg.Call(ctx, name, o.payload))
		}
		return describeOutcome(r.wait(r.reg.InvokeAction(ctx, name, o.payload)))
	case opRemoveAll:
		return fmt.Sprint(r.reg.RemoveAllListeners(phaseName(o.after) + name))
	case opClose:
		ctx, cancel := context.WithTimeout(context.Background(), hangAfter)
		defer cancel()
		return describeErr(r.reg.Close(ctx))
	}
	return "nop"
}

func (r *libRun) register(name string, body Body, opts ...ActionOption) string {
	unregister, err := r.reg.RegisterAction(name, body, opts...)
	if err != nil {
		if unregister != nil {
			return "!handle with error " + describeErr(err)
		}
		return "err:" + describeErr(err)
	}
	r.handles = append(r.handles, unregister)
	return "ok"
}

func (r *libRun) newTag() string {
	r.dyn++
	return fmt.Sprintf("n%d", r.dyn)
}

// wait waits for f, bounded by hangAfter, and checks that it completed once
// and for all (see Future: every Wait sees the same result and error).
func (r *libRun) wait(f *Future[any]) (any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), hangAfter)
	defer cancel()
	res, err := f.Wait(ctx)
	select {
	case <-f.Done():
	default:
		return nil, fuzzErr{tag: "hang"}
	}
	if res2, err2 := f.Result(); res2 != res || err2 != err {
		return nil, fuzzErr{tag: "future changed its outcome"}
	}
	return res, err
}

func (r *libRun) undo(arg uint8) string {
	if len(r.handles) == 0 {
		return "none"
	}
	return fmt.Sprint(r.handles[int(arg)%len(r.handles)]())
}

// nested invokes the action arg picks with payload p+1 and ctx, the ctx of
// the stage it is called from.
func (r *libRun) nested(ctx context.Context, tag string, invoke bool, arg uint8, p int) (any, error) {
	if r.budget <= 0 {
		r.rec.add(tag + ":call=skipped")
		return "skipped", nil
	}
	r.budget--
	name := fuzzNames[int(arg)%len(fuzzNames)]
	var (
		res any
		err error
	)
	if invoke {
		res, err = r.wait(r.reg.InvokeAction(ctx, name, p+1))
	} else {
		res, err = r.reg.Call(ctx, name, p+1)
	}
	r.rec.add(tag + ":call=" + describeOutcome(res, err))
	return res, err
}

func (r *libRun) listener(tag string, kind, arg uint8) Listener {
	return func(ctx context.Context, payload any) error {
		p := payload.(int)
		r.rec.add(fmt.Sprintf("%s(%d)", tag, p))
		switch kind {
		case lAbortNil:
			return Abort(nil)
		case lAbortReason:
			return Abort(fuzzErr{tag: tag})
		case lAbortErr:
			return fuzzErr{tag: tag, abort: true}
		case lError:
			return fuzzErr{tag: tag}
		case lPanic:
			panic(tag)
		case lCancel:
			r.cancel(errStop)
		case lUndo:
			r.rec.add(tag + ":undo=" + r.undo(arg))
		case lCall, lInvoke:
			_, _ = r.nested(ctx, tag, kind == lInvoke, arg, p)
		case lCallErr:
			_, err := r.nested(ctx, tag, false, arg, p)
			return err
		case lListen:
			after, name := eventOf(arg)
			k := r.newTag()
			r.handles = append(r.handles, r.reg.AddListener(phaseName(after)+name, r.listener(k, lOK, 0)))
			r.rec.add(tag + ":listen=" + k)
		case lRemoveAll:
			after, name := eventOf(arg)
			r.rec.add(fmt.Sprintf("%s:removeAll=%d", tag, r.reg.RemoveAllListeners(phaseName(after)+name)))
		case lRegister:
			k := r.newTag()
			r.rec.add(tag + ":register=" + r.register(actionOf(arg), r.body(k, actionOf(arg), bValue, 0)))
		case lBlock:
			r.handles = append(r.handles, r.reg.BlockAction(actionOf(arg), nil))
			r.rec.add(tag + ":block")
		case lReplace:
			k := r.newTag()
			r.handles = append(r.handles, r.reg.ReplaceAction(actionOf(arg), r.replacement(k, rOnce)))
			r.rec.add(tag + ":replace=" + k)
		case lClose:
			done, cancel := context.WithCancelCause(context.Background())
			cancel(errClosing)
			r.rec.add(tag + ":close=" + describeErr(r.reg.Close(done)))
		}
		return nil
	}
}

func (r *libRun) body(tag, name string, kind, arg uint8) Body {
	return func(ctx context.Context, payload any) (any, error) {
		p := payload.(int)
		r.rec.add(fmt.Sprintf("%s(%d)@%d", tag, p, r.reg.InFlight(name)))
		switch kind {
		case bError:
			return nil, fuzzErr{tag: tag}
		case bPanic:
			panic(tag)
		case bCall, bInvoke:
			res, err := r.nested(ctx, tag, kind == bInvoke, arg, p)
			if err != nil {
				return nil, err
			}
			return fmt.Sprintf("%s{%v}", tag, res), nil
		case bUndo:
			r.rec.add(tag + ":undo=" + r.undo(arg))
		case bCancel:
			r.cancel(errStop)
		case bAbort:
			return nil, Abort(fuzzErr{tag: tag})
		}
		return fmt.Sprintf("%s(%d)", tag, p), nil
	}
}

func (r *libRun) replacement(tag string, kind uint8) Replacement {
	return func(ctx context.Context, payload any, original Body) (any, error) {
		p := payload.(int)
		r.rec.add(fmt.Sprintf("%s(%d)", tag, p))
		switch kind {
		case rOnce:
			res, err := original(ctx, p+1)
			if err != nil {
				return nil, err
			}
			return fmt.Sprintf("%s[%v]", tag, res), nil
		case rTwice:
			a, err := original(ctx, p)
			if err != nil {
				return nil, err
			}
			b, err := original(ctx, p+2)
			if err != nil {
				return nil, err
			}
			return fmt.Sprintf("%s[%v,%v]", tag, a, b), nil
		case rNever:
			return tag, nil
		case rError:
			return nil, fuzzErr{tag: tag}
		}
		panic(tag)
	}
}

func (r *libRun) update(id int, kind uint8) PayloadUpdate {
	tag := fmt.Sprintf("u%d", id)
	return func(_ context.Context, payload any) (any, error) {
		p := payload.(int)
		r.rec.add(fmt.Sprintf("%s(%d)", tag, p))
		switch kind {
		case uAdd:
			return p + 10, nil
		case uError:
			return nil, fuzzErr{tag: tag}
		}
		panic(tag)
	}
}

func (r *libRun) key(id, mod int) func(any) string {
	return func(payload any) string {
		p := payload.(int)
		r.rec.add(fmt.Sprintf("key%d(%d)", id, p))
		return strconv.Itoa(p % mod)
	}
}

func (r *libRun) match(id int, kind uint8, val int) func(any) bool {
	if kind == kAll {
		return nil
	}
	tag := fmt.Sprintf("k%d", id)
	return func(payload any) bool {
		p := payload.(int)
		r.rec.add(fmt.Sprintf("%s(%d)", tag, p))
		switch kind {
		case kEq:
			return p == val
		case kOdd:
			return p%2 == 1
		}
		panic(tag)
	}
}

// checkModel runs ops on a fresh Registry and on the model and fails at the
// first operation whose outcome, call trace or resulting state differ.
func checkModel(t *testing.T, prog fuzzProgram) {
	t.Helper()
	lib, m := newLibRun(prog.observe), newModel(prog.observe)
	var done strings.Builder
	fmt.Fprintf(&done, "\tobserver: %v\n", prog.observe)
	for i, o := range prog.ops {
		from, mfrom := traceLen(&lib.rec), len(m.trace)
		got, want := lib.apply(i, o), m.apply(i, o)
		gotTrace, wantTrace := traceSince(&lib.rec, from), strings.Join(m.trace[mfrom:], " ")
		fmt.Fprintf(&done, "\t%2d: %v\n", i, o)
		if got != want || gotTrace != wantTrace {
			t.Fatalf("operation %d differs from the model; operations:\n%s"+
				"outcome: got  %s\n         want %s\ntrace:   got  %s\n         want %s",
				i, done.String(), got, want, gotTrace, wantTrace)
		}
		for _, name := range fuzzNames {
			gotState := fmt.Sprintf("registered=%v before=%v after=%v inflight=%d", lib.reg.Registered(name),
				noListenerSources(lib.reg.Listeners("before"+name)), noListenerSources(lib.reg.Listeners("after"+name)), lib.reg.InFlight(name))
			wantState := fmt.Sprintf("registered=%v before=%v after=%v inflight=%d", m.registered(name),
				m.listenerInfos(name, false), m.listenerInfos(name, true), 0)
			if gotState != wantState {
				t.Fatalf("after operation %d, the state of %s differs from the model; operations:\n%s"+
					"got  %s\nwant %s", i, name, done.String(), gotState, wantState)
			}
		}
		if lib.obs != nil && len(lib.obs.open) > 0 {
			t.Fatalf("after operation %d, in-flight windows %v are still open; operations:\n%s", i, lib.obs.open, done.String())
		}
	}
}

// FuzzModel decodes its input into operations (see decodeProgram) and checks
// that the registry agrees with the model on every one.
func FuzzModel(f *testing.F) {
	for _, s := range modelScenarios {
		f.Add(encodeProgram(s.program()))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkModel(t, decodeProgram(data))
	})
}

// requireSetupPanic runs fn and fails the test unless it panics with a
// programmer-error message.
func requireSetupPanic(t *testing.T, what string, fn func()) {
	t.Helper()
	var v any
	func() {
		defer func() { v = recover() }()
		fn()
	}()
	msg, ok := v.(string)
	require.Truef(t, ok, "%s: want a programmer-error panic, got %#v", what, v)
	require.Truef(t, strings.HasPrefix(msg, "actions: "), "%s: panic %q lacks the prefix", what, msg)
}

func fuzzNopListener(context.Context, any) error { return nil }

// FuzzParseEvent checks the event syntax of the package docs' Listeners on
// any string: ParseEvent accepts exactly "before" or "after" followed by a non-empty action name,
// splits it losslessly, and AddListener, Listeners and RemoveAllListeners
// accept what it accepts and panic (a programmer error) on the rest.
func FuzzParseEvent(f *testing.F) {
	for _, s := range []string{
		"", "before", "after", "beforeA", "afterA", "Before X", "onX", "beforeacceptTask",
		"BeforeAcceptTask", "AFTERx", "befor", "afte", "beforeafter", "afterbefore", "before ",
		"after\x00", "before\xff\xfe", "afterÄction", "before🙂", " beforeA", "beforeA ",
		"before" + strings.Repeat("x", 4096),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, event string) {
		after, action, ok := ParseEvent(event)
		prefix := ""
		switch {
		case strings.HasPrefix(event, "before"):
			prefix = "before"
		case strings.HasPrefix(event, "after"):
			prefix = "after"
		}
		require.Equal(t, prefix != "" && len(event) > len(prefix), ok, "ParseEvent(%q) ok", event)
		r := New()
		if !ok {
			assert.False(t, after)
			assert.Empty(t, action)
			requireSetupPanic(t, "AddListener", func() { r.AddListener(event, fuzzNopListener) })
			requireSetupPanic(t, "Listeners", func() { r.Listeners(event) })
			requireSetupPanic(t, "RemoveAllListeners", func() { r.RemoveAllListeners(event) })
			return
		}
		require.Equal(t, prefix == "after", after)
		require.Equal(t, event, prefix+action, "round trip")
		after2, action2, ok2 := ParseEvent(phaseName(after) + action)
		require.True(t, ok2)
		require.Equal(t, after, after2)
		require.Equal(t, action, action2)

		// The listener is attached to that phase of that action, and to
		// nothing else.
		var rec recorder
		remove := r.AddListener(event, rec.listen("listener", nil), Named("l"))
		assert.Equal(t, []ListenerInfo{{Name: "l"}}, noListenerSources(r.Listeners(event)))
		assert.Empty(t, r.Listeners(phaseName(!after)+action))
		mustRegister(t, r, action, rec.body("body", "res"))
		res, err := r.Call(context.Background(), action, nil)
		require.NoError(t, err)
		assert.Equal(t, "res", res)
		want := "listener body"
		if after {
			want = "body listener"
		}
		assert.Equal(t, want, rec.trace())
		assert.True(t, remove())
		assert.False(t, remove())
		assert.Empty(t, r.Listeners(event))
	})
}

// nameVariants returns names close to name: other case, other length,
// another prefix. Each that differs from name is another action (action
// names are exact and case-sensitive).
func nameVariants(name string) []string {
	vs := []string{
		strings.ToUpper(name), strings.ToLower(name), strings.ToTitle(name), strings.TrimSpace(name),
		name + "x", "x" + name, name + " ", name + "\x00", "before" + name, "after" + name,
	}
	if len(name) > 1 {
		vs = append(vs, name[:len(name)-1], name[1:])
	}
	return vs
}

// FuzzActionNames sends any string, unicode, invalid UTF-8, empty or huge, as
// an action name through every API that takes one: an empty name is the
// documented programmer-error panic where a name is registered, and a
// not-found error where it is invoked; any other name works like any other,
// matched exactly and case-sensitively, and errors name it (see "Aborting
// and errors").
//
// The name is unit repeated: huge names without huge inputs, which the fuzzer
// would spend its time minimising.
func FuzzActionNames(f *testing.F) {
	for _, s := range []string{
		"", "A", "AcceptTask", "acceptTask", "ACCEPTTASK", "Accept Task", " ", "\x00", "\xff",
		"before", "after", "beforeA", "ä", "Straße", "ǅ", "İ", "🙂", "\u200b", "a\nb", "%v",
	} {
		f.Add(s, uint16(0))
	}
	f.Add("x", uint16(1<<16-1))
	f.Add("é", uint16(4096))
	f.Add("Ab", uint16(300))
	f.Fuzz(func(t *testing.T, unit string, repeat uint16) {
		name := unit
		if n := int(repeat) + 1; len(unit) <= 1<<16/n {
			name = strings.Repeat(unit, n)
		}
		ctx := context.Background()
		r := New()
		body := func(context.Context, any) (any, error) { return nil, nil }
		if name == "" {
			requireSetupPanic(t, "RegisterAction", func() { _, _ = r.RegisterAction(name, body) })
			requireSetupPanic(t, "ReplaceAction", func() {
				r.ReplaceAction(name, func(context.Context, any, Body) (any, error) { return nil, nil })
			})
			requireSetupPanic(t, "BlockAction", func() { r.BlockAction(name, nil) })
			requireSetupPanic(t, "Typed", func() { Typed[any, any](r, name) })
			requireSetupPanic(t, "AddListener", func() { r.AddListener("before"+name, fuzzNopListener) })
			_, err := r.Call(ctx, name, nil)
			requireErrorOf(t, err, ErrActionNotFound, name)
			assert.False(t, r.Registered(name))
			return
		}

		var rec recorder
		unregister := mustRegister(t, r, name, rec.body("body", "res"))
		r.AddListener("before"+name, rec.listen("before", nil))
		r.AddListener("after"+name, rec.listen("after", nil))
		unreplace := r.ReplaceAction(name, func(ctx context.Context, p any, original Body) (any, error) {
			rec.add("replacement")
			return original(ctx, p)
		})
		const full = "before replacement body after"
		res, err := r.Call(ctx, name, nil)
		require.NoError(t, err)
		assert.Equal(t, "res", res)
		assert.Equal(t, full, rec.trace())

		// Every other name is another, unknown action, and nothing of name's
		// runs for it.
		for _, other := range nameVariants(name) {
			if other == name || other == "" {
				continue
			}
			_, err := r.Call(ctx, other, nil)
			requireErrorOf(t, err, ErrActionNotFound, other)
			assert.False(t, r.Registered(other), "%q", other)
		}
		assert.Equal(t, full, rec.trace(), "a variant ran name's code")

		// A differently-cased action is a separate action.
		if upper := strings.ToUpper(name); upper != name {
			var urec recorder
			mustRegister(t, r, upper, urec.body("upper", "u"))
			res, err := r.Call(ctx, upper, nil)
			require.NoError(t, err)
			assert.Equal(t, "u", res)
			assert.Equal(t, "upper", urec.trace())
			assert.Equal(t, full, rec.trace())
		}

		// Errors name the action.
		unblock := r.BlockAction(name, nil)
		_, err = r.Call(ctx, name, nil)
		requireErrorOf(t, err, ErrBlocked, name)
		assert.True(t, unblock())
		_, err = r.RegisterAction(name, body)
		requireErrorOf(t, err, ErrAlreadyRegistered, name)

		// A typed handle on the same name is the same action.
		tres, err := Typed[any, string](r, name).Call(ctx, nil)
		require.NoError(t, err)
		assert.Equal(t, "res", tres)
		assert.Equal(t, full+" "+full, rec.trace())

		// Unregistering keeps what is attached by name (see Registry).
		assert.True(t, unregister())
		_, err = r.Call(ctx, name, nil)
		requireErrorOf(t, err, ErrActionNotFound, name)
		mustRegister(t, r, name, rec.body("body2", "res2"))
		res, err = r.Call(ctx, name, nil)
		require.NoError(t, err)
		assert.Equal(t, "res2", res)
		assert.True(t, unreplace())
		assert.Len(t, r.Listeners("before"+name), 1)
		assert.Len(t, r.Listeners("after"+name), 1)
	})
}

// requireErrorOf checks that err is an *Error of the kind for the action name,
// and that its message names the action.
func requireErrorOf(t *testing.T, err, kind error, name string) {
	t.Helper()
	require.ErrorIs(t, err, kind)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, name, e.Action)
	assert.True(t, strings.HasPrefix(err.Error(), "actions: "+name+": "), "message %q does not name %q", err.Error(), name)
}

type fuzzInt int

type fuzzStringer struct{ s string }

func (s fuzzStringer) String() string { return s.s }

// fuzzValue builds a value of one of many dynamic types from the fuzzer's
// inputs.
func fuzzValue(kind uint8, i int64, s string, fl float64, bs []byte) any {
	switch kind % 26 {
	case 0:
		return nil
	case 1:
		return int(i)
	case 2:
		return i
	case 3:
		return int32(i)
	case 4:
		return uint(i)
	case 5:
		return s
	case 6:
		return bs
	case 7:
		return fl
	case 8:
		n := int(i)
		return &n
	case 9:
		return (*int)(nil)
	case 10:
		return fuzzInt(i)
	case 11:
		return struct{ A int }{int(i)}
	case 12:
		return map[string]int{s: int(i)}
	case 13:
		return []int{int(i)}
	case 14:
		return errors.New(s)
	case 15:
		return fuzzErr{tag: s}
	case 16:
		return func() {}
	case 17:
		return make(chan int)
	case 18:
		return [2]int{int(i), 0}
	case 19:
		return complex(fl, 0)
	case 20:
		return i%2 == 0
	case 21:
		return rune(i)
	case 22:
		return fuzzStringer{s}
	case 23:
		return &fuzzStringer{s}
	case 24:
		return time.Duration(i)
	}
	return []any{s, i}
}

// typedAssignable is the rule of Action's documentation, written
// independently of the library: v has type P, or P is an interface v
// implements, or v is a nil interface and P's zero value is nil.
func typedAssignable(v any, want reflect.Type) bool {
	got := reflect.TypeOf(v)
	if got == nil {
		switch want.Kind() {
		case reflect.Pointer, reflect.Interface, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan, reflect.UnsafePointer:
			return true
		}
		return false
	}
	return got == want || want.Kind() == reflect.Interface && got.Implements(want)
}

// FuzzTypedPayload sends values of many dynamic types through the untyped
// API into typed actions, listeners, blocks and results (see Action): each
// either works, or fails with ErrPayloadType before any user code of the
// typed action runs; nothing panics.
func FuzzTypedPayload(f *testing.F) {
	for k := range 26 {
		f.Add(uint8(k), int64(k-3), "s", float64(k)/2, []byte("b"))
	}
	f.Fuzz(func(t *testing.T, kind uint8, i int64, s string, fl float64, bs []byte) {
		v := fuzzValue(kind, i, s, fl, bs)
		checkTypedPayload[int](t, v)
		checkTypedPayload[int64](t, v)
		checkTypedPayload[fuzzInt](t, v)
		checkTypedPayload[string](t, v)
		checkTypedPayload[[]byte](t, v)
		checkTypedPayload[*int](t, v)
		checkTypedPayload[map[string]int](t, v)
		checkTypedPayload[func()](t, v)
		checkTypedPayload[any](t, v)
		checkTypedPayload[error](t, v)
		checkTypedPayload[fmt.Stringer](t, v)
		checkTypedPayload[struct{ A int }](t, v)
	})
}

// requireNoPanic runs fn, failing the test if it panics.
func requireNoPanic(t *testing.T, what string, fn func()) {
	t.Helper()
	defer func() {
		if v := recover(); v != nil {
			t.Fatalf("%s panicked: %v", what, v)
		}
	}()
	fn()
}

func checkTypedPayload[P any](t *testing.T, v any) {
	want := reflect.TypeFor[P]()
	ok := typedAssignable(v, want)
	ctx := context.Background()
	desc := fmt.Sprintf("payload %T into %v", v, want)

	// A typed action, with typed stages of every kind, invoked untyped.
	r := New()
	var rec recorder
	a := Typed[P, string](r, "T")
	_, err := a.Register(func(context.Context, P) (string, error) {
		rec.add("body")
		return "res", nil
	},
		UpdatePayloadOf(func(_ context.Context, p P) (P, error) { rec.add("update"); return p, nil }),
		DeduplicateBy(func(P) string { rec.add("key"); return "k" }, RejectPending))
	require.NoError(t, err)
	a.Block(func(P) bool { rec.add("block"); return false })
	a.Before(func(context.Context, P) error { rec.add("before"); return nil })
	a.After(func(context.Context, P) error { rec.add("after"); return nil })
	a.Replace(func(ctx context.Context, p P, original func(context.Context, P) (string, error)) (string, error) {
		rec.add("replacement")
		return original(ctx, p)
	})
	for _, invoke := range []bool{false, true} {
		var (
			res any
			err error
		)
		requireNoPanic(t, desc, func() {
			if invoke {
				res, err = r.InvokeAction(ctx, "T", v).Result()
			} else {
				res, err = r.Call(ctx, "T", v)
			}
		})
		if ok {
			require.NoError(t, err, desc)
			assert.Equal(t, "res", res, desc)
			assert.Equal(t, "block key update before replacement body after", rec.trace(), desc)
		} else {
			requirePayloadTypeError(t, err, "T", want, v, false, desc)
			assert.Nil(t, res, desc)
			assert.Empty(t, rec.trace(), "%s: user code ran", desc)
		}
		rec.mu.Lock()
		rec.calls = nil
		rec.mu.Unlock()
	}

	// An untyped action with typed listeners and a typed block: a payload of
	// another type fails the listener, and never matches the block.
	r = New()
	mustRegister(t, r, "U", rec.body("body", "res"))
	b := Typed[P, any](r, "U")
	b.Block(func(P) bool { rec.add("block"); return false })
	b.Before(func(context.Context, P) error { rec.add("before"); return nil }, Named("typed"))
	var res any
	requireNoPanic(t, desc, func() { res, err = r.Call(ctx, "U", v) })
	if ok {
		require.NoError(t, err, desc)
		assert.Equal(t, "res", res)
		assert.Equal(t, "block before body", rec.trace(), desc)
	} else {
		requirePayloadTypeError(t, err, "U", want, v, false, desc)
		var e *Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, ErrFailed, e.Kind, desc)
		assert.Equal(t, StageBefore, e.Stage, desc)
		assert.Equal(t, "typed", e.Listener, desc)
		assert.Empty(t, rec.trace(), desc)
	}

	// The value as a result, read through a typed handle whose result type is
	// P.
	r = New()
	mustRegister(t, r, "R", func(context.Context, any) (any, error) { return v, nil })
	c := Typed[any, P](r, "R")
	for _, invoke := range []bool{false, true} {
		var got P
		requireNoPanic(t, desc, func() {
			if invoke {
				got, err = c.Invoke(ctx, nil).Wait(ctx)
			} else {
				got, err = c.Call(ctx, nil)
			}
		})
		if ok {
			require.NoError(t, err, desc)
			if v != nil && reflect.TypeOf(v).Comparable() {
				assert.True(t, any(got) == v, "%s: result %v, want %v", desc, got, v)
			}
		} else {
			requirePayloadTypeError(t, err, "R", want, v, true, desc)
		}
	}
}

func requirePayloadTypeError(t *testing.T, err error, action string, want reflect.Type, v any, result bool, desc string) {
	t.Helper()
	require.ErrorIs(t, err, ErrPayloadType, desc)
	var e *Error
	require.ErrorAs(t, err, &e, desc)
	assert.Equal(t, action, e.Action, desc)
	var pe *PayloadTypeError
	require.ErrorAs(t, err, &pe, desc)
	assert.Equal(t, want, pe.Want, desc)
	assert.Equal(t, reflect.TypeOf(v), pe.Got, desc)
	assert.Equal(t, result, pe.Result, desc)
	assert.True(t, strings.HasPrefix(err.Error(), "actions: "+action+": "), "%s: message %q", desc, err.Error())
}
