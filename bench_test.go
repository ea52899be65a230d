package actions_test

// Benchmarks of what an invocation costs, each next to its baseline in the
// same binary so that ratios are taken under the same conditions:
//
//	BenchmarkInvoke/scenario=<s>/impl=<direct|actions|typed>
//	BenchmarkUnusedFeature/feature=<f>/scenario=<bare|chain1>
//	BenchmarkFeature/feature=<f>
//	BenchmarkScale/actions=<n>
//	BenchmarkRegister/actions=10000/listeners=10
//
// impl=direct calls the very functions the actions run, from slices held by
// the call site: no lookup, no lock, no bookkeeping. It is the physical floor
// the ratios are taken against. Every listener and body does one counted
// increment on a *benchPayload, and every benchmark checks the counts after
// its loop, so nothing can be optimised away and a broken chain shows.
//
// The loops are b.N loops, not b.Loop: with a -cpu list, Go 1.26's testing
// measures a b.Loop benchmark's first run before it sets GOMAXPROCS, so the
// procs=1 rows would silently run at the previous GOMAXPROCS.
//
// Every benchmark also passes with -benchtime=1x, which is how the test
// suite runs them so they cannot rot; none of them asserts a timing.

import (
	"context"
	"errors"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/go-actions/actions"
)

// benchPayload is the payload of every benchmarked invocation: a pointer to a
// small struct, padded to a cache line so that the payloads of the parallel
// benchmarks never share one.
type benchPayload struct {
	before, body, after, extra int64
	_                          [64 - 4*8]byte
}

const benchAction = "Navigate"

var (
	errBenchReason = errors.New("not now")
	// errBenchAbort is made once: a listener that aborts with a fixed reason
	// returns the same error every time, so that the abort benchmarks count
	// the library's allocations, not the listener's. BenchmarkFeature's
	// abort-fresh measures a listener that calls Abort on every call.
	errBenchAbort = actions.Abort(errBenchReason)
)

// The untyped stages. Top-level functions: no closure, no allocation when
// they are stored in a func value.

func benchBefore(_ context.Context, p any) error {
	p.(*benchPayload).before++
	return nil
}

func benchAfter(_ context.Context, p any) error {
	p.(*benchPayload).after++
	return nil
}

func benchExtra(_ context.Context, p any) error {
	p.(*benchPayload).extra++
	return nil
}

func benchAborter(_ context.Context, p any) error {
	p.(*benchPayload).before++
	return errBenchAbort
}

func benchBody(_ context.Context, p any) (any, error) {
	p.(*benchPayload).body++
	return p, nil
}

// The typed stages, for impl=typed.

func benchBeforeT(_ context.Context, p *benchPayload) error {
	p.before++
	return nil
}

func benchAfterT(_ context.Context, p *benchPayload) error {
	p.after++
	return nil
}

func benchAborterT(_ context.Context, p *benchPayload) error {
	p.before++
	return errBenchAbort
}

func benchBodyT(_ context.Context, p *benchPayload) (*benchPayload, error) {
	p.body++
	return p, nil
}

// benchScenario is the shape of an action: how many before- and
// after-listeners it has and whether an aborting before-listener comes first.
type benchScenario struct {
	name          string
	before, after int
	abort         bool
}

var (
	scBare   = benchScenario{name: "bare"}
	scChain1 = benchScenario{name: "chain1", before: 1, after: 1}
	scChain8 = benchScenario{name: "chain8", before: 8, after: 8}
	scAbort  = benchScenario{name: "abort", after: 1, abort: true}
)

// check fails b unless n invocations of sc (plus extra runs of the churn
// listener, at most one per invocation) left exactly these counts on p.
func (sc benchScenario) check(tb testing.TB, p *benchPayload, n int) {
	tb.Helper()
	before, body, after := int64(sc.before*n), int64(n), int64(sc.after*n)
	if sc.abort {
		before, body, after = int64(n), 0, 0
	}
	if p.before != before || p.body != body || p.after != after || p.extra > int64(n) {
		tb.Fatalf("%s after %d invocations: before=%d body=%d after=%d extra=%d, want %d/%d/%d and extra <= %d",
			sc.name, n, p.before, p.body, p.after, p.extra, before, body, after, n)
	}
}

// checkErr fails b unless err is what the last invocation of sc returns.
func (sc benchScenario) checkErr(tb testing.TB, err error) {
	tb.Helper()
	if sc.abort {
		if !errors.Is(err, actions.ErrAborted) || !errors.Is(err, errBenchReason) {
			tb.Fatalf("%s: got %v, want an abort with reason %v", sc.name, err, errBenchReason)
		}
		return
	}
	if err != nil {
		tb.Fatalf("%s: %v", sc.name, err)
	}
}

// benchDirect is impl=direct: the action's functions in slices held by the
// call site, called in lifecycle order.
type benchDirect struct {
	before []actions.Listener
	body   actions.Body
	after  []actions.Listener
}

func newBenchDirect(sc benchScenario) *benchDirect {
	d := &benchDirect{body: benchBody}
	if sc.abort {
		d.before = append(d.before, benchAborter)
	}
	for range sc.before {
		d.before = append(d.before, benchBefore)
	}
	for range sc.after {
		d.after = append(d.after, benchAfter)
	}
	return d
}

func (d *benchDirect) call(ctx context.Context, p any) (any, error) {
	for _, l := range d.before {
		if err := l(ctx, p); err != nil {
			return nil, err
		}
	}
	res, err := d.body(ctx, p)
	if err != nil {
		return nil, err
	}
	for _, l := range d.after {
		_ = l(ctx, p) // after-listener errors do not change the outcome
	}
	return res, nil
}

// newBenchRegistry returns a registry with benchAction set up as sc says,
// through the untyped API.
func newBenchRegistry(tb testing.TB, sc benchScenario, opts ...actions.Option) *actions.Registry {
	tb.Helper()
	reg := actions.New(opts...)
	addBenchAction(tb, reg, benchAction, sc)
	return reg
}

func addBenchAction(tb testing.TB, reg *actions.Registry, name string, sc benchScenario, opts ...actions.ActionOption) {
	tb.Helper()
	if _, err := reg.RegisterAction(name, benchBody, opts...); err != nil {
		tb.Fatal(err)
	}
	if sc.abort {
		reg.AddListener("before"+name, benchAborter)
	}
	for range sc.before {
		reg.AddListener("before"+name, benchBefore)
	}
	for range sc.after {
		reg.AddListener("after"+name, benchAfter)
	}
}

// newBenchTyped returns a typed handle on benchAction of a new registry, set
// up as sc says through the typed API.
func newBenchTyped(tb testing.TB, sc benchScenario) actions.Action[*benchPayload, *benchPayload] {
	tb.Helper()
	act := actions.Typed[*benchPayload, *benchPayload](actions.New(), benchAction)
	if _, err := act.Register(benchBodyT); err != nil {
		tb.Fatal(err)
	}
	if sc.abort {
		act.Before(benchAborterT)
	}
	for range sc.before {
		act.Before(benchBeforeT)
	}
	for range sc.after {
		act.After(benchAfterT)
	}
	return act
}

// benchCall is one synchronous invocation of an implementation.
type benchCall func(ctx context.Context, p *benchPayload) error

// benchImpls returns the implementations of sc, baseline first.
func benchImpls(tb testing.TB, sc benchScenario) []struct {
	name string
	call benchCall
} {
	d := newBenchDirect(sc)
	reg := newBenchRegistry(tb, sc)
	act := newBenchTyped(tb, sc)
	return []struct {
		name string
		call benchCall
	}{
		{"direct", func(ctx context.Context, p *benchPayload) error {
			_, err := d.call(ctx, p)
			return err
		}},
		// By name on every call, as a user of the untyped API writes it.
		{"actions", func(ctx context.Context, p *benchPayload) error {
			_, err := reg.Call(ctx, benchAction, p)
			return err
		}},
		{"typed", func(ctx context.Context, p *benchPayload) error {
			_, err := act.Call(ctx, p)
			return err
		}},
	}
}

// runSync is the measured loop of a synchronous benchmark.
func runSync(b *testing.B, sc benchScenario, call benchCall) {
	ctx := context.Background()
	p := new(benchPayload)
	var err error
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err = call(ctx, p); (err != nil) != sc.abort {
			b.Fatalf("%s: invocation returned %v", sc.name, err)
		}
	}
	b.StopTimer()
	sc.checkErr(b, err)
	sc.check(b, p, b.N)
}

// BenchmarkInvoke measures one invocation per scenario against its baseline:
//
//   - bare, chain1, chain8, abort: a synchronous call (Registry.Call by name,
//     Action.Call for typed) against direct calls of the same functions;
//   - async: chain1 through InvokeAction and Future.Wait against a raw
//     goroutine and channel hand-off running the direct chain, the floor for
//     a future;
//   - parallel: chain1 under b.RunParallel, one payload per goroutine;
//   - churn: chain1 while another goroutine keeps adding and removing a
//     before-listener on the same action (churns/op says how many pairs ran
//     per invocation). It needs GOMAXPROCS >= 2 and has no direct baseline,
//     since a direct chain cannot change while it runs: compare it with
//     chain1.
func BenchmarkInvoke(b *testing.B) {
	for _, sc := range []benchScenario{scBare, scChain1, scChain8, scAbort} {
		b.Run("scenario="+sc.name, func(b *testing.B) {
			for _, impl := range benchImpls(b, sc) {
				b.Run("impl="+impl.name, func(b *testing.B) { runSync(b, sc, impl.call) })
			}
		})
	}
	b.Run("scenario=async", benchAsync)
	b.Run("scenario=parallel", benchParallel)
	b.Run("scenario=churn", benchChurn)
}

func benchAsync(b *testing.B) {
	sc := scChain1
	d := newBenchDirect(sc)
	reg := newBenchRegistry(b, sc)
	act := newBenchTyped(b, sc)
	type result struct {
		val any
		err error
	}
	impls := []struct {
		name string
		call benchCall
	}{
		// What a future costs at least: a goroutine, and a channel to hand its
		// outcome back.
		{"direct", func(ctx context.Context, p *benchPayload) error {
			ch := make(chan result, 1)
			go func() {
				v, err := d.call(ctx, p)
				ch <- result{v, err}
			}()
			r := <-ch
			return r.err
		}},
		{"actions", func(ctx context.Context, p *benchPayload) error {
			_, err := reg.InvokeAction(ctx, benchAction, p).Wait(ctx)
			return err
		}},
		{"typed", func(ctx context.Context, p *benchPayload) error {
			_, err := act.Invoke(ctx, p).Wait(ctx)
			return err
		}},
	}
	for _, impl := range impls {
		b.Run("impl="+impl.name, func(b *testing.B) { runSync(b, sc, impl.call) })
	}
}

func benchParallel(b *testing.B) {
	sc := scChain1
	for _, impl := range benchImpls(b, sc) {
		b.Run("impl="+impl.name, func(b *testing.B) {
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				p := new(benchPayload)
				n := 0
				for pb.Next() {
					if err := impl.call(ctx, p); err != nil {
						b.Errorf("invocation returned %v", err)
						return
					}
					n++
				}
				sc.check(b, p, n)
			})
		})
	}
}

// startChurn keeps adding and removing a before-listener of benchAction
// until stop is called, which returns the number of add+remove pairs. It
// returns once the first pair is done, so that the churn overlaps the
// measured loop even when that loop is a single invocation.
func startChurn(reg *actions.Registry) (stop func() int64) {
	var (
		pairs atomic.Int64
		quit  atomic.Bool
		wg    sync.WaitGroup
	)
	first := make(chan struct{})
	wg.Go(func() {
		for !quit.Load() {
			remove := reg.AddListener("before"+benchAction, benchExtra)
			remove()
			if pairs.Add(1) == 1 {
				close(first)
			}
			runtime.Gosched()
		}
	})
	<-first
	return func() int64 {
		quit.Store(true)
		wg.Wait()
		return pairs.Load()
	}
}

func benchChurn(b *testing.B) {
	sc := scChain1
	impls := []struct {
		name string
		reg  func() (*actions.Registry, benchCall)
	}{
		{"actions", func() (*actions.Registry, benchCall) {
			reg := newBenchRegistry(b, sc)
			return reg, func(ctx context.Context, p *benchPayload) error {
				_, err := reg.Call(ctx, benchAction, p)
				return err
			}
		}},
		{"typed", func() (*actions.Registry, benchCall) {
			act := newBenchTyped(b, sc)
			return act.Registry(), func(ctx context.Context, p *benchPayload) error {
				_, err := act.Call(ctx, p)
				return err
			}
		}},
	}
	for _, impl := range impls {
		b.Run("impl="+impl.name, func(b *testing.B) {
			if runtime.GOMAXPROCS(0) < 2 {
				// With one P the churner runs only when the scheduler happens
				// to switch to it: how much churn is measured would be luck.
				b.Skip("churn needs GOMAXPROCS >= 2")
			}
			reg, call := impl.reg()
			ctx := context.Background()
			p := new(benchPayload)
			b.ReportAllocs()
			stop := startChurn(reg)
			b.ResetTimer()
			for range b.N {
				if err := call(ctx, p); err != nil {
					b.Fatalf("invocation returned %v", err)
				}
			}
			b.StopTimer()
			pairs := stop()
			b.ReportMetric(float64(pairs)/float64(b.N), "churns/op")
			sc.check(b, p, b.N)
			// The extra listener is gone: it must not run any more.
			extra := p.extra
			if err := call(ctx, p); err != nil || p.extra != extra {
				b.Fatalf("after churn: err=%v, extra listener ran %d times", err, p.extra-extra)
			}
		})
	}
}

// noopObserver is an Observer that does nothing, to measure what observing
// costs the library.
type noopObserver struct{}

func (noopObserver) InvocationBegin(ctx context.Context, _ actions.Invocation) context.Context {
	return ctx
}
func (noopObserver) InvocationEnd(context.Context, actions.Invocation, actions.Outcome) {}

// noopInFlightObserver also sees the in-flight window.
type noopInFlightObserver struct{ noopObserver }

func (noopInFlightObserver) InFlightBegin(context.Context, actions.Invocation) {}
func (noopInFlightObserver) InFlightEnd(context.Context, actions.Invocation)   {}

func benchKey(any) string { return "k" }

// BenchmarkUnusedFeature shows that a feature costs nothing to an action
// that does not use it: the measured action is the same plain bare or chain1
// action in every case, while the feature is in use elsewhere (on another
// action of the same registry, or on another registry). Compare each row
// with feature=none.
func BenchmarkUnusedFeature(b *testing.B) {
	const other = "Other"
	features := []struct {
		name  string
		setup func(tb testing.TB, reg *actions.Registry)
		opts  []actions.Option
	}{
		{name: "none"},
		{name: "block-other", setup: func(tb testing.TB, reg *actions.Registry) {
			addBenchAction(tb, reg, other, scChain1)
			reg.BlockAction(other, nil)
		}},
		{name: "dedupe-other", setup: func(tb testing.TB, reg *actions.Registry) {
			addBenchAction(tb, reg, other, scChain1, actions.Deduplicate(benchKey, actions.SharePending))
		}},
		{name: "replace-other", setup: func(tb testing.TB, reg *actions.Registry) {
			addBenchAction(tb, reg, other, scChain1)
			reg.ReplaceAction(other, func(ctx context.Context, p any, original actions.Body) (any, error) {
				return original(ctx, p)
			})
		}},
		{name: "update-other", setup: func(tb testing.TB, reg *actions.Registry) {
			addBenchAction(tb, reg, other, scChain1, actions.UpdatePayload(func(_ context.Context, p any) (any, error) { return p, nil }))
		}},
		{name: "concurrent-other", setup: func(tb testing.TB, reg *actions.Registry) {
			addBenchAction(tb, reg, other, scChain8, actions.Concurrent(true))
		}},
		{name: "priority-other", setup: func(tb testing.TB, reg *actions.Registry) {
			addBenchAction(tb, reg, other, scBare)
			for i := range 8 {
				reg.AddListener("before"+other, benchBefore, actions.Priority(i))
			}
		}},
		{name: "observer-other-registry", setup: func(tb testing.TB, _ *actions.Registry) {
			observed := actions.New(actions.WithObserver(noopInFlightObserver{}))
			addBenchAction(tb, observed, benchAction, scChain1)
			if _, err := observed.Call(context.Background(), benchAction, new(benchPayload)); err != nil {
				tb.Fatal(err)
			}
		}},
		// An error handler is configured but no after-listener fails.
		{name: "error-handler", opts: []actions.Option{actions.WithErrorHandler(func(context.Context, error) {})}},
	}
	for _, f := range features {
		b.Run("feature="+f.name, func(b *testing.B) {
			for _, sc := range []benchScenario{scBare, scChain1} {
				b.Run("scenario="+sc.name, func(b *testing.B) {
					reg := newBenchRegistry(b, sc, f.opts...)
					if f.setup != nil {
						f.setup(b, reg)
					}
					runSync(b, sc, func(ctx context.Context, p *benchPayload) error {
						_, err := reg.Call(ctx, benchAction, p)
						return err
					})
				})
			}
		})
	}
}

// BenchmarkFeature states what each feature costs where it is used. Each row
// is chain1 with the feature on, unless its name says chain8; compare with
// BenchmarkInvoke's actions row of the same scenario (feature=none repeats
// chain1 here for convenience).
func BenchmarkFeature(b *testing.B) {
	identity := func(_ context.Context, p any) (any, error) { return p, nil }
	passOriginal := func(ctx context.Context, p any, original actions.Body) (any, error) {
		return original(ctx, p)
	}
	features := []struct {
		name string
		sc   benchScenario
		// build sets up the action and returns the call to measure.
		build func(tb testing.TB, sc benchScenario) benchCall
	}{
		{name: "none", sc: scChain1},
		{name: "observer", sc: scChain1, build: func(tb testing.TB, sc benchScenario) benchCall {
			return callOn(newBenchRegistry(tb, sc, actions.WithObserver(noopObserver{})))
		}},
		{name: "observer-inflight", sc: scChain1, build: func(tb testing.TB, sc benchScenario) benchCall {
			return callOn(newBenchRegistry(tb, sc, actions.WithObserver(noopInFlightObserver{})))
		}},
		{name: "dedupe-reject", sc: scChain1, build: func(tb testing.TB, sc benchScenario) benchCall {
			return callOn(newBenchRegistryWith(tb, sc, actions.Deduplicate(benchKey, actions.RejectPending)))
		}},
		{name: "dedupe-share", sc: scChain1, build: func(tb testing.TB, sc benchScenario) benchCall {
			return callOn(newBenchRegistryWith(tb, sc, actions.Deduplicate(benchKey, actions.SharePending)))
		}},
		// A block that is evaluated and does not match.
		{name: "block-miss", sc: scChain1, build: func(tb testing.TB, sc benchScenario) benchCall {
			reg := newBenchRegistry(tb, sc)
			reg.BlockAction(benchAction, func(p any) bool { return p.(*benchPayload).body < 0 })
			return callOn(reg)
		}},
		// A block that matches: the invocation is rejected before any stage.
		{name: "block-hit", sc: benchScenario{name: "blocked"}, build: func(tb testing.TB, sc benchScenario) benchCall {
			reg := newBenchRegistry(tb, scChain1)
			reg.BlockAction(benchAction, func(p any) bool { return p.(*benchPayload).body >= 0 })
			call := callOn(reg)
			return func(ctx context.Context, p *benchPayload) error {
				if err := call(ctx, p); !errors.Is(err, actions.ErrBlocked) {
					return errors.Join(errors.New("want ErrBlocked"), err)
				}
				return nil
			}
		}},
		// The listeners of a phase run at once, so they count atomically.
		{name: "concurrent-chain8", sc: scChain8, build: func(tb testing.TB, sc benchScenario) benchCall {
			reg := actions.New()
			if _, err := reg.RegisterAction(benchAction, benchBody, actions.Concurrent(true)); err != nil {
				tb.Fatal(err)
			}
			for range sc.before {
				reg.AddListener("before"+benchAction, func(_ context.Context, p any) error {
					atomic.AddInt64(&p.(*benchPayload).before, 1)
					return nil
				})
			}
			for range sc.after {
				reg.AddListener("after"+benchAction, func(_ context.Context, p any) error {
					atomic.AddInt64(&p.(*benchPayload).after, 1)
					return nil
				})
			}
			return callOn(reg)
		}},
		// Listeners added in the reverse of their priority order.
		{name: "priority-chain8", sc: scChain8, build: func(tb testing.TB, sc benchScenario) benchCall {
			reg := actions.New()
			if _, err := reg.RegisterAction(benchAction, benchBody); err != nil {
				tb.Fatal(err)
			}
			for i := range sc.before {
				reg.AddListener("before"+benchAction, benchBefore, actions.Priority(i))
			}
			for i := range sc.after {
				reg.AddListener("after"+benchAction, benchAfter, actions.Priority(i))
			}
			return callOn(reg)
		}},
		{name: "replace1", sc: scChain1, build: func(tb testing.TB, sc benchScenario) benchCall {
			reg := newBenchRegistry(tb, sc)
			reg.ReplaceAction(benchAction, passOriginal)
			return callOn(reg)
		}},
		{name: "replace3", sc: scChain1, build: func(tb testing.TB, sc benchScenario) benchCall {
			reg := newBenchRegistry(tb, sc)
			for range 3 {
				reg.ReplaceAction(benchAction, passOriginal)
			}
			return callOn(reg)
		}},
		{name: "update", sc: scChain1, build: func(tb testing.TB, sc benchScenario) benchCall {
			return callOn(newBenchRegistryWith(tb, sc, actions.UpdatePayload(identity)))
		}},
		{name: "typed-update", sc: scChain1, build: func(tb testing.TB, sc benchScenario) benchCall {
			act := actions.Typed[*benchPayload, *benchPayload](actions.New(), benchAction)
			upd := actions.UpdatePayloadOf(func(_ context.Context, p *benchPayload) (*benchPayload, error) { return p, nil })
			if _, err := act.Register(benchBodyT, upd); err != nil {
				tb.Fatal(err)
			}
			act.Before(benchBeforeT)
			act.After(benchAfterT)
			return func(ctx context.Context, p *benchPayload) error {
				_, err := act.Call(ctx, p)
				return err
			}
		}},
		// The caller's ctx can be cancelled: every cancellation check asks it.
		{name: "cancelable-ctx", sc: scChain1, build: func(tb testing.TB, sc benchScenario) benchCall {
			call := callOn(newBenchRegistry(tb, sc))
			ctx, cancel := context.WithCancel(context.Background())
			tb.Cleanup(cancel)
			return func(_ context.Context, p *benchPayload) error { return call(ctx, p) }
		}},
		// The body invokes a bare action with the ctx it received: two
		// invocations, one nested in the other.
		{name: "nested", sc: scChain1, build: func(tb testing.TB, sc benchScenario) benchCall {
			reg := actions.New()
			addBenchAction(tb, reg, "Inner", benchScenario{})
			if _, err := reg.RegisterAction(benchAction, func(ctx context.Context, p any) (any, error) {
				return reg.Call(ctx, "Inner", p) // nested: depth 2, counts the body
			}); err != nil {
				tb.Fatal(err)
			}
			reg.AddListener("before"+benchAction, benchBefore)
			reg.AddListener("after"+benchAction, benchAfter)
			return callOn(reg)
		}},
		// The aborting listener makes its abort error on every call.
		{name: "abort-fresh", sc: scAbort, build: func(tb testing.TB, sc benchScenario) benchCall {
			reg := actions.New()
			if _, err := reg.RegisterAction(benchAction, benchBody); err != nil {
				tb.Fatal(err)
			}
			reg.AddListener("before"+benchAction, func(_ context.Context, p any) error {
				p.(*benchPayload).before++
				return actions.Abort(errBenchReason)
			}, actions.Named("confirm"))
			reg.AddListener("after"+benchAction, benchAfter)
			return callOn(reg)
		}},
	}
	for _, f := range features {
		b.Run("feature="+f.name, func(b *testing.B) {
			build := f.build
			if build == nil {
				build = func(tb testing.TB, sc benchScenario) benchCall { return callOn(newBenchRegistry(tb, sc)) }
			}
			call := build(b, f.sc)
			if f.sc.name == "blocked" {
				// Nothing runs: only the error is checked, in call.
				ctx, p := context.Background(), new(benchPayload)
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					if err := call(ctx, p); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				if *p != (benchPayload{}) {
					b.Fatalf("a blocked invocation ran a stage: %+v", *p)
				}
				return
			}
			runSync(b, f.sc, call)
		})
	}
}

func newBenchRegistryWith(tb testing.TB, sc benchScenario, opts ...actions.ActionOption) *actions.Registry {
	tb.Helper()
	reg := actions.New()
	addBenchAction(tb, reg, benchAction, sc, opts...)
	return reg
}

func callOn(reg *actions.Registry) benchCall {
	return func(ctx context.Context, p *benchPayload) error {
		_, err := reg.Call(ctx, benchAction, p)
		return err
	}
}

// benchNames returns n distinct action names.
func benchNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = "Action" + strconv.Itoa(i)
	}
	return names
}

// BenchmarkScale measures chain1 on one action of a registry that holds 1 or
// 10,000 actions (each with its own chain1): the cost must not grow with the
// number of actions.
func BenchmarkScale(b *testing.B) {
	for _, n := range []int{1, 10_000} {
		b.Run("actions="+strconv.Itoa(n), func(b *testing.B) {
			reg := actions.New()
			names := benchNames(n)
			for _, name := range names {
				addBenchAction(b, reg, name, scChain1)
			}
			name := names[n/2]
			runSync(b, scChain1, func(ctx context.Context, p *benchPayload) error {
				_, err := reg.Call(ctx, name, p)
				return err
			})
		})
	}
}

// BenchmarkRegister measures building a registry of 10,000 actions with 10
// listeners each (5 before, 5 after): ns/op, B/op and allocs/op are per
// whole registry. It also reports the time per listener added and, measured
// once on a live heap after a collection, the memory a registry retains per
// registered action (with no listener) and per listener.
func BenchmarkRegister(b *testing.B) {
	const nActions, nListeners = 10_000, 10
	names := benchNames(nActions)
	build := func(reg *actions.Registry, listeners bool) {
		for _, name := range names {
			if !listeners {
				if _, err := reg.RegisterAction(name, benchBody); err != nil {
					b.Fatal(err)
				}
				continue
			}
			for i := range nListeners {
				if i%2 == 0 {
					reg.AddListener("before"+name, benchBefore)
				} else {
					reg.AddListener("after"+name, benchAfter)
				}
			}
		}
	}
	b.Run("actions=10000/listeners=10", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			reg := actions.New()
			build(reg, false)
			build(reg, true)
		}
		b.StopTimer()
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*nActions*nListeners), "ns/listener")

		heap := func() uint64 {
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			return ms.HeapAlloc
		}
		h0 := heap()
		reg := actions.New()
		build(reg, false)
		h1 := heap()
		build(reg, true)
		h2 := heap()
		// The registry must be live (and correct) when h2 is read.
		p := new(benchPayload)
		if _, err := reg.Call(context.Background(), names[nActions-1], p); err != nil || p.before != nListeners/2 || p.after != nListeners/2 {
			b.Fatalf("registry built wrong: err=%v payload=%+v", err, *p)
		}
		runtime.KeepAlive(reg)
		b.ReportMetric(float64(int64(h1)-int64(h0))/nActions, "retained-B/action")
		b.ReportMetric(float64(int64(h2)-int64(h1))/(nActions*nListeners), "retained-B/listener")
	})
}
