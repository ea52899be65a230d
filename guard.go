package actions

import (
	"fmt"
	"reflect"
)

// guard contains one run of user code: a stage, an observer method, the
// error handler. Every call into user code is made as
//
//	var g guard
//	defer g.recover(&err)
//	err = userCode()
//	g.returned = true
//
// so that however the user code leaves, *err says how: its own error,
// screened (see screen), or a [*PanicError]. The lifecycle of an invocation
// has one guard of its own for all its steps, frame.end, which knows the
// stage from the frame: one recover per invocation rather than per stage.
// Whether the code returned is known from returned, never from recover():
// recover returns nil for runtime.Goexit, and for panic(nil) under
// GODEBUG=panicnil=1. After panic(nil) the caller goes on with *err; after
// runtime.Goexit it does not, and the frame's settle reports the stage the
// frame was in (see frame.goexited).
//
// The guard holds nothing but returned: a frame stored in it would escape
// to the heap with the guard's deferred call.
type guard struct{ returned bool }

// recover, deferred, turns how the guarded code left into *err.
func (g *guard) recover(err *error) {
	if g.returned {
		if *err != nil {
			*err = screen(*err)
		}
		return
	}
	*err = newPanicError(recover())
}

// catch, deferred, sets *p to the panic the guarded code left by, if it did
// not return. The code's own error is the caller's to screen.
func (g *guard) catch(p **PanicError) {
	if !g.returned {
		*p = newPanicError(recover())
	}
}

// maxErrorNodes bounds the walk of one error tree: an Unwrap that returns its
// own error (or a longer cycle) must not hang an invocation.
const maxErrorNodes = 1000

// screen returns err if the library can inspect it safely: every Unwrap and
// Is(ErrAborted) method in its tree returns, without panicking, and the tree
// has at most maxErrorNodes errors. Otherwise it returns an error of the
// library's own that describes err, so that no caller of errors.Is on the
// invocation's error can crash or hang on it.
//
// The library's own errors ([*Error], [*PanicError]) were screened when they
// were made: the walk stops at them (see matches), which keeps errors that
// wrap nested invocations' errors linear to screen.
func screen(err error) error {
	if a, ok := err.(*abortError); ok && leaf(a.reason) || leaf(err) {
		return err // the common cases, without a walk
	}
	w := errWalk{target: ErrAborted, full: true}
	if w.run(err); w.bad != "" {
		return &unusableError{typ: fmt.Sprintf("%T", err), why: w.bad}
	}
	return err
}

// leaf reports whether err has no method the library would call but Error:
// nothing to walk, nothing to contain.
func leaf(err error) bool {
	switch err.(type) {
	case interface{ Unwrap() error }, interface{ Unwrap() []error }, interface{ Is(error) bool }:
		return false
	}
	return true
}

// matches reports whether err's tree has an error that is target or whose Is
// method reports target, as errors.Is does, with user methods contained and
// the walk bounded. Whether an [*Error] matches ErrAborted was found when it
// was made: the walk does not descend into it for that question, so that
// asking it of errors that wrap nested invocations' errors is linear.
func matches(err, target error) bool {
	w := errWalk{target: target}
	return w.run(err) && w.bad == ""
}

// errWalk is one bounded, contained walk of an error tree.
type errWalk struct {
	target error
	cmp    bool   // target's type is comparable: == may be used on it
	full   bool   // walk the whole tree rather than stop at the first match
	nodes  int    // errors visited
	found  bool   // a node matched target
	bad    string // why the walk stopped, when it could not finish
}

func (w *errWalk) run(err error) bool {
	defer func() {
		if v := recover(); v != nil {
			w.bad = fmt.Sprintf("a method panicked: %v", v)
		}
	}()
	w.cmp = w.target == nil || reflect.TypeOf(w.target).Comparable()
	w.visit(err)
	return w.found
}

// visit walks err and what it wraps; it reports whether to go on.
func (w *errWalk) visit(err error) bool {
	for err != nil {
		if w.nodes++; w.nodes > maxErrorNodes {
			w.bad = fmt.Sprintf("its tree has more than %d errors, or a cycle", maxErrorNodes)
			return false
		}
		if w.cmp && err == w.target || w.ownMatch(err) {
			w.found = true
			if !w.full {
				return false
			}
		}
		if e, ok := err.(*Error); ok && w.target != ErrAborted {
			err = e.Err // an invocation's error: its cause, screened when it was made
			continue
		}
		if w.own(err) {
			return true // answered by ownMatch
		}
		switch e := err.(type) {
		case interface{ Unwrap() error }:
			err = e.Unwrap()
		case interface{ Unwrap() []error }:
			for _, x := range e.Unwrap() {
				if !w.visit(x) {
					return false
				}
			}
			return true
		default:
			return true
		}
	}
	return true
}

// own reports whether err is one of the library's errors, which were screened
// when they were made and answer ownMatch without a walk.
func (w *errWalk) own(err error) bool {
	switch err.(type) {
	case *Error, *PanicError, *unusableError:
		return true
	}
	return false
}

// ownMatch reports whether err matches the target: by the answers of the
// library's own errors, else by err's Is method. Whether an [*Error] matches
// ErrAborted was found when it was made.
func (w *errWalk) ownMatch(err error) bool {
	switch e := err.(type) {
	case *Error:
		if w.target == ErrAborted {
			return e.Kind == ErrAborted || e.aborts
		}
		return e.Kind != nil && e.Kind == w.target
	case *PanicError:
		return w.target == ErrPanicked
	case *unusableError:
		return false
	}
	x, ok := err.(interface{ Is(error) bool })
	return ok && x.Is(w.target)
}

// unusableError stands in for an error from user code that the library cannot
// inspect safely (see screen). It names the error's type, not its message:
// its Error method is user code too.
type unusableError struct{ typ, why string }

func (u *unusableError) Error() string {
	return "actions: unusable error of type " + u.typ + ": " + u.why
}

// errorString returns err.Error(): the library calls it on errors from user
// code, whose Error method is user code (see printable).
func errorString(err error) string { return printable(err) }

// printable returns fmt's %v of v, which contains one panic in v's Error or
// String method; a value that panics again while fmt reports that (a panic
// with itself) is named by its type.
func printable(v any) (s string) {
	defer func() {
		if recover() != nil {
			s = fmt.Sprintf("%%!v(PANIC=%T)", v)
		}
	}()
	return fmt.Sprint(v)
}
