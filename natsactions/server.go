package natsactions

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-actions/actions"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
)

// Server serves actions of a registry as the endpoints of a NATS micro
// service, one endpoint per action on the subject "<prefix>.<action>", in a
// queue group: replicas serving the same actions with the same options share
// the requests. Each request runs the whole local lifecycle ([actions.Registry.Call]
// or a typed handle's Call): listeners, replacements, blocks, de-duplication.
//
// A Server is safe for concurrent use. It runs at most [WithConcurrency]
// requests at once, each in a goroutine of its own that ends when its
// invocation returns; [Server.Close] and [Server.Stop] wait for them. See
// "Serving" and "Goroutines and Close" in the package documentation.
type Server struct {
	nc    *nats.Conn
	reg   *actions.Registry
	cfg   *options
	svc   micro.Service
	group micro.Group
	slots chan struct{} // a token per running request, cfg.concurrency at most

	// base is the parent of every served invocation's context; Stop
	// cancels it.
	base   context.Context
	cancel context.CancelCauseFunc

	closeOnce sync.Once
	stopErr   error         // what micro's Stop returned, written once before closing
	closing   chan struct{} // closed when Close or Stop begins

	mu       sync.Mutex // guards closed, running, idle and served
	closed   bool       // no request is admitted any more
	running  int        // requests admitted and not yet answered
	idle     chan struct{}
	served   map[string]*endpoint
	instance string // the service's ID, set at NewServer
}

// endpoint is one served action.
type endpoint struct {
	action string
	decode func(data []byte) (any, error)
	call   func(ctx context.Context, payload any) (any, error)
	stats  ActionStats
}

// ActionStats are a served action's counts, as the micro service's STATS
// reply shows them in each endpoint's "data" (micro's own processing time
// measures only the hand-off to the request's goroutine: see "Serving" in
// the package documentation). The fields are updated atomically; read them
// through [Server.Stats]. A request is counted just before its reply is
// sent, so a caller that has its reply reads counts that include it;
// micro's own NumRequests counts it only once micro's goroutine has handed
// it off, which may come after the reply.
type ActionStats struct {
	// Requests is the number of requests answered.
	Requests int64 `json:"requests"`
	// Errors is the number of those answered with an error.
	Errors int64 `json:"errors"`
	// InFlight is the number of requests running now.
	InFlight int64 `json:"in_flight"`
	// ProcessingTime is the sum of the requests' times, from receipt to
	// reply, in nanoseconds.
	ProcessingTime time.Duration `json:"processing_time"`
}

// NewServer adds a micro service named by [WithServiceName] on nc, serving
// nothing yet: [Server.Serve] and [ServeTyped] add actions. Options:
// [WithSubjectPrefix], [WithCodec], [WithServiceName], [WithVersion],
// [WithDescription], [WithQueueGroup], [WithConcurrency],
// [WithErrorHandler]. A nil nc or reg panics. It fails as
// micro.AddService does: an invalid name or version, a closed connection.
func NewServer(nc *nats.Conn, reg *actions.Registry, opts ...Option) (*Server, error) {
	if nc == nil || reg == nil {
		panic("natsactions: NewServer: nil connection or registry")
	}
	s := &Server{nc: nc, reg: reg, cfg: apply(forServer, opts), closing: make(chan struct{}), idle: make(chan struct{}), served: map[string]*endpoint{}}
	s.slots = make(chan struct{}, s.cfg.concurrency)
	s.base, s.cancel = context.WithCancelCause(context.Background())
	svc, err := micro.AddService(nc, micro.Config{
		Name:         s.cfg.name,
		Version:      s.cfg.version,
		Description:  s.cfg.description,
		QueueGroup:   s.cfg.queueGroup,
		StatsHandler: s.endpointStats,
		ErrorHandler: func(_ micro.Service, err *micro.NATSError) {
			s.cfg.errorHandler(context.Background(), fmt.Errorf("natsactions: service %s: %w", s.cfg.name, err))
		},
	})
	if err != nil {
		s.cancel(actions.ErrClosed)
		return nil, fmt.Errorf("natsactions: NewServer: %w", err)
	}
	s.svc, s.group, s.instance = svc, svc.AddGroup(s.cfg.prefix), svc.Info().ID
	return s, nil
}

// Serve serves the action name of the server's registry, untyped: the
// payload is decoded by the codec into an any (with [JSON], numbers become
// float64 and objects map[string]any) and the invocation is
// [actions.Registry.Call]. The action need not be registered yet: a request
// that finds none fails with [actions.ErrActionNotFound].
//
// name must be a micro endpoint name (letters, digits, '-' and '_'). Serving
// a name twice, or after Close, fails. When the connection is up, Serve
// returns once the NATS server it is connected to knows the endpoint (a
// round trip); the other nodes of a cluster learn it shortly after.
func (s *Server) Serve(name string) error {
	return s.serve(&endpoint{
		action: name,
		decode: func(data []byte) (any, error) {
			var v any
			err := s.cfg.codec.Unmarshal(data, &v)
			return v, err
		},
		call: func(ctx context.Context, payload any) (any, error) { return s.reg.Call(ctx, name, payload) },
	}, nil)
}

// ServeTyped serves the action of a typed handle on s's registry: the
// payload is decoded into a P and the invocation is the handle's Call. A
// handle on another registry panics. The endpoint's metadata names P and R
// for discovery. Otherwise as [Server.Serve].
func ServeTyped[P, R any](s *Server, a actions.Action[P, R]) error {
	if a.Registry() != s.reg {
		panic(fmt.Sprintf("natsactions: ServeTyped(%q): the handle is on another registry than the server's", a.Name()))
	}
	return s.serve(&endpoint{
		action: a.Name(),
		decode: func(data []byte) (any, error) {
			var p P
			err := s.cfg.codec.Unmarshal(data, &p)
			return p, err
		},
		call: func(ctx context.Context, payload any) (any, error) {
			p, _ := payload.(P) // a nil interface P decodes to nil
			return a.Call(ctx, p)
		},
	}, map[string]string{"payload": reflect.TypeFor[P]().String(), "result": reflect.TypeFor[R]().String()})
}

func (s *Server) serve(ep *endpoint, meta map[string]string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("natsactions: Serve(%q): %w", ep.action, actions.ErrClosed)
	}
	if s.served[ep.action] != nil {
		return fmt.Errorf("natsactions: Serve(%q): already served", ep.action)
	}
	md := map[string]string{"action": ep.action}
	for k, v := range meta {
		md[k] = v
	}
	handler := micro.HandlerFunc(func(req micro.Request) { s.dispatch(ep, req) })
	if err := s.group.AddEndpoint(ep.action, handler, micro.WithEndpointMetadata(md)); err != nil {
		return fmt.Errorf("natsactions: Serve(%q): %w", ep.action, err)
	}
	s.served[ep.action] = ep
	// A round trip to the NATS server, so that a request sent once Serve
	// has returned finds the endpoint. Down, the connection subscribes
	// again when it reconnects: nothing to report.
	if s.nc.IsConnected() {
		_ = s.nc.FlushTimeout(time.Second)
	}
	return nil
}

// Service returns the micro service, for its Info and Stats.
func (s *Server) Service() micro.Service { return s.svc }

// Stats returns the counts of the served action name, and false when it is
// not served.
func (s *Server) Stats(name string) (ActionStats, bool) {
	s.mu.Lock()
	ep := s.served[name]
	s.mu.Unlock()
	if ep == nil {
		return ActionStats{}, false
	}
	return ep.snapshot(), true
}

func (ep *endpoint) snapshot() ActionStats {
	return ActionStats{
		Requests:       atomic.LoadInt64(&ep.stats.Requests),
		Errors:         atomic.LoadInt64(&ep.stats.Errors),
		InFlight:       atomic.LoadInt64(&ep.stats.InFlight),
		ProcessingTime: time.Duration(atomic.LoadInt64((*int64)(&ep.stats.ProcessingTime))),
	}
}

// endpointStats is micro's StatsHandler: the endpoint's "data".
func (s *Server) endpointStats(e *micro.Endpoint) any {
	st, _ := s.Stats(e.Name)
	return st
}

// dispatch runs on micro's goroutine for the endpoint, one request at a
// time: it admits the request, waits for a slot and hands it to a goroutine
// of its own, so that micro's goroutine takes the next one.
func (s *Server) dispatch(ep *endpoint, req micro.Request) {
	received := time.Now()
	if req.Reply() == "" {
		return // nobody to answer: a publish is not a request
	}
	if !s.admit() {
		s.reply(ep, req, received, closedReply(ep.action), nil)
		return
	}
	select {
	case s.slots <- struct{}{}:
	case <-s.closing:
		s.reply(ep, req, received, closedReply(ep.action), nil)
		s.done()
		return
	}
	atomic.AddInt64(&ep.stats.InFlight, 1)
	go s.run(ep, req, received)
}

// admit counts a request in, unless the server is closing.
func (s *Server) admit() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.running++
	return true
}

// done counts a request out, waking Close on the last one.
func (s *Server) done() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running--; s.running == 0 && s.closed {
		close(s.idle)
	}
}

// run serves one request in its own goroutine, which ends with it.
func (s *Server) run(ep *endpoint, req micro.Request, received time.Time) {
	defer s.done()
	defer func() { <-s.slots }()
	inFlight := true // until reply counts the request out
	defer func() {
		if inFlight {
			atomic.AddInt64(&ep.stats.InFlight, -1)
		}
	}()
	defer func() {
		if v := recover(); v != nil { // the server's own code: the user's is guarded where it runs
			err := &actions.PanicError{Value: v, Stack: debug.Stack()}
			s.cfg.errorHandler(context.Background(), fmt.Errorf("natsactions: serving %q: %w", ep.action, err))
			s.reply(ep, req, received, failedReply(ep.action, err), &inFlight)
		}
	}()
	ctx, cancel := s.requestContext(ep, req, received)
	defer cancel()
	s.reply(ep, req, received, s.invoke(ctx, ep, req.Data()), &inFlight)
}

// requestContext returns the context of a served invocation: the server's
// base, the caller's deadline, the request's description.
func (s *Server) requestContext(ep *endpoint, req micro.Request, received time.Time) (context.Context, context.CancelFunc) {
	h := nats.Header(req.Headers())
	in := &Incoming{Action: ep.action, Header: h, CallerAction: h.Get(HeaderCallerAction)}
	in.CallerID, _ = strconv.ParseUint(h.Get(HeaderCallerID), 10, 64)
	ctx := context.WithValue(s.base, incomingKey{}, in)
	if d, err := time.ParseDuration(h.Get(HeaderTimeout)); err == nil {
		return context.WithDeadline(ctx, received.Add(d))
	}
	return ctx, func() {}
}

// invoke decodes the payload, calls the action and encodes its result: the
// reply to send.
func (s *Server) invoke(ctx context.Context, ep *endpoint, data []byte) *nats.Msg {
	payload, err := guardCodec(opDecodePayload, func() (any, error) { return ep.decode(data) })
	if err != nil {
		return failedReply(ep.action, err)
	}
	res, err := ep.call(ctx, payload)
	if err != nil {
		return errorReply(toWire(ep.action, err), err.Error())
	}
	out, err := guardCodec(opEncodeResult, func() ([]byte, error) { return s.cfg.codec.Marshal(res) })
	if err != nil {
		return failedReply(ep.action, err)
	}
	return &nats.Msg{Data: out}
}

// guardCodec runs a step of the codec, user code, with its panics and
// errors made a *CodecError.
func guardCodec[T any](op string, fn func() (T, error)) (v T, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &CodecError{Op: op, Err: &actions.PanicError{Value: p, Stack: debug.Stack()}}
		}
	}()
	if v, err = fn(); err != nil {
		err = &CodecError{Op: op, Err: err}
	}
	return v, err
}

// failedReply is the reply of a failure outside the action's stages: the
// codec, a result too large, the server's own panic.
func failedReply(action string, err error) *nats.Msg {
	e := &actions.Error{Action: action, Kind: actions.ErrFailed, Err: err}
	return errorReply(toWire(action, e), e.Error())
}

// closedReply is the reply of a request that reached a closing server: it
// did not run, as when a registry is closed.
func closedReply(action string) *nats.Msg {
	e := &actions.Error{Action: action, Kind: actions.ErrClosed, Err: errors.New("natsactions: server closing")}
	return errorReply(toWire(action, e), e.Error())
}

// reply sends m to the requester. It counts the request first (and out of
// InFlight when *inFlight, clearing it), so that a caller that has its
// reply reads stats that count it. A reply too large for the NATS server is
// replaced by an error saying so; other failures to send go to the error
// handler (the caller will see its deadline).
func (s *Server) reply(ep *endpoint, req micro.Request, received time.Time, m *nats.Msg, inFlight *bool) {
	m.Subject = req.Reply()
	isErr := m.Header.Get(micro.ErrorCodeHeader) != ""
	if isErr {
		m.Header.Set(HeaderInstance, s.instance)
	}
	if inFlight != nil && *inFlight {
		atomic.AddInt64(&ep.stats.InFlight, -1)
		*inFlight = false
	}
	atomic.AddInt64(&ep.stats.Requests, 1)
	if isErr {
		atomic.AddInt64(&ep.stats.Errors, 1)
	}
	atomic.AddInt64((*int64)(&ep.stats.ProcessingTime), int64(time.Since(received)))
	err := s.nc.PublishMsg(m)
	if errors.Is(err, nats.ErrMaxPayload) {
		if !isErr {
			atomic.AddInt64(&ep.stats.Errors, 1)
		}
		m = failedReply(ep.action, fmt.Errorf("%w: the result is %d bytes, the server takes at most %d", ErrTooLarge, len(m.Data), s.nc.MaxPayload()))
		m.Subject = req.Reply()
		m.Header.Set(HeaderInstance, s.instance)
		err = s.nc.PublishMsg(m)
	}
	if err != nil {
		s.cfg.errorHandler(context.Background(), fmt.Errorf("natsactions: replying to %q: %w", ep.action, err))
	}
}

// Close stops the micro service (its subscriptions are drained: new
// requests go to the other replicas) and waits until every request this
// server admitted has been answered, or until ctx is done, when it returns
// ctx's cause and the requests go on. A request that reaches the server
// while it closes is answered at once with an error of kind
// [actions.ErrClosed]; nothing ran. Close may be called more than once, and
// with Stop.
func (s *Server) Close(ctx context.Context) error {
	s.beginClose()
	select {
	case <-s.idle:
		return s.stopErr
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// Stop is Close that also cancels the contexts of the invocations still
// running (their cause matches [actions.ErrClosed]), so that stages that
// honour their context end, and then waits as Close does.
func (s *Server) Stop(ctx context.Context) error {
	s.beginClose()
	s.cancel(fmt.Errorf("natsactions: server stopped: %w", actions.ErrClosed))
	return s.Close(ctx)
}

func (s *Server) beginClose() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		if s.running == 0 {
			close(s.idle)
		}
		s.mu.Unlock()
		close(s.closing)
		s.stopErr = s.svc.Stop()
		if s.stopErr != nil {
			s.stopErr = fmt.Errorf("natsactions: stopping the service: %w", s.stopErr)
		}
	})
}
