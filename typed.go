package actions

import (
	"context"
	"reflect"
)

// Action is a typed handle on the action of its name: P is its payload's type
// and R its result's. It is a small value, free to copy and compare, and holds
// no registration of its own: typed and untyped code (and several handles)
// on the same registry and name see the same action, listeners and
// replacements. The zero value is not usable; make one with [Typed].
//
// Payloads reach typed code as P. A payload of another type arriving through
// the untyped API fails the invocation with [ErrPayloadType] (a nil interface
// is accepted as the zero value of a pointer, map, slice, func, channel or
// interface P); it never panics.
//
// A handle's types must fit the action's when the action was registered
// through a handle: the same types, or interfaces they implement. A
// mismatch is a programmer error, reported where it is made: Before, After
// or Replace on a typed action of other types panics, naming both types, and
// so does Register over listeners or replacements already added through a
// handle of other types (plugins load in any order); Call and Invoke on a
// handle whose R cannot hold the action's results fail with ErrPayloadType
// ("wrong result type") before any stage runs, never after the body's side
// effects.
//
// Cost: a handle's Call costs what [Registry.Call] does. A handle of the
// action's own types needs no type check at admission, and its typed
// listeners of P are called with the payload as a P; other listeners, and
// the typed listeners of an invocation through Invoke, seen by an observer
// or bounded by a [Bulkhead], or of an action with [Concurrent] phases, go
// through an adapter that checks the payload's type (one more call per
// listener).
type Action[P, R any] struct {
	reg  *Registry
	name string
	ent  *entry       // name's entry in reg, kept so that invoking skips the lookup by name
	sig  reflect.Type // func(P) R: an action registered through a handle of these types needs no type checks
	via  *Plugin      // set by In: registrations go to the plugin
}

// Typed returns a typed handle on the action name of r (the default registry
// when r is nil). It registers nothing. An empty name panics.
func Typed[P, R any](r *Registry, name string) Action[P, R] {
	if name == "" {
		setupPanic("Typed: empty action name")
	}
	if r == nil {
		r = Default()
	}
	return Action[P, R]{reg: r, name: name, ent: r.entry(name), sig: reflect.TypeFor[func(P) R]()}
}

// In returns a handle on the same action whose registrations (Register,
// Before, After, Replace, Block, Deduplicate) are made through the plugin p
// of the same registry, as p's own methods make them: they take effect when
// p is installed and are removed with it, and the functions they return
// remove nothing and report false (see "Plugins" in the package
// documentation). Invoking through it is invoking the action. A plugin of
// another registry panics.
func (a Action[P, R]) In(p *Plugin) Action[P, R] {
	if p == nil || p.reg != a.reg {
		setupPanic("In(%q): a plugin of another registry", a.name)
	}
	a.via = p
	return a
}

// to returns where the handle's registrations go.
func (a Action[P, R]) to() registrar {
	if a.via != nil {
		return a.via
	}
	return a.reg
}

// Name returns the action's name.
func (a Action[P, R]) Name() string { return a.name }

// Registry returns the registry the handle works on.
func (a Action[P, R]) Registry() *Registry { return a.reg }

// Register registers body as the action, as [Registry.RegisterAction] does,
// and makes the action check that every payload has type P before any stage
// runs.
func (a Action[P, R]) Register(body func(ctx context.Context, payload P) (R, error), opts ...ActionOption) (unregister func() bool, err error) {
	if body == nil {
		setupPanic("Register(%q): nil body", a.name)
	}
	check := func(payload any) error {
		_, err := as[P](payload, false)
		return err
	}
	opts = append(opts[:len(opts):len(opts)], func(x *action) {
		x.check, x.sig = check, a.sig
	})
	return a.to().register(a.name, untypedBody(body), opts, callerSite(0))
}

// Invoke starts an invocation and returns its future, as
// [Registry.InvokeAction] does. A result of another type than R (from an
// untyped body or replacement) fails with [ErrPayloadType].
func (a Action[P, R]) Invoke(ctx context.Context, payload P) *Future[R] {
	if ctx == nil {
		setupPanic("InvokeAction(%q): nil context", a.name)
	}
	return &Future[R]{o: a.reg.spawn(ctx, a.name, a.ent, payload, a.sig)}
}

// Call invokes the action and waits for it, as [Registry.Call] does.
func (a Action[P, R]) Call(ctx context.Context, payload P) (R, error) {
	if ctx == nil {
		setupPanic("Call(%q): nil context", a.name)
	}
	v, err := invokeAs[P](a.reg, ctx, a.name, a.ent, payload, nil, a.sig)
	if r, ok := v.(R); ok && err == nil { // here rather than in typedResult, which is not inlined: a call less
		return r, nil
	}
	if err != nil {
		var zero R
		return zero, err
	}
	return typedResult[R](a.name, v)
}

// Before adds a before-listener, as [Registry.AddListener] does with
// "before"+name.
func (a Action[P, R]) Before(fn func(ctx context.Context, payload P) error, opts ...ListenerOption) (remove func() bool) {
	return a.to().addListener("Before", "before"+a.name, typedListener(fn), fn, opts, callerSite(0))
}

// After adds an after-listener, as [Registry.AddListener] does with
// "after"+name.
func (a Action[P, R]) After(fn func(ctx context.Context, payload P) error, opts ...ListenerOption) (remove func() bool) {
	return a.to().addListener("After", "after"+a.name, typedListener(fn), fn, opts, callerSite(0))
}

// Replace pushes a replacement, as [Registry.ReplaceAction] does. original
// runs the layer below with the payload it is given.
func (a Action[P, R]) Replace(fn func(ctx context.Context, payload P, original func(context.Context, P) (R, error)) (R, error)) (remove func() bool) {
	if fn == nil {
		setupPanic("Replace(%q): nil replacement", a.name)
	}
	name := a.name
	layer := func(ctx context.Context, payload any, original Body) (any, error) {
		p, err := as[P](payload, false)
		if err != nil {
			return nil, err
		}
		return fn(ctx, p, func(ctx context.Context, p P) (R, error) {
			v, err := original(ctx, p)
			if err != nil {
				var zero R
				return zero, err
			}
			return typedResult[R](name, v)
		})
	}
	return a.to().replace("Replace", name, &replacement{fn: layer, ptype: reflect.TypeFor[P](), rtype: reflect.TypeFor[R](), site: callerSite(0)})
}

// Block blocks the invocations whose payload match reports true for (all of
// them when match is nil), as [Registry.BlockAction] does. A payload of
// another type than P does not match.
func (a Action[P, R]) Block(match func(payload P) bool, opts ...BlockOption) (unblock func() bool) {
	return a.to().block(a.name, newBlock(typedMatch(match), opts, callerSite(0)))
}

func typedMatch[P any](match func(payload P) bool) func(payload any) bool {
	if match == nil {
		return nil
	}
	return func(payload any) bool {
		p, err := as[P](payload, false)
		return err == nil && match(p)
	}
}

// InFlight returns the number of invocations in flight, as
// [Registry.InFlight] does.
func (a Action[P, R]) InFlight() int { return a.reg.InFlight(a.name) }

// UpdatePayloadOf is [UpdatePayload] for a typed action: fn receives and
// returns a P.
func UpdatePayloadOf[P any](fn func(ctx context.Context, payload P) (P, error)) ActionOption {
	if fn == nil {
		setupPanic("UpdatePayloadOf: nil function")
	}
	return UpdatePayload(func(ctx context.Context, payload any) (any, error) {
		p, err := as[P](payload, false)
		if err != nil {
			return nil, err
		}
		return fn(ctx, p)
	})
}

// DeduplicateBy is [Deduplicate] for a typed action: key receives a P. A
// payload of another type never reaches it: the invocation fails with
// [ErrPayloadType].
func DeduplicateBy[P any](key func(payload P) string, mode DedupMode) ActionOption {
	if key == nil {
		setupPanic("DeduplicateBy: nil key function")
	}
	return dedupeBy(typedKey(key), mode)
}

func typedKey[P any](key func(payload P) string) func(payload any) (string, error) {
	return func(payload any) (string, error) {
		p, err := as[P](payload, false)
		if err != nil {
			return "", err
		}
		return key(p), nil
	}
}

// Deduplicate attaches de-duplication by key to the action at run time, as
// [Registry.DeduplicateAction] does; key receives a P, and a payload of
// another type fails the invocation with [ErrPayloadType]. A nil key panics.
func (a Action[P, R]) Deduplicate(key func(payload P) string, mode DedupMode) (remove func() bool) {
	if key == nil {
		setupPanic("Deduplicate(%q): nil key function", a.name)
	}
	return a.to().attachRule(a.name, &dedupeRule{key: typedKey(key), share: mode == SharePending})
}

func untypedBody[P, R any](body func(context.Context, P) (R, error)) Body {
	return func(ctx context.Context, payload any) (any, error) {
		p, ok := payload.(P) // here rather than in as, which is not inlined: a call less per stage
		if !ok {
			var err error
			if p, err = as[P](payload, false); err != nil {
				return nil, err
			}
		}
		return body(ctx, p)
	}
}

func typedListener[P any](fn func(context.Context, P) error) Listener {
	if fn == nil {
		return nil // AddListener reports it
	}
	return func(ctx context.Context, payload any) error {
		p, ok := payload.(P) // see untypedBody
		if !ok {
			var err error
			if p, err = as[P](payload, false); err != nil {
				return err
			}
		}
		return fn(ctx, p)
	}
}
