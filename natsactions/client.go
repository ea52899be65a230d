package natsactions

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"time"

	"github.com/go-actions/actions"
	"github.com/nats-io/nats.go"
)

// Client invokes actions that servers ([Server]) serve: directly
// ([Client.Call], [CallTyped]) or as the body of a local action
// ([Client.Register], [RegisterTyped]), so that local listeners and
// replacements run around the remote invocation. A Client is safe for
// concurrent use and holds nothing but its connection and options: it
// starts no goroutine and needs no closing.
type Client struct {
	nc  *nats.Conn
	cfg *options
}

// NewClient returns a client that sends requests on nc. Options:
// [WithSubjectPrefix], [WithCodec], [WithTimeout]. A nil nc panics.
func NewClient(nc *nats.Conn, opts ...Option) *Client {
	if nc == nil {
		panic("natsactions: NewClient: nil connection")
	}
	return &Client{nc: nc, cfg: apply(forClient, opts)}
}

// Call invokes the action remotely and waits for its result, decoded by the
// codec into an any (with [JSON], numbers become float64 and objects
// map[string]any). ctx's deadline is the request's, else [WithTimeout]'s.
// A nil ctx panics.
//
// Its error is an [*actions.Error]: the server's, rebuilt with its kind,
// stage and listener, with a [*RemoteError] as cause; or one of this
// side's (no responders, a timeout, the codec, a message too large). See
// "Errors" in the package documentation.
func (c *Client) Call(ctx context.Context, action string, payload any) (any, error) {
	var res any
	if err := c.call(ctx, action, payload, &res); err != nil {
		return nil, err
	}
	return res, nil
}

// CallTyped is [Client.Call] with a payload of type P and a result decoded
// into an R.
func CallTyped[P, R any](ctx context.Context, c *Client, action string, payload P) (R, error) {
	var res R
	if err := c.call(ctx, action, payload, &res); err != nil {
		var zero R
		return zero, err
	}
	return res, nil
}

// Register registers, on reg, an action name whose body invokes name
// remotely with [Client.Call]: reg's before-listeners may veto it, its
// replacements wrap it and its after-listeners see its result, as for any
// local action. opts are those of [actions.Registry.RegisterAction]. A
// remote error reaches the caller wrapped by the core as the body's failure
// (see "Errors" in the package documentation).
func (c *Client) Register(reg *actions.Registry, name string, opts ...actions.ActionOption) (unregister func() bool, err error) {
	return reg.RegisterAction(name, func(ctx context.Context, payload any) (any, error) {
		return c.Call(ctx, name, payload)
	}, opts...)
}

// RegisterTyped is [Client.Register] for a typed handle: the handle's
// registry gets a typed action whose body is [CallTyped].
func RegisterTyped[P, R any](c *Client, a actions.Action[P, R], opts ...actions.ActionOption) (unregister func() bool, err error) {
	name := a.Name()
	return a.Register(func(ctx context.Context, payload P) (R, error) {
		return CallTyped[P, R](ctx, c, name, payload)
	}, opts...)
}

// call sends one request and decodes its reply into out.
func (c *Client) call(ctx context.Context, action string, payload, out any) error {
	if ctx == nil {
		panic(fmt.Sprintf("natsactions: Call(%q): nil context", action))
	}
	data, err := guardCodec(opEncodePayload, func() ([]byte, error) { return c.cfg.codec.Marshal(payload) })
	if err != nil {
		return &actions.Error{Action: action, Kind: actions.ErrFailed, Err: err}
	}
	rctx, cancel := ctx, context.CancelFunc(func() {})
	if _, ok := ctx.Deadline(); !ok {
		rctx, cancel = context.WithTimeout(ctx, c.cfg.timeout)
	}
	defer cancel()
	msg := c.request(rctx, action, data)
	resp, err := c.nc.RequestMsgWithContext(rctx, msg)
	if err != nil {
		return c.requestError(ctx, rctx, action, msg, err)
	}
	if err := replyError(action, resp); err != nil {
		return c.ownDeadline(ctx, rctx, err)
	}
	if _, err := guardCodec(opDecodeResult, func() (struct{}, error) { return struct{}{}, c.cfg.codec.Unmarshal(resp.Data, out) }); err != nil {
		return &actions.Error{Action: action, Kind: actions.ErrFailed, Err: err}
	}
	return nil
}

// deadlineSlack bounds how long before the request's deadline a server's
// cancellation by deadline is taken for that deadline.
const deadlineSlack = 100 * time.Millisecond

// ownDeadline classifies a server's error that says the deadline this side
// sent ran out. The server's timer may fire before this side's, the server's
// deadline being only the transit later: then the deadline is due within
// the slack and is waited for, so that the error says what it would have
// said had no reply come: a cancellation when it is the caller's deadline
// (and the core, seeing its own context done, says so too), a failure when
// it is the default timeout. The server's error stays the cause.
func (c *Client) ownDeadline(ctx, rctx context.Context, err error) error {
	e, _ := err.(*actions.Error)
	if e == nil || e.Kind != nil || !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if dl, ok := rctx.Deadline(); !ok || time.Until(dl) > deadlineSlack {
		return err
	}
	<-rctx.Done()
	if ctx.Err() == nil {
		e.Kind = actions.ErrFailed
	}
	return e
}

// request builds the request: the caller's headers, then the module's.
func (c *Client) request(ctx context.Context, action string, data []byte) *nats.Msg {
	h := make(nats.Header, 4)
	maps.Copy(h, outgoing(ctx))
	deadline, _ := ctx.Deadline()
	h[HeaderTimeout] = []string{time.Until(deadline).String()}
	if inv, ok := actions.InvocationFrom(ctx); ok {
		h[HeaderCallerAction] = []string{inv.Action}
		if inv.ID != 0 {
			h[HeaderCallerID] = []string{strconv.FormatUint(inv.ID, 10)}
		}
	}
	return &nats.Msg{Subject: c.cfg.prefix + "." + action, Header: h, Data: data}
}

// requestError classifies a request that got no reply. ctx is the caller's,
// rctx the request's (ctx, or ctx bounded by the default timeout).
func (c *Client) requestError(ctx, rctx context.Context, action string, msg *nats.Msg, err error) error {
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return &actions.Error{Action: action, Kind: actions.ErrActionNotFound, Err: fmt.Errorf("%w on %s", ErrNoResponders, msg.Subject)}
	case errors.Is(err, nats.ErrMaxPayload):
		return &actions.Error{Action: action, Kind: actions.ErrFailed, Err: fmt.Errorf("%w: the request is %d bytes, the server takes at most %d (%w)", ErrTooLarge, len(msg.Data), c.nc.MaxPayload(), err)}
	case ctx.Err() != nil: // the caller's own deadline or cancellation: a cancellation, as the core says
		return &actions.Error{Action: action, Err: fmt.Errorf("natsactions: no reply on %s: %w", msg.Subject, context.Cause(ctx))}
	case rctx.Err() != nil: // the default timeout: a timeout of the call's own, a failure
		return &actions.Error{Action: action, Kind: actions.ErrFailed, Err: fmt.Errorf("natsactions: no reply on %s within %v (the default timeout): %w", msg.Subject, c.cfg.timeout, rctx.Err())}
	case c.nc.IsClosed() && !errors.Is(err, nats.ErrConnectionClosed):
		return &actions.Error{Action: action, Kind: actions.ErrFailed, Err: fmt.Errorf("natsactions: request on %s: %w (%w)", msg.Subject, nats.ErrConnectionClosed, err)}
	case !c.nc.IsConnected():
		// A connection that never connected cannot tell whether the server
		// takes headers, and says so: say why.
		return &actions.Error{Action: action, Kind: actions.ErrFailed, Err: fmt.Errorf("natsactions: request on %s: not connected (%v): %w", msg.Subject, c.nc.Status(), err)}
	}
	return &actions.Error{Action: action, Kind: actions.ErrFailed, Err: fmt.Errorf("natsactions: request on %s: %w", msg.Subject, err)}
}
