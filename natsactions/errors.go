package natsactions

import (
	"errors"
	"fmt"
	"strings"

	"github.com/go-actions/actions"
)

// Sentinel errors, matched with [errors.Is]; details are in the pointer
// types below, reached with [errors.As].
var (
	// ErrMalformed: a message or entry read from the server, or a payload
	// or result in an event, could not be decoded. Retrying cannot help: a
	// subscriber terminates such a message at once.
	ErrMalformed = errors.New("natsactions: malformed")
	// ErrQueueFull: a publisher's queue was full when an invocation ended;
	// its event was not published (see [WithQueueSize]).
	ErrQueueFull = errors.New("natsactions: event queue full")
	// ErrClosed: the publisher or the blocks were closed.
	ErrClosed = errors.New("natsactions: closed")
	// ErrClaimLost: a claim expired or was taken while its body ran (the
	// replica could not renew it in time): another replica may be running
	// a body with the same key. The body's context is cancelled with it.
	ErrClaimLost = errors.New("natsactions: claim lost")
)

// PublishError is an event that was not published: the queue was full, the
// publisher was closed, or every attempt failed. It reaches the error
// handler, with the event, so that nothing is lost without a word.
type PublishError struct {
	Event *Event
	Err   error
}

// Error names the event and why it was not published.
func (e *PublishError) Error() string {
	return fmt.Sprintf("natsactions: event %s of %s not published: %v", e.Event.ID, e.Event.Action, inner(e.Err))
}

// Unwrap returns the cause.
func (e *PublishError) Unwrap() error { return e.Err }

// MessageError is a message of the events stream that is not an event. The
// subscriber terminated it and went on.
type MessageError struct {
	Subject  string
	Sequence uint64 // in the stream
	Err      error  // matches ErrMalformed
}

// Error names the message and what is wrong with it.
func (e *MessageError) Error() string {
	return fmt.Sprintf("natsactions: message %d on %s: %v", e.Sequence, e.Subject, inner(e.Err))
}

// Unwrap returns the cause.
func (e *MessageError) Unwrap() error { return e.Err }

// DeadLetterError is an event given up: its handler failed on its last
// delivery, or failed with an error matching [ErrMalformed]. It is what the
// error handler receives when no [WithDeadLetter] function is set.
type DeadLetterError struct {
	Event      *Event
	Deliveries int
	Err        error // the handler's last error
}

// Error names the event, its deliveries and the handler's last error.
func (e *DeadLetterError) Error() string {
	return fmt.Sprintf("natsactions: event %s of %s given up after %d deliveries: %v", e.Event.ID, e.Event.Action, e.Deliveries, inner(e.Err))
}

// Unwrap returns the handler's last error.
func (e *DeadLetterError) Unwrap() error { return e.Err }

// ClaimedError is the error of an invocation whose key another invocation,
// on this replica or another, holds (see [Exclusive]). It matches
// [actions.ErrPending].
type ClaimedError struct {
	Action, Key string
}

// Error names the action and the key.
func (e *ClaimedError) Error() string {
	return fmt.Sprintf("natsactions: %s: key %q claimed by another invocation", e.Action, e.Key)
}

// Is reports whether target is [actions.ErrPending].
func (e *ClaimedError) Is(target error) bool { return target == actions.ErrPending }

// BlockEntryError is an entry of the blocks bucket that is not a block. The
// replica ignored it and went on watching.
type BlockEntryError struct {
	Key      string
	Revision uint64
	Err      error // matches ErrMalformed
}

// Error names the entry and what is wrong with it.
func (e *BlockEntryError) Error() string {
	return fmt.Sprintf("natsactions: block entry %q (revision %d): %v", e.Key, e.Revision, inner(e.Err))
}

// Unwrap returns the cause.
func (e *BlockEntryError) Unwrap() error { return e.Err }

// inner is err's message without the package's prefix, for a message that
// has it already.
func inner(err error) string {
	if err == nil {
		return "<nil>"
	}
	return strings.TrimPrefix(err.Error(), "natsactions: ")
}

// malformed wraps err as [ErrMalformed], saying what was read.
func malformed(what string, err error) error {
	if err == nil {
		return fmt.Errorf("%w %s", ErrMalformed, what)
	}
	return fmt.Errorf("%w %s: %w", ErrMalformed, what, err)
}
