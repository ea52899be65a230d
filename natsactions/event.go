package natsactions

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/go-actions/actions"
)

// Event is one completed invocation, as a [Publisher] publishes it and a
// [Subscriber] hands it to its handler. On the wire it is a JSON object
// (the field names below); the payload and result are the codec's bytes,
// base64 in the JSON.
type Event struct {
	// ID is unique across replicas and restarts: the publisher's own
	// random ID, a dot, and the invocation's ID in its registry. It is the
	// message ID, so the stream stores an event once however often it is
	// published (within the stream's duplicate window, 2 minutes by
	// default), and what a handler de-duplicates by, since delivery is at
	// least once.
	ID string `json:"id"`
	// Source is the publisher's [WithSource] name, empty by default.
	Source string `json:"source,omitempty"`
	// Action is the action's name.
	Action string `json:"action"`
	// Invocation and Parent are the IDs of the invocation and of the one
	// it was nested in (0 for none) in the publishing registry (see
	// [actions.Invocation]).
	Invocation uint64 `json:"invocation"`
	Parent     uint64 `json:"parent,omitempty"`
	// Status is [actions.Status] as a word: "ok", "aborted", "failed" or
	// "cancelled". Rejected invocations, which ran nothing, are not
	// published.
	Status string `json:"status"`
	// Shared is true when the invocation shared the outcome of another
	// (see [actions.SharePending]).
	Shared bool `json:"shared,omitempty"`
	// Payload and Result are the payload as the caller passed it and the
	// result, encoded by the publisher's codec; nil when they were nil or
	// could not be encoded (CodecError says why).
	Payload []byte `json:"payload,omitempty"`
	Result  []byte `json:"result,omitempty"`
	// Error is the invocation's error message, empty when it succeeded.
	// AfterError is that of its after-listeners' failures, which did not
	// change the outcome.
	Error      string `json:"error,omitempty"`
	AfterError string `json:"after_error,omitempty"`
	// CodecError says why the payload or result is missing.
	CodecError string `json:"codec_error,omitempty"`
	// Start is when the invocation began; Duration how long it took.
	Start    time.Time     `json:"start"`
	Duration time.Duration `json:"duration"`

	codec Codec // the subscriber's, for the Decode methods
}

// DecodePayload decodes the payload into the value v points to, with the
// subscriber's codec. An event without a payload leaves v as it is. An error
// matches [ErrMalformed]: a handler that returns it has its event given up
// at once rather than delivered again.
func (e *Event) DecodePayload(v any) error { return e.decode("payload", e.Payload, v) }

// DecodeResult is [Event.DecodePayload] for the result.
func (e *Event) DecodeResult(v any) error { return e.decode("result", e.Result, v) }

func (e *Event) decode(what string, data []byte, v any) error {
	if data == nil {
		return nil
	}
	c := e.codec
	if c == nil {
		c = JSON
	}
	if err := c.Unmarshal(data, v); err != nil {
		return malformed(what+" of event "+e.ID, err)
	}
	return nil
}

// published reports whether an invocation that ended with status s is
// published: every one that ran something.
func published(s actions.Status) bool { return s != actions.StatusRejected }

// statuses are the words an event's Status may hold.
var statuses = []string{actions.StatusOK.String(), actions.StatusAborted.String(), actions.StatusFailed.String(), actions.StatusCancelled.String()}

// newEvent builds the event of an invocation, encoding its payload and
// result with c.
func newEvent(id, source string, c Codec, inv actions.Invocation, out actions.Outcome) *Event {
	ev := &Event{
		ID: id, Source: source, Action: inv.Action, Invocation: inv.ID, Parent: inv.ParentID,
		Status: out.Status().String(), Shared: out.Shared, Start: inv.Start, Duration: out.Duration,
	}
	if out.Err != nil {
		ev.Error = out.Err.Error()
	}
	if out.AfterErr != nil {
		ev.AfterError = out.AfterErr.Error()
	}
	var codecErrs []string
	ev.Payload, codecErrs = encode(c, "payload", inv.Payload, codecErrs)
	ev.Result, codecErrs = encode(c, "result", out.Result, codecErrs)
	for i, s := range codecErrs {
		if i > 0 {
			ev.CodecError += "; "
		}
		ev.CodecError += s
	}
	return ev
}

// encode encodes v, appending to errs what went wrong. A nil v is no bytes.
func encode(c Codec, what string, v any, errs []string) ([]byte, []string) {
	if v == nil {
		return nil, errs
	}
	data, err := c.Marshal(v)
	if err != nil {
		return nil, append(errs, what+": "+err.Error())
	}
	return data, errs
}

// decodeEvent reads an event from a message's data.
func decodeEvent(data []byte, c Codec) (*Event, error) {
	ev := &Event{codec: c}
	if err := json.Unmarshal(data, ev); err != nil {
		return nil, malformed("event", err)
	}
	switch {
	case ev.ID == "":
		return nil, malformed("event: no id", nil)
	case ev.Action == "":
		return nil, malformed("event: no action", nil)
	case !slices.Contains(statuses, ev.Status):
		return nil, malformed(fmt.Sprintf("event: status %q", ev.Status), nil)
	}
	return ev, nil
}
