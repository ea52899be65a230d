package actions

import "context"

// Status is how an invocation ended, in one word: what a log line, a metric
// label or a span attribute says of it.
type Status uint8

// The statuses of an invocation.
const (
	// StatusOK: the invocation completed with its body's result.
	StatusOK Status = iota
	// StatusAborted: a before-listener aborted it ([ErrAborted]).
	StatusAborted
	// StatusFailed: a stage returned an error or panicked ([ErrFailed]).
	StatusFailed
	// StatusRejected: it was refused before its stages ran: not found,
	// closed, blocked, pending, busy, too deep, a payload of the wrong type.
	StatusRejected
	// StatusCancelled: its own context was done, wherever that landed (see
	// "Aborting and errors" in the package documentation).
	StatusCancelled
)

var statusNames = [...]string{"ok", "aborted", "failed", "rejected", "cancelled"}

// String returns the status's name: "ok", "aborted", "failed", "rejected" or
// "cancelled".
func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "status(" + string(rune('0'+s)) + ")"
}

// StatusOf returns the status of an invocation that ended with err: the
// error a call or a future returned. It reads the kind of the invocation's
// [*Error] (the first of a concurrent phase's joined errors) without walking
// into what it wraps. A [*WaitError] (a wait that gave up) is cancelled. An
// error the library did not make is a failure.
func StatusOf(err error) Status {
	if err == nil {
		return StatusOK
	}
	if _, ok := err.(*WaitError); ok {
		return StatusCancelled
	}
	e := ErrorOf(err)
	switch {
	case e == nil:
		return StatusFailed
	case e.Kind == ErrAborted:
		return StatusAborted
	case e.Kind == ErrFailed:
		return StatusFailed
	case e.Kind == nil:
		return StatusCancelled
	}
	return StatusRejected
}

// Status returns the status of the outcome's error (see [StatusOf]).
func (o Outcome) Status() Status { return StatusOf(o.Err) }

// stageError builds the error of a stage that returned err (or panicked) in
// an invocation whose stages receive ctx: a cancellation when ctx is done
// and err is, or wraps, its error or its cause; else a failure.
func stageError(ctx *nest, action string, stage Stage, listener string, err error) *Error {
	if ctx.done() && endedBy(ctx, err) {
		return &Error{Action: action, Stage: stage, Listener: listener, Err: err, aborts: matches(err, ErrAborted)}
	}
	return fail(action, stage, listener, err)
}

// endedBy reports whether err says that ctx is done.
func endedBy(ctx context.Context, err error) bool {
	if matches(err, ctx.Err()) {
		return true
	}
	cause := context.Cause(ctx)
	return cause != ctx.Err() && cause != nil && matches(err, cause)
}
