package natsactions

import (
	"fmt"
	"log/slog"
	"time"
)

// Option configures a [Server] ([NewServer]) or a [Client] ([NewClient]).
// Each option says which it applies to; the other ignores it. A server and
// the clients that call it must agree on [WithSubjectPrefix] and [WithCodec].
type Option func(*config)

// config is what the options set; defaults are those documented on each option.
type config struct {
	codec       Codec
	prefix      string
	timeout     time.Duration
	name        string
	version     string
	description string
	queueGroup  string
	concurrency int
	onError     func(error)
}

// Defaults of the options.
const (
	// DefaultSubjectPrefix is the first token of every action's subject
	// ([WithSubjectPrefix]).
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

func newConfig(opts []Option) config {
	c := config{
		codec:       JSON,
		prefix:      DefaultSubjectPrefix,
		timeout:     DefaultTimeout,
		name:        DefaultServiceName,
		version:     "0.0.0",
		queueGroup:  "q",
		concurrency: DefaultConcurrency,
		onError:     func(err error) { slog.Error("natsactions", "err", err) },
	}
	for _, o := range opts {
		if o == nil {
			panic("natsactions: nil option")
		}
		o(&c)
	}
	return c
}

// WithCodec sets the codec of payloads and results (server and client).
// Default: [JSON]. A nil codec panics.
func WithCodec(c Codec) Option {
	if c == nil {
		panic("natsactions: WithCodec: nil codec")
	}
	return func(cfg *config) { cfg.codec = c }
}

// WithSubjectPrefix sets the first token of every action's subject: action
// A is served and requested on "<prefix>.A" (server and client). Default:
// [DefaultSubjectPrefix]. Give each service of a cluster its own prefix.
// A prefix that is empty or holds a space or a wildcard panics; dots are
// allowed ("billing.actions").
func WithSubjectPrefix(prefix string) Option {
	if !validPrefix(prefix) {
		panic(fmt.Sprintf("natsactions: WithSubjectPrefix(%q): not a subject without wildcards", prefix))
	}
	return func(cfg *config) { cfg.prefix = prefix }
}

// WithTimeout sets how long a remote invocation waits for its reply when
// the caller's context has no deadline (client). Default:
// [DefaultTimeout]. A context with a deadline is never extended nor
// shortened by it. A timeout ≤ 0 panics.
func WithTimeout(d time.Duration) Option {
	if d <= 0 {
		panic("natsactions: WithTimeout: timeout must be positive")
	}
	return func(cfg *config) { cfg.timeout = d }
}

// WithServiceName sets the micro service's name, as discovery ($SRV.PING,
// $SRV.INFO, $SRV.STATS) lists it (server). Default: [DefaultServiceName].
// micro accepts letters, digits, '-' and '_'; another name fails
// [NewServer].
func WithServiceName(name string) Option {
	return func(cfg *config) { cfg.name = name }
}

// WithVersion sets the micro service's version, a semantic version (server).
// Default: "0.0.0".
func WithVersion(v string) Option { return func(cfg *config) { cfg.version = v } }

// WithDescription sets the micro service's description (server). Default: "".
func WithDescription(d string) Option { return func(cfg *config) { cfg.description = d } }

// WithQueueGroup sets the queue group of the endpoints (server): replicas
// in the same group share the requests, each request going to one of them.
// Default: "q", micro's.
func WithQueueGroup(q string) Option { return func(cfg *config) { cfg.queueGroup = q } }

// WithConcurrency sets how many requests a server runs at once, across all
// its endpoints (server). Default: [DefaultConcurrency]. A request beyond
// the limit waits in its subscription's pending buffer, in order, while its
// deadline runs. n < 1 panics.
func WithConcurrency(n int) Option {
	if n < 1 {
		panic("natsactions: WithConcurrency: n must be at least 1")
	}
	return func(cfg *config) { cfg.concurrency = n }
}

// WithErrorHandler sets what a server does with the errors that have no
// caller to go to (server): a reply that could not be sent, a panic in the
// server's own code or its codec, an asynchronous error of the service's
// subscriptions (a slow consumer). It is called from the goroutine that
// met the error and must be safe for concurrent use. Default: logged with
// log/slog at level Error.
func WithErrorHandler(h func(error)) Option {
	if h == nil {
		panic("natsactions: WithErrorHandler: nil handler")
	}
	return func(cfg *config) { cfg.onError = h }
}
