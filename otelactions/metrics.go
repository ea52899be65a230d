package otelactions

import (
	"sync"
	"sync/atomic"

	"github.com/go-actions/actions"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
)

// numStatuses is the number of statuses an outcome may have.
const numStatuses = int(actions.StatusCancelled) + 1

// maxCachedActions bounds the attribute sets kept per action name. Names come
// from callers: an invocation of an unknown name is rejected, but observed
// under that name, so the names seen are not bounded by the registered ones.
const maxCachedActions = 1024

// instruments are the observer's metrics.
type instruments struct {
	invocations   metric.Int64Counter
	duration      metric.Float64Histogram
	inFlight      metric.Int64UpDownCounter
	afterFailures metric.Int64Counter

	// sets holds each action name's *actionSets, made on first use, so
	// that recording a measurement builds no attribute set.
	sets  sync.Map
	nsets atomic.Int64 // entries in sets, at most maxCachedActions
}

// actionSets are the measurement options of one action name, as the
// slices the instruments' variadic methods take, so that a measurement
// allocates none.
type actionSets struct {
	action []metric.AddOption                 // ActionKey
	add    [numStatuses][]metric.AddOption    // ActionKey and OutcomeKey
	record [numStatuses][]metric.RecordOption // the same set
}

func newInstruments(mp metric.MeterProvider) *instruments {
	m := mp.Meter(ScopeName)
	var in instruments
	var err error
	in.invocations, err = m.Int64Counter(InvocationsMetric,
		metric.WithDescription("Invocations of actions that ended, by action and outcome."),
		metric.WithUnit("{invocation}"))
	handle(err)
	in.duration, err = m.Float64Histogram(DurationMetric,
		metric.WithDescription("Duration of invocations of actions, from begin to end, by action and outcome."),
		metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	handle(err)
	in.inFlight, err = m.Int64UpDownCounter(InFlightMetric,
		metric.WithDescription("Invocations of actions in flight, from the start of the before phase until the future completes, by action."),
		metric.WithUnit("{invocation}"))
	handle(err)
	in.afterFailures, err = m.Int64Counter(AfterListenerFailuresMetric,
		metric.WithDescription("After-listeners that failed, by action."),
		metric.WithUnit("{failure}"))
	handle(err)
	// A provider that returned an error may also have returned no
	// instrument: fall back to one that records nothing.
	if in.invocations == nil {
		in.invocations = noop.Int64Counter{}
	}
	if in.duration == nil {
		in.duration = noop.Float64Histogram{}
	}
	if in.inFlight == nil {
		in.inFlight = noop.Int64UpDownCounter{}
	}
	if in.afterFailures == nil {
		in.afterFailures = noop.Int64Counter{}
	}
	return &in
}

// handle reports an instrument's creation error to the global error handler,
// as OpenTelemetry instrumentation does.
func handle(err error) {
	if err != nil {
		otel.Handle(err)
	}
}

// setsOf returns the measurement options of action.
func (in *instruments) setsOf(action string) *actionSets {
	if s, ok := in.sets.Load(action); ok {
		return s.(*actionSets)
	}
	s := newActionSets(action)
	if in.nsets.Load() >= maxCachedActions {
		return s
	}
	if got, loaded := in.sets.LoadOrStore(action, s); loaded {
		return got.(*actionSets)
	}
	in.nsets.Add(1)
	return s
}

func newActionSets(action string) *actionSets {
	a := ActionKey.String(action)
	s := &actionSets{action: []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(a))}}
	for st := range numStatuses {
		opt := outcomeOption(action, actions.Status(st))
		s.add[st], s.record[st] = []metric.AddOption{opt}, []metric.RecordOption{opt}
	}
	return s
}

func outcomeOption(action string, st actions.Status) metric.MeasurementOption {
	return metric.WithAttributeSet(attribute.NewSet(ActionKey.String(action), OutcomeKey.String(st.String())))
}

// outcome returns the options of action ended with st.
func (s *actionSets) outcome(action string, st actions.Status) ([]metric.AddOption, []metric.RecordOption) {
	if int(st) < numStatuses {
		return s.add[st], s.record[st]
	}
	opt := outcomeOption(action, st) // a status this package does not know yet
	return []metric.AddOption{opt}, []metric.RecordOption{opt}
}
