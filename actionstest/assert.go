package actionstest

import (
	"slices"
	"strings"
	"testing"
)

// AssertSteps reports whether the steps recorded so far are want, in order;
// if not, it fails the test with Errorf and a message that shows both:
//
//	actionstest: steps: want before:validate, body, after:audit; got before:validate, body
func (r *Recorder) AssertSteps(t testing.TB, want ...string) bool {
	t.Helper()
	got := r.Steps()
	if slices.Equal(got, want) {
		return true
	}
	t.Errorf("actionstest: steps: want %s; got %s", list(want), list(got))
	return false
}

// list joins steps for a message.
func list(steps []string) string {
	if len(steps) == 0 {
		return "(none)"
	}
	return strings.Join(steps, ", ")
}

// AssertInvocations reports whether the invocations seen so far, in the
// order they began and described as [Invocation.String] does, are want;
// if not, it fails the test with Errorf and a message that lists both, one
// invocation a line:
//
//	actionstest: invocations differ
//	want:
//		CreateOrder ok
//		  ChargeCard aborted
//	got:
//		CreateOrder failed
//
// A line is indented two spaces per level of nesting: above, ChargeCard
// was invoked by a stage of CreateOrder.
func (r *Recorder) AssertInvocations(t testing.TB, want ...string) bool {
	t.Helper()
	invs := r.Invocations()
	got := make([]string, len(invs))
	for i, inv := range invs {
		got[i] = inv.String()
	}
	if slices.Equal(got, want) {
		return true
	}
	t.Errorf("actionstest: invocations differ\nwant:%s\ngot:%s", lines(want), lines(got))
	return false
}

// lines puts each of descs on a line of its own, after a tab.
func lines(descs []string) string {
	if len(descs) == 0 {
		return " (none)"
	}
	return "\n\t" + strings.Join(descs, "\n\t")
}
