package natsactions

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Option configures [NewServer], [NewClient], [NewPublisher], [Subscribe],
// [NewExclusive] or [NewBlocks]. Each option says which of them it applies
// to; given to another, it panics, since it would otherwise be ignored
// without a word. A server and the clients that call it must agree on
// [WithSubjectPrefix] and [WithCodec]; a publisher and its subscribers on
// [WithStream] and [WithCodec].
type Option struct {
	name string
	to   target
	set  func(*options)
}

// target is the set of constructors an option applies to.
type target uint8

const (
	forServer target = 1 << iota
	forClient
	forPublisher
	forSubscriber
	forExclusive
	forBlocks

	forJetStream = forPublisher | forSubscriber | forExclusive | forBlocks
)

var targetNames = map[target]string{
	forServer:     "NewServer",
	forClient:     "NewClient",
	forPublisher:  "NewPublisher",
	forSubscriber: "Subscribe",
	forExclusive:  "NewExclusive",
	forBlocks:     "NewBlocks",
}

// Defaults of the options of a server and a client.
const (
	// DefaultSubjectPrefix is the first token of every served action's
	// subject ([WithSubjectPrefix]).
	DefaultSubjectPrefix = "actions"
	// DefaultServiceName is the micro service's name ([WithServiceName]).
	DefaultServiceName = "actions"
	// DefaultTimeout bounds a remote invocation whose context has no
	// deadline ([WithTimeout]).
	DefaultTimeout = 5 * time.Second
	// DefaultConcurrency is how many requests one server runs at once
	// ([WithConcurrency]).
	DefaultConcurrency = 64
)

// options is what every constructor reads; each reads only its own fields.
type options struct {
	codec        Codec
	errorHandler func(ctx context.Context, err error)

	// serving and remote invocation
	prefix      string
	timeout     time.Duration
	name        string
	version     string
	description string
	queueGroup  string
	concurrency int

	// streams and buckets
	replicas int

	// events
	stream, subjects string
	source           string
	actions          []string
	queueSize        int
	publishTimeout   time.Duration
	publishAttempts  int
	maxDeliver       int
	backOff          func(delivery int) time.Duration
	ackWait          time.Duration
	deadLetter       func(ctx context.Context, ev *Event, err error)

	// key-value
	bucket   string
	ttl      time.Duration
	blockKey map[string]func(payload any) string

	applyHook func(jetstream.KeyValueEntry) // tests: called after each entry a Blocks applied
}

// apply builds the options of the constructor t from defaults and opts.
func apply(t target, opts []Option) *options {
	o := &options{
		codec:           JSON,
		errorHandler:    logError,
		prefix:          DefaultSubjectPrefix,
		timeout:         DefaultTimeout,
		name:            DefaultServiceName,
		version:         "0.0.0",
		queueGroup:      "q",
		concurrency:     DefaultConcurrency,
		replicas:        1,
		stream:          "ACTIONS_EVENTS",
		subjects:        "actions.events",
		queueSize:       1024,
		publishTimeout:  5 * time.Second,
		publishAttempts: 3,
		maxDeliver:      5,
		backOff:         doubling(time.Second, time.Minute),
		ackWait:         30 * time.Second,
		ttl:             10 * time.Second,
	}
	switch t {
	case forExclusive:
		o.bucket = "actions_claims"
	case forBlocks:
		o.bucket = "actions_blocks"
	}
	for _, opt := range opts {
		if opt.set == nil {
			panic("natsactions: zero Option")
		}
		if opt.to&t == 0 {
			panic("natsactions: " + opt.name + " does not apply to " + targetNames[t])
		}
		opt.set(o)
	}
	return o
}

// logError is the default error handler. The package's own errors say
// "natsactions: " already; others (the NATS client's) get it.
func logError(ctx context.Context, err error) {
	slog.Default().LogAttrs(ctx, slog.LevelError, "natsactions: "+inner(err))
}

// doubling returns a back-off that waits first, then twice as long for each
// later delivery, at most most.
func doubling(first, most time.Duration) func(int) time.Duration {
	return func(delivery int) time.Duration {
		d := first
		for i := 1; i < delivery && d < most; i++ {
			d *= 2
		}
		return min(d, most)
	}
}

// WithCodec sets the codec of payloads and results: on the wire between a
// server and its clients, and in events. The server and its clients, and a
// publisher and its subscribers, must agree. The default is [JSON]. A nil
// codec panics. Applies to [NewServer], [NewClient], [NewPublisher] and
// [Subscribe].
func WithCodec(c Codec) Option {
	if c == nil {
		panic("natsactions: WithCodec: nil codec")
	}
	return Option{"WithCodec", forServer | forClient | forPublisher | forSubscriber, func(o *options) { o.codec = c }}
}

// WithErrorHandler sets the function that receives the errors no caller
// can receive: a server's reply that could not be sent, a panic in a
// server's own code or its codec, an asynchronous error of its service's
// subscriptions (a slow consumer); events that could not be published,
// malformed messages and block entries, claims that could not be released
// or renewed. It must be safe for concurrent use and return promptly: it
// is called from the goroutine that met the error. The default logs each
// error with [slog.Default] at level Error. Applies to every constructor
// but [NewClient], whose errors all go to its callers.
func WithErrorHandler(h func(ctx context.Context, err error)) Option {
	if h == nil {
		panic("natsactions: WithErrorHandler: nil handler")
	}
	return Option{"WithErrorHandler", forServer | forJetStream, func(o *options) { o.errorHandler = h }}
}

// WithSubjectPrefix sets the first token of every served action's subject:
// action A is served and requested on "<prefix>.A". The default is
// [DefaultSubjectPrefix]. Give each service of a cluster its own prefix.
// A prefix that is empty or holds a space or a wildcard panics; dots are
// allowed ("billing.actions"). Applies to [NewServer] and [NewClient].
func WithSubjectPrefix(prefix string) Option {
	if !validPrefix(prefix) {
		panic(fmt.Sprintf("natsactions: WithSubjectPrefix(%q): not a subject without wildcards", prefix))
	}
	return Option{"WithSubjectPrefix", forServer | forClient, func(o *options) { o.prefix = prefix }}
}

// WithTimeout sets how long a remote invocation waits for its reply when
// the caller's context has no deadline. The default is [DefaultTimeout]. A
// context with a deadline is never extended nor shortened by it. A timeout
// ≤ 0 panics. Applies to [NewClient].
func WithTimeout(d time.Duration) Option {
	if d <= 0 {
		panic("natsactions: WithTimeout: timeout must be positive")
	}
	return Option{"WithTimeout", forClient, func(o *options) { o.timeout = d }}
}

// WithServiceName sets the micro service's name, as discovery ($SRV.PING,
// $SRV.INFO, $SRV.STATS) lists it. The default is [DefaultServiceName].
// micro accepts letters, digits, '-' and '_'; another name fails
// [NewServer]. Applies to [NewServer].
func WithServiceName(name string) Option {
	return Option{"WithServiceName", forServer, func(o *options) { o.name = name }}
}

// WithVersion sets the micro service's version, a semantic version. The
// default is "0.0.0". Applies to [NewServer].
func WithVersion(v string) Option {
	return Option{"WithVersion", forServer, func(o *options) { o.version = v }}
}

// WithDescription sets the micro service's description. The default is
// empty. Applies to [NewServer].
func WithDescription(d string) Option {
	return Option{"WithDescription", forServer, func(o *options) { o.description = d }}
}

// WithQueueGroup sets the queue group of a server's endpoints: replicas in
// the same group share the requests, each request going to one of them.
// The default is "q", micro's. Applies to [NewServer].
func WithQueueGroup(q string) Option {
	return Option{"WithQueueGroup", forServer, func(o *options) { o.queueGroup = q }}
}

// WithConcurrency sets how many requests a server runs at once, across all
// its endpoints. The default is [DefaultConcurrency]. A request beyond the
// limit waits in its subscription's pending buffer, in order, while its
// deadline runs. n < 1 panics. Applies to [NewServer].
func WithConcurrency(n int) Option {
	if n < 1 {
		panic("natsactions: WithConcurrency: n must be at least 1")
	}
	return Option{"WithConcurrency", forServer, func(o *options) { o.concurrency = n }}
}

// WithReplicas sets the number of replicas of the stream or bucket when the
// constructor creates it (an existing one is used as it is). The default is
// 1; give 3 in a cluster of three or more servers, so that losing one
// server loses nothing. Applies to [NewPublisher], [Subscribe],
// [NewExclusive] and [NewBlocks].
func WithReplicas(n int) Option {
	if n < 1 {
		panic("natsactions: WithReplicas: fewer than one replica")
	}
	return Option{"WithReplicas", forJetStream, func(o *options) { o.replicas = n }}
}

// WithStream sets the events' stream and the subject prefix its subjects
// live under (an event of action A is published on prefix.A, see "Events"
// in the package documentation). The default is "ACTIONS_EVENTS" under
// "actions.events". Applies to [NewPublisher] and [Subscribe].
func WithStream(name, subjectPrefix string) Option {
	if name == "" || subjectPrefix == "" {
		panic("natsactions: WithStream: empty stream name or subject prefix")
	}
	return Option{"WithStream", forPublisher | forSubscriber, func(o *options) { o.stream, o.subjects = name, subjectPrefix }}
}

// WithSource names the replica in the events it publishes ([Event.Source]),
// for the reader's benefit; event IDs are unique without it. The default is
// empty. Applies to [NewPublisher].
func WithSource(name string) Option {
	return Option{"WithSource", forPublisher, func(o *options) { o.source = name }}
}

// WithActions restricts a publisher to the events of the named actions, and
// a subscriber to receiving those (a filter on the consumer, applied by the
// server). The default is every action. Applies to [NewPublisher] and
// [Subscribe].
func WithActions(names ...string) Option {
	names = append([]string(nil), names...)
	return Option{"WithActions", forPublisher | forSubscriber, func(o *options) { o.actions = names }}
}

// WithQueueSize sets how many events a publisher holds while they wait to be
// published; an event that finds the queue full is not published and goes
// to the error handler (see "Events" in the package documentation). The
// default is 1024. Applies to [NewPublisher].
func WithQueueSize(n int) Option {
	if n < 1 {
		panic("natsactions: WithQueueSize: size below 1")
	}
	return Option{"WithQueueSize", forPublisher, func(o *options) { o.queueSize = n }}
}

// WithPublishRetry sets how long one attempt to publish an event waits for
// the server's acknowledgement, and how many attempts are made before the
// event goes to the error handler. Every attempt carries the same message
// ID, so the stream stores the event once however many attempts reached it.
// The default is 5 s and 3 attempts. Applies to [NewPublisher].
func WithPublishRetry(timeout time.Duration, attempts int) Option {
	if timeout <= 0 || attempts < 1 {
		panic("natsactions: WithPublishRetry: timeout or attempts below 1")
	}
	return Option{"WithPublishRetry", forPublisher, func(o *options) { o.publishTimeout, o.publishAttempts = timeout, attempts }}
}

// WithMaxDeliver sets how many times a subscriber's consumer delivers an
// event whose handler fails before the event is given to the dead-letter
// handler. The default is 5. Applies to [Subscribe].
func WithMaxDeliver(n int) Option {
	if n < 1 {
		panic("natsactions: WithMaxDeliver: below 1")
	}
	return Option{"WithMaxDeliver", forSubscriber, func(o *options) { o.maxDeliver = n }}
}

// WithBackOff sets how long the server waits before delivering again an
// event whose handler failed, given the number of the delivery that failed
// (1 for the first). The default waits 1 s, then doubles, up to a minute.
// Applies to [Subscribe].
func WithBackOff(f func(delivery int) time.Duration) Option {
	if f == nil {
		panic("natsactions: WithBackOff: nil function")
	}
	return Option{"WithBackOff", forSubscriber, func(o *options) { o.backOff = f }}
}

// WithAckWait sets how long the server waits for a delivery's outcome
// before delivering the event again. A subscriber tells the server that a
// handler still running is working, every half of it, so only a subscriber
// that died (or lost its connection) lets it run out. The default is 30 s.
// Applies to [Subscribe].
func WithAckWait(d time.Duration) Option {
	if d < time.Second {
		panic("natsactions: WithAckWait: below one second")
	}
	return Option{"WithAckWait", forSubscriber, func(o *options) { o.ackWait = d }}
}

// WithDeadLetter sets the function that receives an event whose handler
// failed on its last delivery, or failed with an error matching
// [ErrMalformed], with that error; the event is then terminated and not
// delivered again. The default passes a [*DeadLetterError] to the error
// handler. Applies to [Subscribe].
func WithDeadLetter(f func(ctx context.Context, ev *Event, err error)) Option {
	if f == nil {
		panic("natsactions: WithDeadLetter: nil function")
	}
	return Option{"WithDeadLetter", forSubscriber, func(o *options) { o.deadLetter = f }}
}

// WithBucket sets the key-value bucket. The default is "actions_claims" for
// [NewExclusive] and "actions_blocks" for [NewBlocks], which apply it.
func WithBucket(name string) Option {
	if name == "" {
		panic("natsactions: WithBucket: empty name")
	}
	return Option{"WithBucket", forExclusive | forBlocks, func(o *options) { o.bucket = name }}
}

// WithTTL sets how long a claim outlives the replica that holds it: a
// replica renews its claims while their bodies run, so only one that died or
// lost the servers lets a claim expire (see "Exclusivity" in the package
// documentation). The server counts in whole seconds: d is rounded up to
// one. The default is 10 s. Applies to [NewExclusive].
func WithTTL(d time.Duration) Option {
	if d <= 0 {
		panic("natsactions: WithTTL: not positive")
	}
	d = (d + time.Second - 1).Truncate(time.Second)
	return Option{"WithTTL", forExclusive, func(o *options) { o.ttl = d }}
}

// WithBlockKey sets the key function of an action's keyed blocks on this
// replica: a block placed with [Blocks.BlockKey] holds on the invocations
// whose payload key maps to the blocked key. Every replica must compute keys
// alike. Without one, the action's keyed blocks match nothing here, and
// each is reported to the error handler when it arrives. Applies to
// [NewBlocks].
func WithBlockKey(action string, key func(payload any) string) Option {
	if action == "" || key == nil {
		panic("natsactions: WithBlockKey: empty action or nil key function")
	}
	return Option{"WithBlockKey", forBlocks, func(o *options) {
		if o.blockKey == nil {
			o.blockKey = make(map[string]func(any) string)
		}
		o.blockKey[action] = key
	}}
}

// validPrefix reports whether p is a subject without wildcards.
func validPrefix(p string) bool {
	if p == "" || strings.ContainsAny(p, " \t\r\n*>") {
		return false
	}
	for tok := range strings.SplitSeq(p, ".") {
		if tok == "" {
			return false
		}
	}
	return true
}
