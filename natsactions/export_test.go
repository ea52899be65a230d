package natsactions

import "github.com/nats-io/nats.go/jetstream"

// WithApplyHook calls f after each entry a Blocks applied, from its watcher:
// the propagation test times blocks with it.
func WithApplyHook(f func(jetstream.KeyValueEntry)) Option {
	return Option{"WithApplyHook", forBlocks, func(o *options) { o.applyHook = f }}
}

// Token is token, for the tests that write to the bucket by hand.
var Token = token
