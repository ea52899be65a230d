package actions

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The fault matrix injects one fault into one stage of an invocation of the
// action "A", whose every stage is present:
//
//	observer begin, block match, de-duplication key, payload update,
//	before-listeners b1 b2, replacement, body, after-listeners a1 a2,
//	error handler, observer end
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
	fsBefore        = "before"
	fsReplacement   = "replacement"
	fsBody          = "body"
	fsAfter         = "after"
	fsErrorHandler  = "error_handler"
	fsObserverEnd   = "observer_end"
)

var faultTags = map[string]string{
	fsObserverBegin: "obs.begin",
	fsBlock:         "block",
	fsKey:           "key",
	fsUpdate:        "update",
	fsBefore:        "b1",
	fsReplacement:   "repl",
	fsBody:          "body",
	fsAfter:         "a1",
	fsErrorHandler:  "handler",
	fsObserverEnd:   "obs.end",
}

// Faults of the fault matrix.
const (
	ffError  = "error"  // the stage returns errFaultInjected
	ffPanic  = "panic"  // the stage panics with errFaultInjected
	ffBlocks = "blocks" // the stage blocks until its ctx is done, then returns its cause
	ffCancel = "cancel" // the caller's ctx is cancelled while the stage runs, which then returns normally
	ffClose  = "close"  // Close is called while the stage runs; the stage then invokes another action and returns normally
)

// faultTrace is the trace of an invocation of A in which every stage ran.
const faultTrace = "obs.begin block key update b1 b2 repl body a1 a2 obs.end"

// faultUpTo is the trace of an invocation that stopped after the stage
// tagged tag: every stage up to it, then the observer's end.
func faultUpTo(tag string) string {
	i := strings.Index(faultTrace, " "+tag+" ")
	if i < 0 {
		panic("faultUpTo: unknown tag " + tag)
	}
	return faultTrace[:i+len(tag)+1] + " obs.end"
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
		g.endErr = out.Err
		g.mu.Unlock()
		_ = g.hit(ctx, fsObserverEnd)
	}
}

func newFaultRig(t *testing.T, stage, fault string) *faultRig {
	g := &faultRig{stage: stage, fault: fault, entered: make(chan struct{}), release: make(chan struct{})}
	g.reg = New(WithObserver(g), WithErrorHandler(func(err error) {
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
}

func (w faultWant) success() bool { return w.kind == nil && w.is == nil }

// TestFault is the fault matrix: for every stage and fault, the documented
// outcome (the package docs' Lifecycle, Aborting and errors, Concurrency and
// Observability), a future that completes, and no goroutine left behind
// (each cell runs in a synctest bubble, which fails on a goroutine that
// stays blocked). Each cell runs through Call and through InvokeAction.
func TestFault(t *testing.T) {
	var (
		canceled  = []error{context.Canceled}
		injected  = []error{errFaultInjected}
		panicked  = []error{ErrPanicked, errFaultInjected}
		fullAfter = strings.Replace(faultTrace, "a2", "a2 handler", 1)
		noErr     = "it returns no error"
		noCtx     = "it receives no ctx, so it can block only on something else, which synctest reports as a deadlock by design"
	)
	obsNoErr := "InvocationBegin returns a ctx and InvocationEnd nothing: an observer has no error to return"
	cells := map[string]map[string]faultWant{
		fsUpdate: { // Lifecycle step 5: its error fails the invocation, nothing else runs
			ffError:  {trace: faultUpTo("update"), kind: ErrFailed, stage: StageUpdate, is: injected},
			ffPanic:  {trace: faultUpTo("update"), kind: ErrFailed, stage: StageUpdate, is: panicked},
			ffBlocks: {trace: faultUpTo("update"), kind: ErrFailed, stage: StageUpdate, is: canceled},
			// Lifecycle: cancellation is checked before the before phase.
			ffCancel: {trace: faultUpTo("update"), stage: StageBefore, is: canceled},
			ffClose:  {trace: faultTrace},
		},
		fsBlock: { // Aborting and errors: a panic in match fails the invocation
			ffError:  {skip: "a block's match returns a bool: " + noErr},
			ffPanic:  {trace: faultUpTo("block"), kind: ErrFailed, stage: StageBlock, is: panicked},
			ffBlocks: {skip: "a block's match " + noCtx},
			ffCancel: {trace: faultUpTo("update"), stage: StageBefore, is: canceled},
			ffClose:  {trace: faultTrace},
		},
		fsKey: {
			ffError:  {skip: "a de-duplication key function returns a string: " + noErr},
			ffPanic:  {trace: faultUpTo("key"), kind: ErrFailed, stage: StageKey, is: panicked},
			ffBlocks: {skip: "a de-duplication key function " + noCtx},
			ffCancel: {trace: faultUpTo("update"), stage: StageBefore, is: canceled},
			ffClose:  {trace: faultTrace},
		},
		fsBefore: { // Aborting and errors: a failing before-listener stops the invocation, not an abort
			ffError:  {trace: faultUpTo("b1"), kind: ErrFailed, stage: StageBefore, is: injected},
			ffPanic:  {trace: faultUpTo("b1"), kind: ErrFailed, stage: StageBefore, is: panicked},
			ffBlocks: {trace: faultUpTo("b1"), kind: ErrFailed, stage: StageBefore, is: canceled},
			// Lifecycle: checked between listeners of a sequential before phase.
			ffCancel: {trace: faultUpTo("b1"), stage: StageBefore, is: canceled},
			ffClose:  {trace: faultTrace},
		},
		fsReplacement: { // Lifecycle step 8: after-listeners do not run
			ffError:  {trace: faultUpTo("repl"), kind: ErrFailed, stage: StageBody, is: injected},
			ffPanic:  {trace: faultUpTo("repl"), kind: ErrFailed, stage: StageBody, is: panicked},
			ffBlocks: {trace: faultUpTo("repl"), kind: ErrFailed, stage: StageBody, is: canceled},
			// Lifecycle: once the body has returned successfully its result stands.
			ffCancel: {trace: faultTrace},
			ffClose:  {trace: faultTrace},
		},
		fsBody: {
			ffError:  {trace: faultUpTo("body"), kind: ErrFailed, stage: StageBody, is: injected},
			ffPanic:  {trace: faultUpTo("body"), kind: ErrFailed, stage: StageBody, is: panicked},
			ffBlocks: {trace: faultUpTo("body"), kind: ErrFailed, stage: StageBody, is: canceled},
			ffCancel: {trace: faultTrace},
			ffClose:  {trace: faultTrace},
		},
		fsAfter: { // Aborting and errors: the result stands, the others run, the handler gets the error
			ffError:  {trace: fullAfter, handled: StageAfter, handledIs: injected},
			ffPanic:  {trace: fullAfter, handled: StageAfter, handledIs: panicked},
			ffBlocks: {trace: fullAfter, handled: StageAfter, handledIs: canceled},
			ffCancel: {trace: faultTrace},
			ffClose:  {trace: faultTrace},
		},
		fsErrorHandler: { // a1 fails so that the handler runs; its panic is contained
			ffError:  {skip: "the error handler " + noErr},
			ffPanic:  {trace: fullAfter},
			ffBlocks: {skip: "the error handler " + noCtx},
			ffCancel: {trace: fullAfter},
			ffClose:  {trace: fullAfter},
		},
		fsObserverBegin: { // Observability: a panic never changes the outcome
			ffError: {skip: obsNoErr},
			ffPanic: {trace: strings.Replace(faultTrace, "obs.begin", "obs.begin handler", 1), handled: StageObserver, handledIs: []error{ErrPanicked}},
			// Lifecycle step 0: the begin is before step 0, which sees the done ctx.
			ffBlocks: {trace: "obs.begin obs.end", is: canceled},
			ffCancel: {trace: "obs.begin obs.end", is: canceled},
			// Via Call, not accepted yet: Close does not wait for it, and it
			// is refused. Via InvokeAction, admitted when InvokeAction was
			// called: Close waits for it and it runs (see runFaultCell).
			ffClose: {trace: "obs.begin obs.end", kind: ErrClosed},
		},
		fsObserverEnd: {
			ffError:  {skip: obsNoErr},
			ffPanic:  {trace: faultTrace + " handler", handled: StageObserver, handledIs: []error{ErrPanicked}},
			ffBlocks: {trace: faultTrace},
			ffCancel: {trace: faultTrace},
			ffClose:  {trace: faultTrace},
		},
	}
	stages := []string{fsUpdate, fsBlock, fsKey, fsBefore, fsBody, fsReplacement, fsAfter, fsErrorHandler, fsObserverBegin, fsObserverEnd}
	faults := []string{ffError, ffPanic, ffBlocks, ffCancel, ffClose}
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
		go func() {
			defer close(ch)
			res, err = g.reg.Call(ctx, "A", "p")
		}()
		done, result = ch, func() (any, error) { return res, err }
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
	g.mu.Lock()
	handled := g.handled
	g.mu.Unlock()
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
		assert.ErrorIs(t, handled[0], ErrFailed)
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
