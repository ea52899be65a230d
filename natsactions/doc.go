// Package natsactions takes a registry of actions beyond one process, over
// NATS: actions served to the cluster and invoked remotely with local
// listeners around them, durable events when actions complete, and
// exclusivity and blocks that hold on every replica.
//
// # Codecs
//
// Payloads and results cross the wire through a [Codec], [JSON] unless an
// option says otherwise.
package natsactions
