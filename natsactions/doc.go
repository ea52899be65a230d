// Package natsactions takes a registry of actions beyond one process, over
// NATS: actions served to the cluster and invoked remotely with local
// listeners around them, durable events when actions complete, and
// exclusivity and blocks that hold on every replica.
//
// # Codecs
//
// Payloads and results cross the wire through a [Codec], [JSON] unless an
// option says otherwise.
//
// # Events
//
// A [Publisher] is an [actions.Observer]: given to a registry with
// [actions.WithObserver], it publishes an [Event] for every invocation that
// ran (ok, aborted, failed or cancelled; rejected ones ran nothing) to a
// JetStream stream, "ACTIONS_EVENTS" on subjects "actions.events.<action>"
// by default ([WithStream], [WithActions]). An event carries the action,
// the invocation's ID and its parent's, the status, the payload and the
// result through the [Codec], the error's text and the duration. Its ID,
// the publisher's random ID and the invocation's, is the message ID, so a
// publish retried is stored once.
//
// Publishing never blocks an invocation. InvocationEnd encodes the event
// and puts it in a bounded queue (1024 by default, [WithQueueSize]); one
// goroutine of the publisher's publishes the queue in order, waiting for
// each acknowledgement, with retries ([WithPublishRetry]). An event that
// finds the queue full or the publisher closed, or that every attempt
// failed to publish, goes to the error handler ([WithErrorHandler]) as a
// [*PublishError] holding it, so nothing is lost without a word; a payload
// or result the codec cannot encode is left out of the event, which is
// published, and reported the same way. [Publisher.Close] publishes what
// is queued; close the registry first.
//
// [Subscribe] runs a [Handler] for each event of a durable consumer, on
// any replica or service: at least once, acknowledged when the handler
// returns nil. A handler that fails has its event delivered again after a
// back-off ([WithBackOff], 1 s doubling by default), told to the server
// with a delayed negative acknowledgement; after the last delivery
// ([WithMaxDeliver], 5) or an error matching [ErrMalformed], the event is
// terminated and given to the dead-letter function ([WithDeadLetter]). A
// subscriber that was stopped resumes where it stopped. Replicas of one
// service subscribe with one durable name and share the events; services
// with distinct names each receive all of them. A handler de-duplicates by
// [Event.ID] where a second delivery matters. [Invoke] makes a handler of
// a local action. A message of the stream that is not an event is reported
// as a [*MessageError] and terminated; the subscriber goes on.
//
// # Exclusivity
//
// [Exclusive] is the cluster form of [actions.Deduplicate] with
// [actions.RejectPending]: [Exclusive.Replace] pushes a replacement that
// claims the invocation's key in a key-value bucket, with a create that
// succeeds only if the key is absent, runs the layers below, and releases
// the claim by deleting the key at the revision it holds. While one
// replica holds a key, the others' invocations with it fail with a
// [*ClaimedError]: errors.Is(err, [actions.ErrPending]) holds, and, the
// claim being made in the body stage, [actions.ErrorOf] reports Kind
// [actions.ErrFailed] and Stage [actions.StageBody], and [actions.StatusOf]
// "failed".
//
// A claim has a TTL ([WithTTL], 10 s, whole seconds), so that a replica
// that dies holding a key blocks it for at most that long. A claim renews
// itself every third of the TTL while its body runs, by republishing its
// value with the revision it holds as the expected last one and a fresh
// TTL. If a renewal finds the claim taken, or none succeeds for a whole
// TTL (the replica lost the servers), the body's context is cancelled with
// [ErrClaimLost]: exclusivity then holds only for bodies that honour their
// context. Measured on a single server with a TTL of 1 s, a dead replica's
// claim was taken again 1.0 s after it died. The claim is taken after the
// before-listeners and released before the after-listeners; replacements
// pushed after Replace run outside it.
//
// # Cluster-wide blocks
//
// [Blocks] places a block on every replica from any of them:
// [Blocks.Block] blocks a whole action and [Blocks.BlockKey] the
// invocations whose payload's key ([WithBlockKey], computed alike on every
// replica) is the one given; [Blocks.Unblock] and [Blocks.UnblockKey]
// remove them. Each is an entry of a key-value bucket, keyed by the
// action's name and the blocked key, whose value names them in JSON. Every
// replica's Blocks watches the bucket and applies each entry to its
// registry with [actions.Registry.BlockAction], and removes the block when
// the entry is deleted; an action's keyed blocks are one local block that
// computes the payload's key once per invocation. [NewBlocks] returns once
// the blocks already set are applied, so a replica that starts later holds
// them from the start. The calls return once the change holds on the
// replica that made it. An entry that is not a block is reported as a
// [*BlockEntryError]; the watch goes on. Closing a Blocks removes the
// blocks it placed locally.
//
// Propagation, measured from the call of Block or Unblock on one replica
// until another replica's registry holds the change, over 100 changes on a
// cluster of three servers with the bucket replicated on all three and
// the two replicas on different servers (2 cores): median 0.24–0.44 ms,
// worst 4.5–5.9 ms over three runs; under the race detector median 2.0–2.6
// ms, worst 8.5–20 ms (go test -run BlockPropagation -v).
package natsactions
