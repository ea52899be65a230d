package actions

import (
	"context"
	"reflect"
)

// PayloadUpdate rewrites the payload of an invocation once, before any
// listener sees it: its result replaces the payload for every later stage. An
// error fails the invocation and nothing else runs.
type PayloadUpdate func(ctx context.Context, payload any) (any, error)

// UpdatePayload registers the action's payload update (Flex's third argument
// to registerAction). Blocks and de-duplication keys still see the payload as
// the caller passed it. A nil fn panics.
func UpdatePayload(fn PayloadUpdate) ActionOption {
	if fn == nil {
		setupPanic("UpdatePayload: nil function")
	}
	return func(a *action) { a.update = fn }
}

// as converts an untyped payload or result to T. A nil interface converts to
// T's zero value where that is nil (a pointer, map, slice, func, channel or
// interface type); any other value must have type T.
func as[T any](v any, result bool) (T, error) {
	if t, ok := v.(T); ok {
		return t, nil
	}
	var zero T
	want := reflect.TypeFor[T]()
	if v == nil && nilable(want) {
		return zero, nil
	}
	return zero, &PayloadTypeError{Want: want, Got: reflect.TypeOf(v), Result: result}
}

func nilable(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan, reflect.UnsafePointer:
		return true
	}
	return false
}

// update is step 5: the action's payload update, whose result is the payload
// of every later stage.
func (f *frame) update(fn PayloadUpdate, payload any) (any, error) {
	p, err := f.callUpdate(fn, payload)
	if err != nil {
		return nil, stageError(f.ctx, f.name, StageUpdate, "", err)
	}
	return p, nil
}

func (f *frame) callUpdate(fn PayloadUpdate, payload any) (p any, err error) {
	f.enter(StageUpdate)
	var g guard
	defer g.recover(&err)
	p, err = fn(f.ctx, payload)
	g.returned = true
	return p, err
}
