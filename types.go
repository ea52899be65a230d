package actions

import (
	"fmt"
	"reflect"
)

// Typed handles declare types: a typed action its payload's and result's
// ([Action.Register]), a typed listener its payload's, a typed replacement
// both. When a handle's types cannot fit the registered action's, that is a
// programmer error, reported where it is made: the setup call that brings
// the two together panics, naming both types, whichever comes first (plugins
// load in any order); a typed Call or Invoke whose result type cannot fit
// fails before any stage runs. An untyped registration declares no type and
// is checked value by value, as before.

// fits reports whether a value declared as have can be used as want: the
// same type, or an interface want that have implements. An interface have
// (Typed[any, ...]) fits anything: its values are checked one by one.
func fits(have, want reflect.Type) bool {
	if have == nil || want == nil || have == want || have.Kind() == reflect.Interface {
		return true
	}
	return want.Kind() == reflect.Interface && have.Implements(want)
}

// misfit describes what of s cannot fit its typed action a, or "".
func misfit(a *action, s *snapshot) string {
	if a == nil || a.sig == nil {
		return ""
	}
	ptype, rtype := a.sig.In(0), a.sig.Out(0)
	for _, list := range [][]*listener{s.before, s.after} {
		for _, l := range list {
			if p := l.ptype(); !fits(ptype, p) {
				return fmt.Sprintf("a listener%s takes payloads of type %v; the action's are %v", quoted(l.name), p, ptype)
			}
		}
	}
	for _, x := range s.replacements {
		if !fits(ptype, x.ptype) {
			return fmt.Sprintf("a replacement takes payloads of type %v; the action's are %v", x.ptype, ptype)
		}
		if !fits(rtype, x.rtype) {
			return fmt.Sprintf("a replacement returns results of type %v; the action's are %v", x.rtype, rtype)
		}
	}
	return ""
}

func quoted(name string) string {
	if name == "" {
		return ""
	}
	return fmt.Sprintf(" %q", name)
}

// resultMisfit is the error of a typed Call or Invoke whose result type R
// cannot take the typed action's results, before any stage runs.
func resultMisfit(name string, a *action, want reflect.Type) error {
	got := a.sig.Out(0)
	if fits(got, want) {
		return nil
	}
	return &Error{Action: name, Kind: ErrPayloadType, Err: &PayloadTypeError{Want: want, Got: got, Result: true}}
}
