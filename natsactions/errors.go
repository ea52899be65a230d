package natsactions

import (
	"errors"

	"github.com/go-actions/actions"
)

// Sentinel errors of this module. They are causes: the invocation's error
// is an [*actions.Error] (see "Errors" in the package documentation) that
// wraps them, so [errors.Is] finds both the core's kind and these.
var (
	// ErrNoResponders: no server serves the action's subject (none is
	// running, or none serves that action). It comes wrapped in an error of
	// kind [actions.ErrActionNotFound].
	ErrNoResponders = errors.New("natsactions: no responders")
	// ErrCodec: a payload or a result could not be encoded or decoded.
	// Matched by [*CodecError].
	ErrCodec = errors.New("natsactions: codec failed")
	// ErrTooLarge: a request or a reply is larger than the NATS server's
	// maximum payload.
	ErrTooLarge = errors.New("natsactions: message too large")
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
// server's with "remote: " before the cause.
type RemoteError struct {
	// Message is the message of the server's cause, "" when it had none
	// (an abort without a reason).
	Message string
	// Instance is the ID of the micro service instance that ran the
	// invocation, as discovery lists it ("" from a server that did not say).
	Instance string

	is []error // the well-known sentinels the server's cause matched
}

// Error returns "remote: <message>", or "remote" when the cause had none.
func (e *RemoteError) Error() string {
	if e.Message == "" {
		return "remote"
	}
	return "remote: " + e.Message
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
