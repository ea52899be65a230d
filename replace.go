package actions

import (
	"context"
	"reflect"
)

// Replacement takes the place of an action's body. It receives the payload
// and original, the implementation it replaced: the replacement pushed before
// it, or the registered body at the bottom of the stack. Calling original runs
// only that implementation (no listeners, no de-duplication); a replacement
// may call it zero, one or several times, with any payload. What it returns
// is the body's result for the layer above, and the invocation's result for
// the outermost layer.
type Replacement func(ctx context.Context, payload any, original Body) (any, error)

// replacement is one layer of an action's replacement stack.
type replacement struct {
	fn           Replacement
	ptype, rtype reflect.Type // a typed replacement's payload and result types, nil for untyped
	site         site         // where it was pushed, "dir/file.go:line" (see ActionInfo.ReplacementSources)
	owner        *Plugin      // the plugin that installed it, if any
	gen          uint64       // a plugin's: the gen of the snapshot that installed it (see pinned); 0 otherwise
}

func (x *replacement) addedIn() uint64 { return x.gen }

// ReplaceAction pushes fn on the replacement stack of the action name: the
// most recent replacement runs first. The action need not be registered yet;
// the stack applies once it is, and survives its unregistration. It returns a
// function that removes exactly this layer, wherever it is in the stack,
// reporting whether it did; the other layers keep working. An invocation reads
// the stack when its body stage starts.
//
// An empty name or a nil fn panics: those are programmer errors.
func (r *Registry) ReplaceAction(name string, fn Replacement) (remove func() bool) {
	return r.replace("ReplaceAction", name, &replacement{fn: fn, site: callerSite(0)})
}

// replace pushes layer as method on behalf of the caller; layer.site is
// where the caller's call was made.
func (r *Registry) replace(method, name string, layer *replacement) (remove func() bool) {
	if name == "" {
		setupPanic("%s: empty action name", method)
	}
	if layer.fn == nil {
		setupPanic("%s(%q): nil replacement", method, name)
	}
	var bad string
	r.write(name, func(s *snapshot) bool {
		bad = s.push(layer)
		return bad == ""
	})
	if bad != "" {
		setupPanic("%s(%q): %s", method, name, bad)
	}
	return func() bool {
		return r.write(name, func(s *snapshot) bool {
			var ok bool
			s.replacements, ok = without(s.replacements, func(x *replacement) bool { return x == layer })
			return ok
		})
	}
}

// push puts layer on top of the snapshot's replacement stack, and returns
// what does not fit the action's types, "" if all does (see misfit).
func (s *snapshot) push(layer *replacement) (bad string) {
	s.replacements = appendCopy(s.replacements, layer)
	return misfit(s.act, s)
}

// runLayer runs layer i of stack, with the layers below it (and finally body)
// as its original. i < 0 runs body.
func runLayer(ctx context.Context, stack []*replacement, i int, body Body, payload any) (any, error) {
	if i < 0 {
		return body(ctx, payload)
	}
	original := func(ctx context.Context, payload any) (any, error) {
		return runLayer(ctx, stack, i-1, body, payload)
	}
	return stack[i].fn(ctx, payload, original)
}
