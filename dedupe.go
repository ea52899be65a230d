package actions

import "errors"

// flight is an invocation of a de-duplicating action, as others with the
// same key see it while it is in flight.
type flight struct {
	done chan struct{}
	// val and err are written once before done is closed, and read only after.
	val any
	err error
}

// dedupe applies the action's de-duplication (SPEC 2 step 4, SPEC 9). It
// returns the flight to share, or nil when this invocation goes on, as the
// leader of a new flight.
func (f *frame) dedupe(act *action, payload any) (*flight, error) {
	key, err := callKey(act.key, payload)
	if err != nil {
		var pt *PayloadTypeError
		if errors.As(err, &pt) {
			return nil, &Error{Action: f.name, Kind: ErrPayloadType, Stage: StageKey, Err: err}
		}
		return nil, fail(f.name, StageKey, "", err)
	}
	// An ancestor with the same key would wait for its descendant: reject.
	for p := f.parent; p != nil; p = p.parent {
		if p.ent == f.ent && p.keyed && p.key == key {
			return nil, &Error{Action: f.name, Kind: ErrPending}
		}
	}
	e := f.ent
	e.dmu.Lock()
	defer e.dmu.Unlock()
	if fl := e.pending[key]; fl != nil {
		if act.share {
			return fl, nil
		}
		return nil, &Error{Action: f.name, Kind: ErrPending}
	}
	if e.pending == nil {
		e.pending = make(map[string]*flight)
	}
	f.lead = &flight{done: make(chan struct{})}
	f.key, f.keyed = key, true
	e.pending[key] = f.lead
	return nil, nil
}

// finishFlight frees the key and hands the outcome to the sharers.
func (f *frame) finishFlight(val any, err error) {
	e := f.ent
	e.dmu.Lock()
	delete(e.pending, f.key)
	e.dmu.Unlock()
	f.lead.val, f.lead.err = val, err
	close(f.lead.done)
}

func callKey(key func(any) (string, error), payload any) (k string, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = newPanicError(v)
		}
	}()
	return key(payload)
}
