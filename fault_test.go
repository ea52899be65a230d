package actions

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The fault matrix injects one fault into one stage of an invocation of the
// action "A", whose every stage is present:
//
//	observer begin, block match, de-duplication key, payload update,
//	in-flight begin, before-listeners b1 b2, replacement, body,
//	after-listeners a1 a2, error handler, in-flight end, observer end
//
// The fault always hits the first of its kind (b1, a1), so that the test
// also sees what happens to the next one.

var errFaultInjected = errors.New("injected fault")

// Stages of the fault matrix, as named in subtests, and the tag each records
// in the trace when it runs.
const (
	fsObserverBegin = "observer_begin"
	fsBlock         = "block_match"
	fsKey           = "dedupe_key"
	fsUpdate        = "update"
	fsInFlightBegin = "inflight_begin"
	fsBefore        = "before"
	fsReplacement   = "replacement"
	fsBody          = "body"
	fsAfter         = "after"
	fsErrorHandler  = "error_handler"
	fsInFlightEnd   = "inflight_end"
	fsObserverEnd   = "observer_end"
)

var faultTags = map[string]string{
	fsObserverBegin: "obs.begin",
	fsBlock:         "block",
	fsKey:           "key",
	fsUpdate:        "update",
	fsInFlightBegin: "inflight.begin",
	fsBefore:        "b1",
	fsReplacement:   "repl",
	fsBody:          "body",
	fsAfter:         "a1",
	fsErrorHandler:  "handler",
	fsInFlightEnd:   "inflight.end",
	fsObserverEnd:   "obs.end",
}

// faultReturnsError holds the stages whose function returns an error. The
// others (a block's match, a key function, the observer's methods, the error
// handler) have none to return: an unusable error is their panic value.
var faultReturnsError = map[string]bool{
	fsUpdate:      true,
	fsBefore:      true,
	fsReplacement: true,
	fsBody:        true,
	fsAfter:       true,
}

// Faults of the fault matrix.
const (
	ffError  = "error"  // the stage returns errFaultInjected
	ffPanic  = "panic"  // the stage panics with errFaultInjected
	ffBlocks = "blocks" // the stage blocks until its ctx is done, then returns its cause: a cancellation
	ffCancel = "cancel" // the caller's ctx is cancelled while the stage runs, which then returns normally
	ffClose  = "close"  // Close is called while the stage runs; the stage then invokes another action and returns normally
	ffGoexit = "goexit" // the stage calls runtime.Goexit
	// The stage returns an error the library cannot inspect safely, or
	// panics with it where it has no error to return (see faultReturnsError).
	ffIsPanics    = "error_is_panics"    // its Is method panics
	ffUnwrapCycle = "error_unwrap_cycle" // its Unwrap method returns itself
)

// faultUnusable holds the error each unusable-error fault injects.
var faultUnusable = map[string]error{
	ffIsPanics:    panickyIsError{},
	ffUnwrapCycle: &selfWrappingError{},
}

// faultTrace is the trace of an invocation of A in which every stage ran.
const faultTrace = "obs.begin block key update inflight.begin b1 b2 repl body a1 a2 inflight.end obs.end"

// faultUpTo is the trace of an invocation that stopped after the stage
// tagged tag: every stage up to it, then the in-flight window's end if it
// had begun, then the observer's end.
func faultUpTo(tag string) string {
	i := strings.Index(faultTrace, " "+tag+" ")
	if i < 0 {
		panic("faultUpTo: unknown tag " + tag)
	}
	trace := faultTrace[:i+len(tag)+1]
	if strings.Contains(trace, " inflight.begin") {
		trace += " inflight.end"
	}
	return trace + " obs.end"
}

// handlerAfter is trace with the error handler run after the stage tagged
// tag.
func handlerAfter(trace, tag string) string {
	return strings.Replace(trace, tag, tag+" handler", 1)
}

// faultRig is one cell of the matrix: a registry whose every stage of A calls
// hit, which injects the fault into the chosen stage.
type faultRig struct {
	stage, fault string
	reg          *Registry
	rec          recorder
	cancel       context.CancelFunc // the caller's ctx
	entered      chan struct{}      // closed when a blocking or closing fault starts
	release      chan struct{}      // closed by the test to end a closing fault

	mu        sync.Mutex
	nestedErr error   // what the invocation made from a closing fault got
	handled   []error // what the error handler received
	begins    int     // observer's begins for A
	ends      int     // observer's ends for A
	endRes    any     // the result InvocationEnd saw for A
	endErr    error   // the error InvocationEnd saw for A
}

// hit runs at every stage of A: it records the stage's tag and injects the
// fault when it is the chosen stage. Stages that receive no ctx pass
// context.TODO().
func (g *faultRig) hit(ctx context.Context, stage string) error {
	g.rec.add(faultTags[stage])
	if stage != g.stage {
		return nil
	}
	switch g.fault {
	case ffError:
		return errFaultInjected
	case ffPanic:
		panic(errFaultInjected)
	case ffBlocks:
		close(g.entered)
		<-ctx.Done()
		return context.Cause(ctx)
	case ffCancel:
		g.cancel()
		return nil
	case ffClose:
		close(g.entered)
		<-g.release
		_, err := g.reg.Call(ctx, "B", nil)
		g.mu.Lock()
		g.nestedErr = err
		g.mu.Unlock()
		return nil
	case ffGoexit:
		runtime.Goexit()
		panic("runtime.Goexit returned")
	case ffIsPanics, ffUnwrapCycle:
		if faultReturnsError[stage] {
			return faultUnusable[g.fault]
		}
		panic(faultUnusable[g.fault])
	}
	panic("unknown fault " + g.fault)
}

func (g *faultRig) InvocationBegin(ctx context.Context, inv Invocation) context.Context {
	if inv.Action == "A" {
		g.mu.Lock()
		g.begins++
		g.mu.Unlock()
		_ = g.hit(ctx, fsObserverBegin)
	}
	return ctx
}

func (g *faultRig) InvocationEnd(ctx context.Context, inv Invocation, out Outcome) {
	if inv.Action == "A" {
		g.mu.Lock()
		g.ends++
		g.endRes, g.endErr = out.Result, out.Err
		g.mu.Unlock()
		_ = g.hit(ctx, fsObserverEnd)
	}
}

func (g *faultRig) InFlightBegin(ctx context.Context, inv Invocation) {
	if inv.Action == "A" {
		_ = g.hit(ctx, fsInFlightBegin)
	}
}

func (g *faultRig) InFlightEnd(ctx context.Context, inv Invocation) {
	if inv.Action == "A" {
		_ = g.hit(ctx, fsInFlightEnd)
	}
}

func newFaultRig(t *testing.T, stage, fault string) *faultRig {
	g := &faultRig{stage: stage, fault: fault, entered: make(chan struct{}), release: make(chan struct{})}
	g.reg = New(WithObserver(g), WithErrorHandler(func(_ context.Context, err error) {
		g.mu.Lock()
		g.handled = append(g.handled, err)
		g.mu.Unlock()
		_ = g.hit(context.TODO(), fsErrorHandler)
	}))
	mustRegister(t, g.reg, "A",
		func(ctx context.Context, p any) (any, error) {
			if err := g.hit(ctx, fsBody); err != nil {
				return nil, err
			}
			return "ok", nil
		},
		UpdatePayload(func(ctx context.Context, p any) (any, error) {
			return p, g.hit(ctx, fsUpdate)
		}),
		Deduplicate(func(any) string {
			_ = g.hit(context.TODO(), fsKey)
			return "k"
		}, RejectPending),
	)
	mustRegister(t, g.reg, "B", func(context.Context, any) (any, error) { return nil, nil })
	g.reg.BlockAction("A", func(any) bool {
		_ = g.hit(context.TODO(), fsBlock)
		return false
	})
	g.reg.AddListener("beforeA", func(ctx context.Context, _ any) error { return g.hit(ctx, fsBefore) })
	g.reg.AddListener("beforeA", g.rec.listen("b2", nil))
	g.reg.ReplaceAction("A", func(ctx context.Context, p any, original Body) (any, error) {
		if err := g.hit(ctx, fsReplacement); err != nil {
			return nil, err
		}
		return original(ctx, p)
	})
	g.reg.AddListener("afterA", func(ctx context.Context, _ any) error {
		if err := g.hit(ctx, fsAfter); err != nil {
			return err
		}
		if g.stage == fsErrorHandler {
			return errors.New("a1 fails to reach the error handler")
		}
		return nil
	})
	g.reg.AddListener("afterA", g.rec.listen("a2", nil))
	return g
}

// faultWant is the documented outcome of a cell.
type faultWant struct {
	skip  string // why the cell does not apply
	trace string // the stages that ran, in order
	// The invocation's error: nil kind and nil is mean success with result
	// "ok"; nil kind with is set means stopped by its ctx.
	kind  error
	stage Stage
	is    []error
	// What the error handler receives (handled == StageNone: nothing, except
	// for the error_handler stage, where a1's error is the point).
	handled   Stage
	handledIs []error
	// handledStopped: the handled error is a cancellation (its stage saw
	// the invocation's ctx done and returned its error), not a failure.
	handledStopped bool
}

func (w faultWant) success() bool { return w.kind == nil && w.is == nil }

// TestFault is the fault matrix: for every stage and fault, the documented
// outcome (the package docs' Lifecycle, Aborting and errors, User code that
// does not return, Concurrency and Observability), a future that completes,
// an admission released (Close returns at once) and no goroutine left
// behind (each cell runs in a synctest bubble, which fails on a goroutine
// that stays blocked; one that spins, such as an errors.Is walking a cycle,
// is left to the test's -timeout). Each cell runs through Call and through
// InvokeAction.
func TestFault(t *testing.T) {
	var (
		canceled  = []error{context.Canceled}
		injected  = []error{errFaultInjected}
		panicked  = []error{ErrPanicked, errFaultInjected}
		goexited  = []error{ErrGoexit}
		fullAfter = handlerAfter(faultTrace, "a2")
		// A Goexit in a1 ends the goroutine: a2 does not run.
		exitAfter = strings.Replace(faultTrace, "a2", "handler", 1)
		noErr     = "it has no error to return"
		noCtx     = "receives no ctx, so it can block only on something else, which synctest reports as a deadlock by design"
		// An unusable error is replaced, in the error the invocation or the
		// handler gets, by one naming its type (runFaultCell checks that).
		// Where it is a panic value, the *PanicError matches ErrPanicked.
		unusablePanic = []error{ErrPanicked}
	)
	obsNoErr := "InvocationBegin returns a ctx and InvocationEnd nothing: an observer has no error to return"
	ifoNoErr := "InFlightBegin and InFlightEnd return nothing: an observer has no error to return"
	cells := map[string]map[string]faultWant{
		fsUpdate: { // Lifecycle step 5: its error fails the invocation, nothing else runs
			ffError:  {trace: faultUpTo("update"), kind: ErrFailed, stage: StageUpdate, is: injected},
			ffPanic:  {trace: faultUpTo("update"), kind: ErrFailed, stage: StageUpdate, is: panicked},
			ffBlocks: {trace: faultUpTo("update"), stage: StageUpdate, is: canceled},
			// Lifecycle: cancellation is checked before the before phase,
			// once the in-flight window has opened.
			ffCancel: {trace: faultUpTo("inflight.begin"), stage: StageBefore, is: canceled},
			ffClose:  {trace: faultTrace},
			// User code that does not return: the stage that called Goexit fails.
			ffGoexit:      {trace: faultUpTo("update"), kind: ErrFailed, stage: StageUpdate, is: goexited},
			ffIsPanics:    {trace: faultUpTo("update"), kind: ErrFailed, stage: StageUpdate},
			ffUnwrapCycle: {trace: faultUpTo("update"), kind: ErrFailed, stage: StageUpdate},
		},
		fsBlock: { // Aborting and errors: a panic in match fails the invocation
			ffError:       {skip: "a block's match returns a bool: " + noErr},
			ffPanic:       {trace: faultUpTo("block"), kind: ErrFailed, stage: StageBlock, is: panicked},
			ffBlocks:      {skip: "a block's match " + noCtx},
			ffCancel:      {trace: faultUpTo("inflight.begin"), stage: StageBefore, is: canceled},
			ffClose:       {trace: faultTrace},
			ffGoexit:      {trace: faultUpTo("block"), kind: ErrFailed, stage: StageBlock, is: goexited},
			ffIsPanics:    {trace: faultUpTo("block"), kind: ErrFailed, stage: StageBlock, is: unusablePanic},
			ffUnwrapCycle: {trace: faultUpTo("block"), kind: ErrFailed, stage: StageBlock, is: unusablePanic},
		},
		fsKey: {
			ffError:       {skip: "a de-duplication key function returns a string: " + noErr},
			ffPanic:       {trace: faultUpTo("key"), kind: ErrFailed, stage: StageKey, is: panicked},
			ffBlocks:      {skip: "a de-duplication key function " + noCtx},
			ffCancel:      {trace: faultUpTo("inflight.begin"), stage: StageBefore, is: canceled},
			ffClose:       {trace: faultTrace},
			ffGoexit:      {trace: faultUpTo("key"), kind: ErrFailed, stage: StageKey, is: goexited},
			ffIsPanics:    {trace: faultUpTo("key"), kind: ErrFailed, stage: StageKey, is: unusablePanic},
			ffUnwrapCycle: {trace: faultUpTo("key"), kind: ErrFailed, stage: StageKey, is: unusablePanic},
		},
		fsBefore: { // Aborting and errors: a failing before-listener stops the invocation, not an abort
			ffError:  {trace: faultUpTo("b1"), kind: ErrFailed, stage: StageBefore, is: injected},
			ffPanic:  {trace: faultUpTo("b1"), kind: ErrFailed, stage: StageBefore, is: panicked},
			ffBlocks: {trace: faultUpTo("b1"), stage: StageBefore, is: canceled},
			// Lifecycle: checked between listeners of a sequential before phase.
			ffCancel: {trace: faultUpTo("b1"), stage: StageBefore, is: canceled},
			ffClose:  {trace: faultTrace},
			ffGoexit: {trace: faultUpTo("b1"), kind: ErrFailed, stage: StageBefore, is: goexited},
			// User code that does not return: asked whether it aborts, the
			// error cannot say; it is a failure, not an abort.
			ffIsPanics:    {trace: faultUpTo("b1"), kind: ErrFailed, stage: StageBefore},
			ffUnwrapCycle: {trace: faultUpTo("b1"), kind: ErrFailed, stage: StageBefore},
		},
		fsReplacement: { // Lifecycle step 8: after-listeners do not run
			ffError:  {trace: faultUpTo("repl"), kind: ErrFailed, stage: StageBody, is: injected},
			ffPanic:  {trace: faultUpTo("repl"), kind: ErrFailed, stage: StageBody, is: panicked},
			ffBlocks: {trace: faultUpTo("repl"), stage: StageBody, is: canceled},
			// Lifecycle: once the body has returned successfully its result stands.
			ffCancel:      {trace: faultTrace},
			ffClose:       {trace: faultTrace},
			ffGoexit:      {trace: faultUpTo("repl"), kind: ErrFailed, stage: StageBody, is: goexited},
			ffIsPanics:    {trace: faultUpTo("repl"), kind: ErrFailed, stage: StageBody},
			ffUnwrapCycle: {trace: faultUpTo("repl"), kind: ErrFailed, stage: StageBody},
		},
		fsBody: {
			ffError:       {trace: faultUpTo("body"), kind: ErrFailed, stage: StageBody, is: injected},
			ffPanic:       {trace: faultUpTo("body"), kind: ErrFailed, stage: StageBody, is: panicked},
			ffBlocks:      {trace: faultUpTo("body"), stage: StageBody, is: canceled},
			ffCancel:      {trace: faultTrace},
			ffClose:       {trace: faultTrace},
			ffGoexit:      {trace: faultUpTo("body"), kind: ErrFailed, stage: StageBody, is: goexited},
			ffIsPanics:    {trace: faultUpTo("body"), kind: ErrFailed, stage: StageBody},
			ffUnwrapCycle: {trace: faultUpTo("body"), kind: ErrFailed, stage: StageBody},
		},
		fsAfter: { // Aborting and errors: the result stands, the others run, the handler gets the error
			ffError:  {trace: fullAfter, handled: StageAfter, handledIs: injected},
			ffPanic:  {trace: fullAfter, handled: StageAfter, handledIs: panicked},
			ffBlocks: {trace: fullAfter, handled: StageAfter, handledIs: canceled, handledStopped: true},
			ffCancel: {trace: faultTrace},
			ffClose:  {trace: faultTrace},
			// User code that does not return: the result stands, the
			// handler gets the failure, a2 does not run (the goroutine is
			// ending), and the rest of the settle does.
			ffGoexit:      {trace: exitAfter, handled: StageAfter, handledIs: goexited},
			ffIsPanics:    {trace: fullAfter, handled: StageAfter},
			ffUnwrapCycle: {trace: fullAfter, handled: StageAfter},
		},
		fsErrorHandler: { // a1 fails so that the handler runs; its panic is contained
			ffError:  {skip: "the error handler returns nothing: " + noErr},
			ffPanic:  {trace: fullAfter},
			ffBlocks: {skip: "the error handler " + noCtx},
			ffCancel: {trace: fullAfter},
			ffClose:  {trace: fullAfter},
			// User code that does not return: the outcome stands; the
			// in-flight end, the observer's end, the future's completion and
			// the release still happen.
			ffGoexit:      {trace: fullAfter},
			ffIsPanics:    {trace: fullAfter},
			ffUnwrapCycle: {trace: fullAfter},
		},
		fsObserverBegin: { // Observability: a panic never changes the outcome
			ffError: {skip: obsNoErr},
			ffPanic: {trace: handlerAfter(faultTrace, "obs.begin"), handled: StageObserver, handledIs: []error{ErrPanicked}},
			// Lifecycle step 0: the begin is before step 0, which sees the done ctx.
			ffBlocks: {trace: "obs.begin obs.end", is: canceled},
			ffCancel: {trace: "obs.begin obs.end", is: canceled},
			// Via Call, not accepted yet: Close does not wait for it, and it
			// is refused. Via InvokeAction, admitted when InvokeAction was
			// called: Close waits for it and it runs (see runFaultCell).
			ffClose: {trace: "obs.begin obs.end", kind: ErrClosed},
			// User code that does not return: fails at StageObserver. A
			// Goexit in an observer method is the invocation's error where
			// it fails it, and is not also reported to the error handler,
			// as a panic is: in the four observer methods, the handler is
			// not called.
			ffGoexit:      {trace: "obs.begin obs.end", kind: ErrFailed, stage: StageObserver, is: goexited},
			ffIsPanics:    {trace: handlerAfter(faultTrace, "obs.begin"), handled: StageObserver, handledIs: unusablePanic},
			ffUnwrapCycle: {trace: handlerAfter(faultTrace, "obs.begin"), handled: StageObserver, handledIs: unusablePanic},
		},
		fsInFlightBegin: { // Observability: as InvocationBegin, at the start of the before phase
			ffError: {skip: ifoNoErr},
			ffPanic: {trace: handlerAfter(faultTrace, "inflight.begin"), handled: StageObserver, handledIs: []error{ErrPanicked}},
			// Lifecycle: cancellation is checked before the before phase.
			ffBlocks: {trace: faultUpTo("inflight.begin"), stage: StageBefore, is: canceled},
			ffCancel: {trace: faultUpTo("inflight.begin"), stage: StageBefore, is: canceled},
			ffClose:  {trace: faultTrace},
			// User code that does not return: fails at StageObserver; the
			// window that opened still closes.
			ffGoexit:      {trace: faultUpTo("inflight.begin"), kind: ErrFailed, stage: StageObserver, is: goexited},
			ffIsPanics:    {trace: handlerAfter(faultTrace, "inflight.begin"), handled: StageObserver, handledIs: unusablePanic},
			ffUnwrapCycle: {trace: handlerAfter(faultTrace, "inflight.begin"), handled: StageObserver, handledIs: unusablePanic},
		},
		fsInFlightEnd: {
			ffError:  {skip: ifoNoErr},
			ffPanic:  {trace: handlerAfter(faultTrace, "inflight.end"), handled: StageObserver, handledIs: []error{ErrPanicked}},
			ffBlocks: {trace: faultTrace},
			ffCancel: {trace: faultTrace},
			ffClose:  {trace: faultTrace},
			// User code that does not return: the outcome is settled and
			// stands.
			ffGoexit:      {trace: faultTrace},
			ffIsPanics:    {trace: handlerAfter(faultTrace, "inflight.end"), handled: StageObserver, handledIs: unusablePanic},
			ffUnwrapCycle: {trace: handlerAfter(faultTrace, "inflight.end"), handled: StageObserver, handledIs: unusablePanic},
		},
		fsObserverEnd: {
			ffError:  {skip: obsNoErr},
			ffPanic:  {trace: handlerAfter(faultTrace, "obs.end"), handled: StageObserver, handledIs: []error{ErrPanicked}},
			ffBlocks: {trace: faultTrace},
			ffCancel: {trace: faultTrace},
			ffClose:  {trace: faultTrace},
			// User code that does not return: the outcome is settled and
			// stands.
			ffGoexit:      {trace: faultTrace},
			ffIsPanics:    {trace: handlerAfter(faultTrace, "obs.end"), handled: StageObserver, handledIs: unusablePanic},
			ffUnwrapCycle: {trace: handlerAfter(faultTrace, "obs.end"), handled: StageObserver, handledIs: unusablePanic},
		},
	}
	stages := []string{fsUpdate, fsBlock, fsKey, fsInFlightBegin, fsBefore, fsBody, fsReplacement, fsAfter, fsErrorHandler, fsInFlightEnd, fsObserverBegin, fsObserverEnd}
	faults := []string{ffError, ffPanic, ffBlocks, ffCancel, ffClose, ffGoexit, ffIsPanics, ffUnwrapCycle}
	require.Len(t, cells, len(stages))
	for _, stage := range stages {
		require.Len(t, cells[stage], len(faults), stage)
		for _, fault := range faults {
			want := cells[stage][fault]
			t.Run(fmt.Sprintf("stage=%s/fault=%s", stage, fault), func(t *testing.T) {
				if want.skip != "" {
					t.Skip("does not apply: " + want.skip)
				}
				for _, via := range []string{"Call", "InvokeAction"} {
					t.Run("via="+via, func(t *testing.T) {
						synctest.Test(t, func(t *testing.T) { runFaultCell(t, stage, fault, via, want) })
					})
				}
			})
		}
	}
}

func runFaultCell(t *testing.T, stage, fault, via string, want faultWant) {
	// InvokeAction admits its invocation when it is called: a Close that
	// begins while the observer's begin runs waits for it, and it runs.
	admitted := stage == fsObserverBegin && fault == ffClose && via == "InvokeAction"
	if admitted {
		want = faultWant{trace: faultTrace}
	}
	g := newFaultRig(t, stage, fault)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g.cancel = cancel

	var (
		done   <-chan struct{}
		result func() (any, error)
		fut    *Future[any]
	)
	if via == "Call" {
		ch := make(chan struct{})
		var res any
		var err error
		returned := false
		go func() {
			defer close(ch)
			res, err = g.reg.Call(ctx, "A", "p")
			returned = true
		}()
		done, result = ch, func() (any, error) {
			if fault != ffGoexit {
				require.True(t, returned, "Call did not return")
				return res, err
			}
			// User code that does not return: through Call, Goexit ends the
			// caller's goroutine. No caller gets the outcome; the observer's
			// end does.
			assert.False(t, returned, "Call returned, though user code called runtime.Goexit")
			g.mu.Lock()
			defer g.mu.Unlock()
			return g.endRes, g.endErr
		}
	} else {
		fut = g.reg.InvokeAction(ctx, "A", "p")
		done, result = fut.Done(), fut.Result
	}

	closeDone := make(chan struct{})
	var closeErr error
	switch fault {
	case ffBlocks:
		<-g.entered
		synctest.Wait()
		faultRequireNotDone(t, done, "the invocation completed while its stage was blocked")
		cancel()
	case ffClose:
		<-g.entered
		go func() {
			defer close(closeDone)
			closeErr = g.reg.Close(context.Background())
		}()
		synctest.Wait()
		faultRequireNotDone(t, done, "the invocation completed while its stage was running")
		if stage == fsObserverBegin && !admitted {
			faultRequireDone(t, closeDone, "Close waited for an invocation it had not accepted")
		} else {
			faultRequireNotDone(t, closeDone, "Close returned while an accepted invocation was running (see Close)")
		}
		close(g.release)
	}
	<-done
	res, err := result()
	if fault == ffClose {
		<-closeDone
		assert.NoError(t, closeErr)
		g.mu.Lock()
		assert.ErrorIs(t, g.nestedErr, ErrClosed, "an invocation started after Close began is refused (see Close)")
		g.mu.Unlock()
	}
	g.mu.Lock()
	handled := g.handled
	g.mu.Unlock()

	// User code that does not return: an unusable error is replaced by one
	// that names its type, and the error that holds it is safe to inspect.
	// Only then is it inspected as the other cells' errors are.
	if unusable := faultUnusable[fault]; unusable != nil {
		if err != nil && !faultUsable(t, "the invocation's error", err, unusable) {
			return
		}
		if want.handled != StageNone && len(handled) == 1 && !faultUsable(t, "the handled error", handled[0], unusable) {
			return
		}
	}

	// The documented outcome.
	if want.success() {
		require.NoError(t, err)
		assert.Equal(t, "ok", res)
	} else {
		require.Error(t, err)
		assert.Nil(t, res)
		var e *Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, "A", e.Action)
		assert.Equal(t, want.kind, e.Kind, "kind of %v", err)
		assert.Equal(t, want.stage, e.Stage, "stage of %v", err)
		for _, target := range want.is {
			assert.ErrorIs(t, err, target)
		}
		if want.kind != ErrAborted {
			assert.NotErrorIs(t, err, ErrAborted)
		}
		assert.True(t, strings.HasPrefix(err.Error(), "actions: A: "), "message: %s", err)
	}
	assert.Equal(t, want.trace, g.rec.trace())

	// What the error handler received.
	switch {
	case stage == fsErrorHandler:
		require.Len(t, handled, 1, "a1's error")
	case want.handled == StageNone:
		assert.Empty(t, handled)
	default:
		require.Len(t, handled, 1)
		var e *Error
		require.ErrorAs(t, handled[0], &e)
		assert.Equal(t, want.handled, e.Stage, "stage of %v", handled[0])
		if want.handledStopped {
			assert.Nil(t, e.Kind, "kind of %v", handled[0])
		} else {
			assert.ErrorIs(t, handled[0], ErrFailed)
		}
		for _, target := range want.handledIs {
			assert.ErrorIs(t, handled[0], target)
		}
	}

	// Exactly one begin and one end, which saw the future's error (Observability);
	// nothing is left in flight; the future gives the same outcome again.
	g.mu.Lock()
	assert.Equal(t, 1, g.begins, "observer begins")
	assert.Equal(t, 1, g.ends, "observer ends")
	if err == nil {
		assert.NoError(t, g.endErr)
	} else {
		assert.Same(t, err, g.endErr, "the observer saw another error than the caller")
	}
	g.mu.Unlock()
	assert.Zero(t, g.reg.InFlight("A"))
	if fut != nil {
		res2, err2 := fut.Wait(context.Background())
		assert.Equal(t, res, res2)
		assert.Equal(t, err, err2)
	}
	if fault == ffClose {
		_, err := g.reg.Call(context.Background(), "A", "p")
		assert.ErrorIs(t, err, ErrClosed)
	}

	// However the stage left, the admission was released: Close returns nil
	// (User code that does not return: Close stops waiting for it). Were
	// it to wait for ever, the bubble's clock would reach the timeout at
	// once and Close would return the ctx's error.
	closeCtx, cancelClose := context.WithTimeout(context.Background(), time.Hour)
	defer cancelClose()
	assert.NoError(t, g.reg.Close(closeCtx), "Close once the invocation ended")
}

// faultUsable checks err, which holds the library's stand-in for the
// unusable error a stage returned or panicked with: it matches ErrFailed,
// errors.Is, errors.As and its message return without panicking, and the
// message names the unusable error's type. It reports false, after failing
// the test, when inspecting err panicked: err must not be inspected further.
func faultUsable(t *testing.T, what string, err, unusable error) bool {
	t.Helper()
	f, ok := inspect(t, err)
	if !ok {
		return false
	}
	assert.True(t, f.failed, "%s %q does not match ErrFailed", what, f.msg)
	assert.Contains(t, f.msg, fmt.Sprintf("%T", unusable), "%s does not name the unusable error's type", what)
	return true
}

func faultRequireDone(t *testing.T, ch <-chan struct{}, msg string) {
	t.Helper()
	select {
	case <-ch:
	default:
		require.Fail(t, msg)
	}
}

func faultRequireNotDone(t *testing.T, ch <-chan struct{}, msg string) {
	t.Helper()
	select {
	case <-ch:
		require.Fail(t, msg)
	default:
	}
}
