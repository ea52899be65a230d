package actionstest

import (
	"strings"

	"github.com/go-actions/actions"
)

// Invocation is one invocation as a [Recorder] saw it: what the observer
// was told when it began, and, once Ended, how it ended.
type Invocation struct {
	actions.Invocation
	// Outcome is how the invocation ended; the zero Outcome until Ended.
	Outcome actions.Outcome
	// Ended reports whether the invocation has ended.
	Ended bool
}

// String describes the invocation in one line, indented two spaces per
// level of nesting below the top: its action and its status (see
// [actions.Status]), or "running" before it ended: "CreateOrder ok", say,
// and for an invocation nested in it "ChargeCard aborted" after two spaces.
// [Recorder.AssertInvocations] compares these lines.
func (inv Invocation) String() string {
	status := "running"
	if inv.Ended {
		status = inv.Outcome.Status().String()
	}
	return strings.Repeat("  ", max(inv.Depth-1, 0)) + inv.Action + " " + status
}
