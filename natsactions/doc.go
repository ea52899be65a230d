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
// with an error reply and given to [WithErrorHandler]'s handler: no request
// crashes the process. Bytes that do not decode are answered with an error
// reply, and the server goes on.
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
// message, prefixed "remote: ", and those sentinels (so a remote panic
// still matches [actions.ErrPanicked], a remote cancellation
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
// # Codecs
//
// Payloads and results cross the wire through a [Codec], [JSON] unless
// [WithCodec] says otherwise; the server and its clients must agree. Error
// replies are JSON whatever the codec.
package natsactions
