package actions

import (
	"context"
	"reflect"
)

// Body is the implementation of an action: it does the work on the payload
// and returns the invocation's result. ctx is the invocation's context: it
// carries the caller's values and cancellation, and invocations made with it
// are nested in this one.
type Body func(ctx context.Context, payload any) (any, error)

// action is one registration of a name.
type action struct {
	body       Body
	update     PayloadUpdate
	dedupe     *dedupeRule             // from the Deduplicate option, nil when off
	concurrent bool                    // listeners of a phase run concurrently
	check      func(payload any) error // payload type check of a typed action, nil for untyped
	sig        reflect.Type            // a typed action's func(P) R, its payload and result types; nil for untyped (see typesFit)
	site       site                    // where it was registered, "dir/file.go:line" (see ActionInfo.Source)
	owner      *Plugin                 // the plugin that registered it, if any
	bulk       *bulkhead               // bounded execution, nil when unbounded (see Bulkhead)
}

// ActionOption configures an action at [Registry.RegisterAction].
type ActionOption func(*action)

// Concurrent sets whether the listeners of each phase of this action run
// concurrently (on) or one after another (off), overriding the registry's
// default (see [WithConcurrentPhases]).
//
// In a concurrent phase every listener of the phase's snapshot starts at
// once, each in its own goroutine but the last, which runs in the invoking
// goroutine, and the phase ends when all have returned. A before-listener that
// aborts or fails cancels the context of the others, with the abort (or
// failure) as [context.Cause]; they are still awaited.
func Concurrent(on bool) ActionOption {
	return func(a *action) { a.concurrent = on }
}

// RegisterAction registers body under name, configured by opts. It returns a
// function that unregisters exactly this registration, reporting whether it
// did (false when it was already unregistered).
//
// A name that is already registered fails with [ErrAlreadyRegistered] and
// changes nothing. Listeners, replacements and blocks are kept by name: they
// may be added before the action is registered and stay when it is
// unregistered. Invocations already past their lookup keep the body they
// found. An empty name or a nil body panics: those are programmer errors.
func (r *Registry) RegisterAction(name string, body Body, opts ...ActionOption) (unregister func() bool, err error) {
	return r.register(name, body, opts, callerSite(0))
}

// register registers body on behalf of the caller, whose call was made at
// site.
func (r *Registry) register(name string, body Body, opts []ActionOption, at site) (unregister func() bool, err error) {
	if name == "" {
		setupPanic("RegisterAction: empty action name")
	}
	if body == nil {
		setupPanic("RegisterAction(%q): nil body", name)
	}
	a := r.newAction(body, opts, at)
	var bad string
	ok := r.write(name, func(s *snapshot) bool {
		if s.act != nil {
			return false
		}
		bad = s.registerAction(a)
		return bad == ""
	})
	if bad != "" {
		setupPanic("RegisterAction(%q): %s", name, bad)
	}
	if !ok {
		return nil, &Error{Action: name, Kind: ErrAlreadyRegistered}
	}
	return func() bool {
		return r.write(name, func(s *snapshot) bool {
			if s.act != a {
				return false
			}
			s.act = nil
			return true
		})
	}, nil
}

func (r *Registry) newAction(body Body, opts []ActionOption, at site) *action {
	a := &action{body: body, concurrent: r.cfg.concurrent}
	for _, o := range opts {
		o(a)
	}
	a.site = at
	return a
}

// registerAction makes a the snapshot's action, which has none, unless its
// types do not fit the listeners' and replacements' (see misfit): then it
// returns what does not fit.
func (s *snapshot) registerAction(a *action) (bad string) {
	if bad = misfit(a, s); bad == "" {
		s.act = a
	}
	return bad
}

// Registered reports whether an action of that name is registered.
func (r *Registry) Registered(name string) bool {
	e := r.lookup(name)
	return e != nil && e.snap.Load().act != nil
}

var defaultRegistry Registry

// Default returns the package's default registry, used by the package-level
// functions, like [net/http.DefaultServeMux]. Every feature works on a
// registry of one's own too; libraries should take a *Registry rather than use
// this one.
func Default() *Registry { return &defaultRegistry }

// RegisterAction registers an action on the default registry; see
// [Registry.RegisterAction].
func RegisterAction(name string, body Body, opts ...ActionOption) (unregister func() bool, err error) {
	return defaultRegistry.register(name, body, opts, callerSite(0))
}

// InvokeAction invokes an action on the default registry; see
// [Registry.InvokeAction].
func InvokeAction(ctx context.Context, name string, payload any) *Future[any] {
	return defaultRegistry.InvokeAction(ctx, name, payload)
}

// Call invokes an action on the default registry and waits for it; see
// [Registry.Call].
func Call(ctx context.Context, name string, payload any) (any, error) {
	return defaultRegistry.Call(ctx, name, payload)
}

// AddListener adds a listener on the default registry; see
// [Registry.AddListener].
func AddListener(event string, fn Listener, opts ...ListenerOption) (remove func() bool) {
	return defaultRegistry.addListener("AddListener", event, fn, nil, opts, callerSite(0))
}

// RemoveAllListeners removes every listener of an event on the default
// registry; see [Registry.RemoveAllListeners].
func RemoveAllListeners(event string) int {
	return defaultRegistry.RemoveAllListeners(event)
}

// ReplaceAction pushes a replacement on the default registry; see
// [Registry.ReplaceAction].
func ReplaceAction(name string, fn Replacement) (remove func() bool) {
	return defaultRegistry.replace("ReplaceAction", name, &replacement{fn: fn, site: callerSite(0)})
}

// BlockAction blocks matching invocations on the default registry; see
// [Registry.BlockAction].
func BlockAction(name string, match func(payload any) bool, opts ...BlockOption) (unblock func() bool) {
	return defaultRegistry.block(name, newBlock(match, opts, callerSite(0)))
}
