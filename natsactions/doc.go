// Package natsactions takes a registry of actions beyond one process, over
// NATS: actions served to the cluster and invoked remotely with local
// listeners around them, durable events when actions complete, and
// exclusivity and blocks that hold on every replica.
//
//	srv, err := natsactions.NewServer(nc, reg)   // a micro service named "actions"
//	err = srv.Serve("AcceptTask")                // endpoint "actions.AcceptTask", queue group "q"
//	defer srv.Close(ctx)
//
//	client := natsactions.NewClient(nc)
//	res, err := client.Call(ctx, "AcceptTask", task)     // direct
//	client.Register(local, "AcceptTask")                 // or as a local action's body
//	res, err = local.Call(ctx, "AcceptTask", task)       // local listeners run around the request
//
// Every constructor takes [Option] values; each option says which
// constructors it applies to, and given to another it panics.
//
// # Serving
//
// [NewServer] adds a NATS micro service on a connection; [Server.Serve]
// (untyped) and [ServeTyped] (a typed handle) add one endpoint per action,
// on the subject "<prefix>.<action>" ([WithSubjectPrefix], "actions" by
// default), in a queue group ([WithQueueGroup], micro's "q" by default).
// Replicas that serve the same actions with the same options share the
// requests: each request goes to one of them, which runs the whole local
// lifecycle with [actions.Registry.Call] (or the handle's Call): blocks,
// de-duplication, payload update, listeners, replacements, the observer.
// The service shows in micro's discovery ($SRV.PING, $SRV.INFO, $SRV.STATS):
// each endpoint's metadata names its action (and, served typed, the payload
// and result types), and its stats' data is the action's [ActionStats].
//
// A micro handler runs one request at a time per endpoint and connection.
// A Server adds concurrency: micro's goroutine only takes a slot (at most
// [WithConcurrency] requests run at once across the server's endpoints, 64
// by default) and hands the request to a goroutine of its own, so that a
// slow action does not hold up the next request. A request beyond the limit
// waits in the subscription's pending buffer, its deadline running. So
// micro's own ProcessingTime measures the hand-off, not the work;
// [ActionStats.ProcessingTime] measures the work, from receipt to reply.
//
// micro recovers no panic. Panics in user code are the core's to contain
// (they fail the invocation with [actions.ErrPanicked]); a panic of the
// codec, or of the server's own code, is recovered by the server, answered
// with an error reply and given to the error handler ([WithErrorHandler]):
// no request crashes the process. Bytes that do not decode are answered
// with an error reply, and the server goes on.
//
// # Remote invocation
//
// A [Client] sends requests; it starts no goroutine and needs no closing.
// [Client.Call] and [CallTyped] invoke an action directly, for code with no
// registry of its own. [Client.Register] and [RegisterTyped] register, on a
// local registry, an action whose body sends the request: local
// before-listeners may veto it (nothing is sent), local replacements wrap
// it and local after-listeners see its result, all on the calling side;
// the server's own listeners run on the server. Payload and result types
// come from the typed handle, or are any: with [JSON], untyped results
// arrive as JSON decodes into any (float64, string, map[string]any, ...).
//
// # Errors
//
// Every error of a remote invocation is an [*actions.Error], so
// [actions.ErrorOf], [actions.StatusOf] and [errors.Is] with the core's
// sentinels work as for a local invocation.
//
// An error the server's lifecycle ended with (aborted, blocked, pending,
// failed at a stage, not found, closed, cancelled) travels as a JSON body
// with micro's error headers (micro.ErrorHeader with the message,
// micro.ErrorCodeHeader with a code for micro's tooling: 403 aborted or
// blocked, 404 not found, 409 pending, 408 cancelled, 400 codec, 413 too
// large, 503 closed, 500 otherwise). The body holds the action, the kind
// (a name per sentinel), the stage, the listener's name, the cause's
// message and the names of the well-known sentinels the cause matched
// (context.DeadlineExceeded, context.Canceled, the core's and this
// package's). The client rebuilds an [*actions.Error] with the same Action,
// Kind, Stage and Listener, whose cause is a [*RemoteError]: the cause's
// message, prefixed "natsactions: remote: ", and those sentinels (so a
// remote panic still matches [actions.ErrPanicked], a remote cancellation
// [context.DeadlineExceeded]). Types of the server's own errors do not
// travel: [errors.As] into them finds nothing; their messages do.
//
// [Client.Call] and [CallTyped] return that rebuilt error itself:
// actions.ErrorOf(err).Kind is the server's kind ([actions.ErrAborted]),
// Stage its stage, Listener its listener. Returned by the body of a local
// action ([Client.Register]), it is the body's error, and the core wraps it
// as it wraps any body's error: the local error's Kind is
// [actions.ErrFailed] at [actions.StageBody] (the local status is
// "failed"), while errors.Is(err, actions.ErrAborted) still holds through
// the chain. [RemoteErrorOf] finds the rebuilt error in either case, for
// its kind, stage and listener. The local invocation does not take the
// remote kind as its own on purpose: a local listener's abort and a remote
// one differ (the first sent nothing; the second ran the server's
// lifecycle up to its before phase).
//
// Errors made on the calling side:
//
//   - Nothing serves the subject: kind [actions.ErrActionNotFound], cause
//     [ErrNoResponders]; known at once. A served but unregistered action is
//     the server's ErrActionNotFound, without ErrNoResponders.
//   - No reply before the caller's context ended: kind nil (status
//     "cancelled"), cause the context's ([context.DeadlineExceeded]). No
//     reply within the default timeout of a context without deadline:
//     kind [actions.ErrFailed], cause matching context.DeadlineExceeded,
//     as the core says of a stage's timeout of its own.
//   - The codec fails: kind [actions.ErrFailed] at no stage, cause a
//     [*CodecError] (matches [ErrCodec]) whose Op says which step, on
//     which side, and so whether the action ran ("encode payload" and
//     "decode payload": not run; "encode result" and "decode result": run).
//     A payload the server cannot decode runs no stage of the server's.
//     (Through [Client.Register], the local before-listeners have run: the
//     payload is encoded by the body.)
//   - A request larger than the NATS server's maximum payload: kind
//     [actions.ErrFailed], cause matching [ErrTooLarge] and
//     nats.ErrMaxPayload; nothing is sent. A result too large is the
//     server's ErrFailed with ErrTooLarge; the action ran.
//   - The connection closed or not connected: kind [actions.ErrFailed],
//     cause the connection's error, saying so.
//
// The other parts of the package have errors of their own, told in their
// sections: a [*ClaimedError] for a key claimed elsewhere (Exclusivity), a
// [*ClusterBlockError] as the reason of a block placed on every replica
// (Cluster-wide blocks). What no caller can receive (a [*PublishError], a
// [*MessageError], a [*DeadLetterError], a [*BlockEntryError], a reply a
// server could not send) goes to the error handler ([WithErrorHandler]),
// which logs it by default. Every message of the package's own starts with
// "natsactions: ".
//
// # Deadlines and headers
//
// The request's timeout is the caller's context's deadline, or
// [WithTimeout] ([DefaultTimeout], 5 s) when it has none. NATS does not
// carry deadlines: the time left travels in [HeaderTimeout], and the
// served invocation's context has the deadline receipt + time left (later
// than the caller's by the one-way transit; the clocks need not agree). A
// request without that header (sent by another NATS client) has no
// deadline. [Server.Stop] cancels the served contexts. The server's timer
// may still fire first; a reply saying the served invocation ran out of
// the deadline sent is then classified, once this side's deadline has
// passed (it is due within the transit), as that deadline: a cancellation
// for the caller's own, a failure for the default timeout, the server's
// error as the cause.
//
// Headers of a request, all readable on the server through [IncomingFrom]
// (the [Incoming] request, in every stage's context):
//
//   - [HeaderTimeout]: the time left.
//   - [HeaderCallerAction] and [HeaderCallerID]: the caller's invocation
//     ([actions.InvocationFrom] on the caller's context), its ID only when
//     the caller's registry has an observer (the core hands out IDs only
//     then). Through [Client.Register] the caller's invocation is the local
//     action's own.
//   - Every header set on the caller's context with [WithHeader]: a W3C
//     "traceparent" and "tracestate", a tenant. Nothing else: this package
//     reads no tracing library's context, and a served invocation that
//     invokes further does not forward its incoming headers by itself.
//
// Error replies carry [HeaderInstance], the ID of the service instance that
// answered ([RemoteError.Instance]).
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
// Every block a Blocks places carries a reason ([actions.Reason]), a
// [*ClusterBlockError] naming the bucket: the error of an invocation it
// holds wraps it, so that [errors.As] tells a block placed on every
// replica from a local one, and the message says where it came from
// ("actions: Ship: action blocked: natsactions: blocked on every replica
// through bucket "actions_blocks""). Served remotely, the reason's message
// travels with the blocked error, as any cause's does.
//
// Propagation, measured from the call of Block or Unblock on one replica
// until another replica's registry holds the change, over 100 changes on a
// cluster of three servers with the bucket replicated on all three and
// the two replicas on different servers (2 cores): median 0.24–0.44 ms,
// worst 4.5–5.9 ms over three runs; under the race detector median 2.0–2.6
// ms, worst 8.5–20 ms (go test -run BlockPropagation -v).
//
// # Codecs
//
// Payloads and results cross the wire, and go into events, through a
// [Codec], [JSON] unless [WithCodec] says otherwise: a server and its
// clients must agree, and so must a publisher and its subscribers. Error
// replies and block entries are JSON whatever the codec.
//
// # Goroutines and Close
//
// A Server starts one goroutine per request it runs, which ends when the
// request is answered; nothing else. [Server.Close] stops the micro service
// (its subscriptions are drained, so new requests go to the other
// replicas), answers at once with [actions.ErrClosed] any request still
// waiting for a slot (nothing ran: safe to retry), and waits for the
// requests running; given a context that ends first, it returns its cause
// and they go on. [Server.Stop] also cancels their contexts, so that stages
// that honour them end; a stage that ignores its context keeps its
// goroutine until it returns, as in the core. A Server does not close its
// connection or its registry: they are the caller's. Closing the connection
// stops the micro service too; requests running then cannot reply (the
// error handler hears of it) and their callers see their deadlines.
//
// A Client starts no goroutine. A [Publisher] owns one, which publishes its
// queue and ends on [Publisher.Close]; close the registry first, so that
// every invocation's event is queued. A [Subscriber]'s handler runs on the
// NATS client's goroutines; [Subscriber.Stop] lets the running handler
// finish and returns once the subscription is gone. An [Exclusive] owns no
// goroutine; each [Claim] renews itself from one of its own while its body
// runs, which ends when the claim is released. A [Blocks] owns one, its
// watcher, which ends on [Blocks.Close]. None of them closes its
// connection or its registry.
package natsactions
