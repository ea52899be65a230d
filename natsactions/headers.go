package natsactions

import (
	"context"
	"maps"

	"github.com/nats-io/nats.go"
)

type headerKey struct{}

// WithHeader returns a copy of ctx with which every remote invocation
// sends the header key: value, for the server to read with
// [IncomingFrom]: a W3C "traceparent" and "tracestate", a tenant, a
// correlation ID. Setting a key again replaces its value. The module's own
// headers ([HeaderTimeout], [HeaderCallerID], [HeaderCallerAction]) are
// set after these and win. Cost: a copy of the headers set so far.
func WithHeader(ctx context.Context, key, value string) context.Context {
	old, _ := ctx.Value(headerKey{}).(nats.Header)
	h := make(nats.Header, len(old)+1)
	maps.Copy(h, old)
	h[key] = []string{value}
	return context.WithValue(ctx, headerKey{}, h)
}

// outgoing returns the headers set with WithHeader on ctx, nil when none.
func outgoing(ctx context.Context) nats.Header {
	h, _ := ctx.Value(headerKey{}).(nats.Header)
	return h
}

type incomingKey struct{}

// Incoming describes the request a served invocation came from. A served
// action's stages find it in their context with [IncomingFrom].
type Incoming struct {
	// Action is the action requested.
	Action string
	// CallerID and CallerAction are the caller's invocation's ID and action
	// ([HeaderCallerID], [HeaderCallerAction]); 0 and "" when unknown.
	CallerID     uint64
	CallerAction string
	// Header is every header the request carried: the module's own and
	// those the caller set with [WithHeader]. It is shared: do not modify
	// it.
	Header nats.Header
}

// IncomingFrom returns the request that the invocation whose stage received
// ctx (or a context derived from it) was served for, and false when ctx
// comes from no served request.
func IncomingFrom(ctx context.Context) (Incoming, bool) {
	in, ok := ctx.Value(incomingKey{}).(*Incoming)
	if !ok {
		return Incoming{}, false
	}
	return *in, true
}
