package actionsdebug

import (
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/go-actions/actions"
)

// Limits on the text a [Record] keeps, so that the recorder's memory is
// bounded whatever the errors and payloads are.
const (
	// MaxPayloadRunes is the length, in runes, past which a recorded
	// payload is truncated (see [ShowPayloads]).
	MaxPayloadRunes = 200
	// MaxMessageRunes is the length, in runes, past which a recorded error
	// message or abort reason is truncated.
	MaxMessageRunes = 1000
)

// Record is one invocation as a [Recorder] kept it, and as the page shows
// it. The JSON field names are those of the struct tags.
type Record struct {
	// ID and ParentID are the invocation's and its parent's (0 for a
	// top-level invocation), as [actions.Invocation] has them.
	ID       uint64 `json:"id"`
	ParentID uint64 `json:"parent_id,omitempty"`
	// Depth is 1 for a top-level invocation.
	Depth int `json:"depth"`
	// Start is when the invocation began.
	Start time.Time `json:"start"`
	// Duration is the time from begin to end, in nanoseconds in JSON.
	Duration time.Duration `json:"duration_ns"`
	// Status is the outcome's [actions.Status]: "ok", "aborted", "failed",
	// "rejected" or "cancelled".
	Status string `json:"status"`
	// Shared is true when the invocation shared another's outcome (see
	// [actions.SharePending]).
	Shared bool `json:"shared,omitempty"`
	// Stage and Listener say where the error arose, when the library's
	// error says so.
	Stage    string `json:"stage,omitempty"`
	Listener string `json:"listener,omitempty"`
	// Error is the error's message, "" when the invocation succeeded.
	Error string `json:"error,omitempty"`
	// Reason is an abort's reason: the message of what the aborting
	// listener passed to [actions.Abort]; "" for other outcomes and for an
	// abort without a reason.
	Reason string `json:"reason,omitempty"`
	// AfterError is the message of the after-listeners' failures, which
	// went to the error handler while the result stood.
	AfterError string `json:"after_error,omitempty"`
	// Payload is the payload as the caller passed it, formatted with %v and
	// truncated to [MaxPayloadRunes] runes; "" unless the recorder was made
	// with [ShowPayloads].
	Payload string `json:"payload,omitempty"`
}

// End returns when the invocation ended.
func (r Record) End() time.Time { return r.Start.Add(r.Duration) }

// newRecord describes an invocation that ended. It reads the error as
// [actions.ErrorAttrs] does: the library's own error without walking into
// what user code returned, and every message with fmt, panics contained. It
// runs user code (Error and String methods), so it is called with no lock
// held.
func newRecord(inv actions.Invocation, out actions.Outcome, payloads bool) Record {
	rec := Record{
		ID:       inv.ID,
		ParentID: inv.ParentID,
		Depth:    inv.Depth,
		Start:    inv.Start,
		Duration: out.Duration,
		Status:   out.Status().String(),
		Shared:   out.Shared,
	}
	if out.Err != nil {
		rec.Error = truncate(printable(out.Err), MaxMessageRunes)
		if e := actions.ErrorOf(out.Err); e != nil {
			if e.Stage != actions.StageNone {
				rec.Stage = e.Stage.String()
			}
			rec.Listener = e.Listener
			if e.Kind == actions.ErrAborted && e.Err != nil {
				rec.Reason = truncate(printable(e.Err), MaxMessageRunes)
			}
		}
	}
	if out.AfterErr != nil {
		rec.AfterError = truncate(printable(out.AfterErr), MaxMessageRunes)
	}
	if payloads {
		rec.Payload = truncate(printable(inv.Payload), MaxPayloadRunes)
	}
	return rec
}

// printable returns fmt's %v of v. fmt contains one panic in v's Error or
// String method; a value that panics again while fmt reports it is named by
// its type.
func printable(v any) (s string) {
	defer func() {
		if recover() != nil {
			s = fmt.Sprintf("%%!v(PANIC=%T)", v)
		}
	}()
	if err, ok := v.(error); ok && err == nil {
		return "<nil>"
	}
	return fmt.Sprint(v)
}

// truncate returns s cut to at most n runes, with "…" in place of what was
// cut.
func truncate(s string, n int) string {
	if len(s) <= n || utf8.RuneCountInString(s) <= n {
		return s
	}
	i, k := 0, 0
	for i = range s {
		if k == n {
			break
		}
		k++
	}
	return s[:i] + "…"
}
