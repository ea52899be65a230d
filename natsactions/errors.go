package natsactions

import (
	"errors"
	"fmt"
	"strings"

	"github.com/go-actions/actions"
)

// Sentinel errors, matched with [errors.Is]; details are in the pointer
// types below, reached with [errors.As]. Those of a remote invocation are
// causes: its error is an [*actions.Error] (see "Errors" in the package
// documentation) that wraps them, so [errors.Is] finds both the core's
// kind and these.
var (
	// ErrNoResponders: no server serves the action's subject (none is
	// running, or none serves that action). It comes wrapped in an error of
	// kind [actions.ErrActionNotFound].
	ErrNoResponders = errors.New("natsactions: no responders")
	// ErrCodec: a payload or a result could not be encoded or decoded on
	// the wire of a remote invocation. Matched by [*CodecError].
	ErrCodec = errors.New("natsactions: codec failed")
	// ErrTooLarge: a request or a reply is larger than the NATS server's
	// maximum payload.
	ErrTooLarge = errors.New("natsactions: message too large")
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

// CodecError is a failure of the [Codec]. It matches [ErrCodec]. Op tells
// which step failed and so whether the action ran: "encode payload" and
// "decode payload" fail before any stage runs, "encode result" and "decode
// result" after the action completed on the server.
type CodecError struct {
	// Op is "encode payload", "decode payload", "encode result" or
	// "decode result".
	Op string
	// Err is the codec's error, or a [*actions.PanicError] when the codec
	// panicked. Across the wire only its message travels.
	Err error
}

// Error returns "natsactions: <op>: <codec's message>".
func (e *CodecError) Error() string { return "natsactions: " + e.Op + ": " + e.Err.Error() }

// Unwrap returns the codec's error.
func (e *CodecError) Unwrap() error { return e.Err }

// Is reports whether target is ErrCodec.
func (e *CodecError) Is(target error) bool { return target == ErrCodec }

const (
	opEncodePayload = "encode payload"
	opDecodePayload = "decode payload"
	opEncodeResult  = "encode result"
	opDecodeResult  = "decode result"
)

// RemoteError is the cause of an error that a server sent back: the cause
// of the server's [*actions.Error] (an abort's reason, a body's error, a
// panic), of which only the message and the sentinels it matched travel.
// The rebuilt [*actions.Error] wraps it, so its message reads as the
// server's with "natsactions: remote: " before the cause.
type RemoteError struct {
	// Message is the message of the server's cause, "" when it had none
	// (an abort without a reason).
	Message string
	// Instance is the ID of the micro service instance that ran the
	// invocation, as discovery lists it ("" from a server that did not say).
	Instance string

	is []error // the well-known sentinels the server's cause matched
}

// Error returns "natsactions: remote: <message>" (the message without a
// prefix "natsactions: " of its own), or "natsactions: remote" when the
// cause had none.
func (e *RemoteError) Error() string {
	if e.Message == "" {
		return "natsactions: remote"
	}
	return "natsactions: remote: " + strings.TrimPrefix(e.Message, "natsactions: ")
}

// Unwrap returns the well-known sentinels the server's cause matched
// (context.DeadlineExceeded, context.Canceled, the core's and this module's
// sentinels), so that [errors.Is] answers for them as it would have on the
// server.
func (e *RemoteError) Unwrap() []error { return e.is }

// RemoteErrorOf returns the [*actions.Error] a server sent back, as rebuilt
// here, found in err's chain: err itself when the direct call ([Client.Call])
// returned it, or the cause of the local invocation's error when a remote
// body ([Client.Register]) returned it. It returns nil when err carries no
// error from a server (a timeout, no responders, a local listener's abort).
func RemoteErrorOf(err error) *actions.Error {
	for err != nil {
		var e *actions.Error
		if !errors.As(err, &e) {
			return nil
		}
		if _, ok := e.Err.(*RemoteError); ok {
			return e
		}
		if e.Err == nil {
			return nil
		}
		err = e.Err
	}
	return nil
}

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

// ClusterBlockError is the reason ([actions.Reason]) of every block a
// [Blocks] places on its registry: the [*actions.Error] of an invocation
// held by a block from the bucket wraps it, so that [errors.As] tells a
// block placed on every replica from one placed locally, and the message
// says where it came from ("actions: Ship: action blocked: natsactions:
// blocked on every replica through bucket "actions_blocks"").
type ClusterBlockError struct {
	// Bucket is the key-value bucket the block was read from.
	Bucket string
	// Keyed is true for the blocks placed with [Blocks.BlockKey], false
	// for those of a whole action ([Blocks.Block]).
	Keyed bool
}

// Error says the block holds on every replica, and through which bucket.
func (e *ClusterBlockError) Error() string {
	what := "blocked"
	if e.Keyed {
		what = "key blocked"
	}
	return fmt.Sprintf("natsactions: %s on every replica through bucket %q", what, e.Bucket)
}

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
