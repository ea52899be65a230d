package actions

import (
	"errors"
	"fmt"
	"reflect"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"unsafe"
)

// Sentinel errors. Every error the library returns matches one of these, or
// the context error that cancelled the invocation, with [errors.Is]. Details
// are in [*Error] (and [*PanicError] for recovered panics), reached with
// [errors.As].
var (
	// ErrActionNotFound: no action of that name is registered.
	ErrActionNotFound = errors.New("actions: action not found")
	// ErrAlreadyRegistered: RegisterAction was called with a name that is
	// already registered. Nothing was overwritten.
	ErrAlreadyRegistered = errors.New("actions: action already registered")
	// ErrClosed: the registry is closed (see [Registry.Close]).
	ErrClosed = errors.New("actions: registry closed")
	// ErrBlocked: a block placed with [Registry.BlockAction] matched the payload.
	ErrBlocked = errors.New("actions: action blocked")
	// ErrPending: the action de-duplicates by key (see [Deduplicate]) and an
	// invocation with the same key is in flight.
	ErrPending = errors.New("actions: action pending")
	// ErrBusy: the action has a bulkhead (see [Bulkhead]) whose slots are
	// all taken and whose line of waiting invocations is full, or one of
	// its slots is held by an ancestor of the invocation, which would wait
	// for itself. The [*Error]'s Err says the limit and the queue.
	ErrBusy = errors.New("actions: action busy")
	// ErrAborted: a before-listener aborted the invocation (see [Abort]).
	ErrAborted = errors.New("actions: action aborted")
	// ErrFailed: a stage of the invocation (payload update, before-listener,
	// body or replacement, after-listener, observer) returned an error or
	// panicked. The stage's own error is wrapped.
	ErrFailed = errors.New("actions: action failed")
	// ErrDepthExceeded: the invocation is nested deeper than the registry's
	// limit (see [WithMaxDepth]); usually an action that re-invokes itself.
	ErrDepthExceeded = errors.New("actions: invocation depth limit exceeded")
	// ErrPayloadType: a typed action (see [Typed]) received a payload of
	// another type, or returns results of another type than a typed handle
	// asked for (the message then says "wrong result type").
	ErrPayloadType = errors.New("actions: wrong payload type")
	// ErrPanicked: user code panicked. Matched by [*PanicError].
	ErrPanicked = errors.New("actions: panic in user code")
	// ErrGoexit: user code called [runtime.Goexit] (as t.FailNow does in a
	// test) instead of returning. The stage it ran in failed with it.
	ErrGoexit = errors.New("actions: runtime.Goexit in user code")
)

// Stage names the part of an invocation an error came from.
type Stage uint8

// The stages of an invocation, in lifecycle order.
const (
	StageNone     Stage = iota // not inside user code: lookup, closed, blocked, pending, ...
	StageBlock                 // a block's match function
	StageKey                   // a de-duplication key function
	StageUpdate                // the payload update
	StageBefore                // a before-listener
	StageBody                  // the body or a replacement
	StageAfter                 // an after-listener
	StageObserver              // the observer
)

var stageNames = [...]string{"none", "block match", "de-duplication key", "payload update", "before phase", "body", "after phase", "observer"}

// String returns the stage's name as it appears in error messages.
func (s Stage) String() string {
	if int(s) < len(stageNames) {
		return stageNames[s]
	}
	return fmt.Sprintf("stage(%d)", s)
}

// Error is the error of a failed invocation or registration. It is returned
// as a pointer; use [errors.As] to reach it and [errors.Is] with a sentinel
// to test its kind.
type Error struct {
	// Action is the name of the action.
	Action string
	// Kind is the sentinel this error matches, such as [ErrAborted] or
	// [ErrFailed]. It is nil for an invocation ended by its context, where
	// Err is [context.Cause] of that context.
	Kind error
	// Stage is where the error arose, StageNone outside user code.
	Stage Stage
	// Listener is the name of the listener that aborted or failed, when it
	// was given one with [Named].
	Listener string
	// Plugin is the name of the plugin (see [Registry.Plugin]) whose
	// listener aborted or failed, whose block matched or whose
	// de-duplication rule rejected the invocation; "" when that was not
	// installed by a plugin.
	Plugin string
	// Err is the cause: an abort's reason, the stage's own error, a
	// [*PanicError], or the context's cause. It may be nil (an abort without
	// a reason).
	Err error

	aborts bool // Err matches ErrAborted, found when the error was made (see matches)
}

// Error returns a lowercase message prefixed "actions: " that names the
// action, the stage and the listener where known, and the cause. A chain of
// alike errors, one per nested invocation (runaway recursion), is told once
// with its count.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("actions: ")
	for {
		b.WriteString(e.Action)
		b.WriteString(": ")
		e.writeHead(&b)
		next, n := e.Err, 1
		for ne, ok := next.(*Error); ok && ne.alike(e); ne, ok = next.(*Error) {
			next, n = ne.Err, n+1
		}
		if n > 1 {
			fmt.Fprintf(&b, " (%d nested invocations)", n)
		}
		if next == nil {
			return b.String()
		}
		b.WriteString(": ")
		if ne, ok := next.(*Error); ok { // a nested invocation's: no second prefix
			e = ne
			continue
		}
		b.WriteString(strings.TrimPrefix(errorString(next), "actions: "))
		return b.String()
	}
}

// writeHead writes what the error says of its own invocation.
func (e *Error) writeHead(b *strings.Builder) {
	if e.Kind == ErrFailed && e.Stage == StageAfter { // the invocation did not fail
		b.WriteString("after-listener")
		if e.Listener != "" {
			fmt.Fprintf(b, " %q", e.Listener)
		}
		b.WriteString(" failed")
		e.writePlugin(b)
		return
	}
	switch pt, _ := e.Err.(*PayloadTypeError); {
	case e.Kind == ErrPayloadType && pt != nil && pt.Result:
		b.WriteString("wrong result type")
	case e.Kind != nil:
		b.WriteString(strings.TrimPrefix(e.Kind.Error(), "actions: "))
	case e.Err != nil:
		b.WriteString("stopped")
	}
	if e.Stage != StageNone {
		b.WriteString(" in ")
		b.WriteString(e.Stage.String())
	}
	if e.Listener != "" {
		fmt.Fprintf(b, " by listener %q", e.Listener)
	}
	e.writePlugin(b)
}

func (e *Error) writePlugin(b *strings.Builder) {
	if e.Plugin != "" {
		fmt.Fprintf(b, " (plugin %q)", e.Plugin)
	}
}

// alike reports whether e says what o says of its own invocation.
func (e *Error) alike(o *Error) bool {
	return e.Action == o.Action && e.Kind == o.Kind && e.Stage == o.Stage && e.Listener == o.Listener && e.Plugin == o.Plugin
}

// Unwrap returns the cause, so that [errors.Is] and [errors.As] reach an
// abort's reason, a stage's own error or a context error.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is e's kind.
func (e *Error) Is(target error) bool { return e.Kind != nil && target == e.Kind }

// WaitError is the error of a [Future.Wait] that gave up: its ctx was done
// before the invocation completed. The invocation goes on; its own outcome
// is still the future's. It matches what its cause matches: a Wait whose
// deadline passed matches [context.DeadlineExceeded].
type WaitError struct {
	// Action is the name of the action whose invocation was awaited.
	Action string
	// Err is [context.Cause] of the ctx given to Wait.
	Err error
}

// Error returns "actions: <action>: gave up waiting: <cause>".
func (e *WaitError) Error() string {
	return "actions: " + e.Action + ": gave up waiting: " + strings.TrimPrefix(errorString(e.Err), "actions: ")
}

// Unwrap returns the cause.
func (e *WaitError) Unwrap() error { return e.Err }

// PanicError is a panic in user code, recovered. It matches [ErrPanicked].
type PanicError struct {
	// Value is the value passed to panic.
	Value any
	// Stack is the stack of the panicking goroutine at the point of recovery.
	Stack []byte

	err error // Value if it is an error, screened (see Unwrap)
}

// Error returns "actions: panic: <value>"; the stack is in Stack. A panic in
// the value's own Error or String method is reported in the message, and so
// is an error value that cannot be inspected safely (see Unwrap).
func (p *PanicError) Error() string {
	msg := "actions: panic: " + printable(p.Value)
	if u, ok := p.err.(*unusableError); ok {
		msg += " (" + strings.TrimPrefix(u.Error(), "actions: ") + ")"
	}
	return msg
}

// Is reports whether target is ErrPanicked.
func (p *PanicError) Is(target error) bool { return target == ErrPanicked }

// Unwrap returns the panic value if it is an error, so that a panic with an
// error value can be matched with [errors.Is]; if that error cannot be
// inspected safely (its methods panic, or it unwraps in a cycle), an error of
// the library's own that names its type.
func (p *PanicError) Unwrap() error { return p.err }

// newPanicError wraps a recovered value; call it from the deferred function
// that recovered, so that the stack is the panicking goroutine's.
func newPanicError(v any) *PanicError {
	p := &PanicError{Value: v, Stack: debug.Stack()}
	if err, ok := v.(error); ok {
		p.err = screen(err)
	}
	return p
}

// PayloadTypeError details an [ErrPayloadType] error.
type PayloadTypeError struct {
	// Want is the type the typed action declares; Got is what arrived (nil
	// for a nil interface).
	Want, Got reflect.Type
	// Result is true when the mismatch is in a result, not a payload.
	Result bool
}

// Error describes the mismatch.
func (e *PayloadTypeError) Error() string {
	what := "payload"
	if e.Result {
		what = "result"
	}
	return fmt.Sprintf("actions: %s is %v, want %v", what, e.Got, e.Want)
}

// Is reports whether target is ErrPayloadType.
func (e *PayloadTypeError) Is(target error) bool { return target == ErrPayloadType }

// abortError is what [Abort] returns: a marker carrying the reason, turned
// into an [*Error] of kind [ErrAborted] by the before phase.
type abortError struct{ reason error }

// Error returns "aborted" or "aborted: <reason>", without the package's
// prefix: it is read where user code wrapped it (fmt.Errorf("quota: %w",
// Abort(reason))), inside an invocation's message that has the prefix.
func (a *abortError) Error() string {
	if a.reason == nil {
		return "aborted"
	}
	return "aborted: " + errorString(a.reason)
}
func (a *abortError) Is(target error) bool { return target == ErrAborted }
func (a *abortError) Unwrap() error        { return a.reason }

// Abort returns the error a before-listener returns to abort the invocation,
// the Go form of calling Flex's abortFunction. The reason may be nil; it is
// carried by the invocation's error, reachable with [errors.Is] and
// [errors.As]. Any error that matches [ErrAborted] aborts in the same way,
// with itself as the reason. Its message is "aborted: " and the reason's,
// without the package's prefix, so that it reads well wrapped.
//
// Returned from an after-listener, where it is too late to abort, it is a
// failure of that listener (see [WithErrorHandler]).
//
// Cost: nothing for a reason made once (a package-level error, say) and
// given again, which finds the abort made for it the last time; one small
// allocation for a reason it was not given recently.
func Abort(reason error) error {
	slot := &aborts[abortSlot(reason)]
	if a := slot.Load(); a != nil && sameError(a.reason, reason) {
		return a
	}
	a := &abortError{reason: reason}
	slot.Store(a)
	return a
}

// aborts holds the last abort Abort made for each hash of a reason's
// interface words (see abortSlot): a reason made once costs its abort once.
// The aborts are immutable, so any caller may share one.
var aborts [64]atomic.Pointer[abortError]

// abortSlot hashes the interface words of reason.
func abortSlot(reason error) int {
	w := (*[2]uintptr)(unsafe.Pointer(&reason))
	return int(uint64(w[0]^w[1]>>4) * 0x9E3779B97F4A7C15 >> 58) // 6 bits: len(aborts) == 64
}

// sameError reports whether a and b have the same interface words: the same
// dynamic type and the same value, compared by identity, never with ==,
// which panics on a dynamic type that is not comparable.
func sameError(a, b error) bool {
	return *(*[2]uintptr)(unsafe.Pointer(&a)) == *(*[2]uintptr)(unsafe.Pointer(&b))
}

// isAbort reports whether err is an invocation's abort: an [*Error] of kind
// ErrAborted, or a concurrent phase's joined errors led by one. An error that
// merely wraps an abort (a body failing because another invocation was
// aborted) is not.
func isAbort(err error) bool { return kindOf(err) == ErrAborted }

// ErrorOf returns the [*Error] an invocation ended with: err itself, or the
// first of a concurrent phase's joined errors (the abort or failure that
// stopped the phase); nil when err is nil or not the library's. Unlike
// [errors.As], it does not walk into what user code returned, so it is safe
// and cheap on any invocation's error: what [StatusOf] and [ErrorAttrs] read.
func ErrorOf(err error) *Error {
	e, _ := firstError(err).(*Error)
	return e
}

// kindOf returns the kind of an invocation's error (see ErrorOf).
func kindOf(err error) error {
	if e := ErrorOf(err); e != nil {
		return e.Kind
	}
	return nil
}

// firstError returns the first of a concurrent phase's joined errors, else
// err.
func firstError(err error) error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		if errs := j.Unwrap(); len(errs) > 0 {
			return errs[0]
		}
	}
	return err
}

// fail builds the error of a stage that returned err (or panicked).
func fail(action string, stage Stage, listener string, err error) *Error {
	return &Error{Action: action, Kind: ErrFailed, Stage: stage, Listener: listener, Err: err, aborts: matches(err, ErrAborted)}
}

// stopped builds the error of an invocation whose context ended. The cause
// may come from user code (context.WithCancelCause): it is screened.
func stopped(action string, stage Stage, cause error) *Error {
	cause = screen(cause)
	return &Error{Action: action, Stage: stage, Err: cause, aborts: matches(cause, ErrAborted)}
}

// setupPanic reports a programmer error at registration time.
func setupPanic(format string, args ...any) {
	panic("actions: " + fmt.Sprintf(format, args...))
}
