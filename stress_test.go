package actions

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The stress test runs rounds. In a round, stressInvokers goroutines invoke
// six actions (sync and async, typed and untyped, with the right and the
// wrong payload type) while churners register and unregister, add and remove
// listeners, push and remove replacement layers, block and unblock, remove
// all listeners of an event, and a closer closes the registry near the end.
// Nothing is asserted while the round runs, except by recording: every
// invocation, registration and removal is stamped with a tick of one global
// atomic counter, and the invariants are checked afterwards on the records.
//
// A tick taken after a call returned and a tick taken before another call
// starts order the two calls: if the first tick is smaller, the first call
// returned before the second started (the counter is sequentially
// consistent). That makes the checks exact, for example: a listener whose
// removal returned (tick r) before an invocation started (tick s > r) must not
// run in it (the package docs' Listeners); one added before the invocation
// started and not removed before it ended must run in it, exactly once, if
// the invocation succeeded.
//
// One round runs in CI. ACTIONS_STRESS_DURATION=5m (any time.ParseDuration
// value) repeats larger rounds until that much time has passed.

const (
	stressInvokers = 64
	stressWindow   = 4 // registrations a churner keeps alive at once
)

var errStressAbort = errors.New("stress abort")

// stressPayload is one invocation's record and its payload: stages write
// into it, the invoker fills in the outcome, the checks read it after the
// round.
type stressPayload struct {
	id     int
	kind   string // one of stressKinds
	action string

	// Behaviours chosen from id.
	abort, cancelMid, panicBefore, panicAfter, failAfter bool
	key                                                  string // D's de-duplication key
	cancel                                               context.CancelFunc

	s, e uint64 // ticks before the invocation started and after its outcome was known

	// Written by stages and the observer, read after the outcome is known.
	body, permBefore, permAfter, handled atomic.Int32
	begins, ends                         atomic.Int32
	updateTick, beforeTick               atomic.Uint64 // ticks in the payload update and the first before-listener
	afterTick, bodyTick                  atomic.Uint64 // ticks in the body and the first after-listener
	obsEnd                               atomic.Uint64 // tick in InvocationEnd
	shared                               atomic.Bool
	mu                                   sync.Mutex
	ran                                  map[int]int // tracked registration id -> runs
	endErr                               error       // what InvocationEnd saw, guarded by mu

	res any
	err error
}

func (p *stressPayload) mark(id int) {
	p.mu.Lock()
	if p.ran == nil {
		p.ran = make(map[int]int)
	}
	p.ran[id]++
	p.mu.Unlock()
}

// stressTracked is a listener, replacement layer or block whose lifetime is
// stamped.
type stressTracked struct {
	id     int
	action string
	kind   string // "before", "after", "layer", "block"
	once   bool
	mod    int // a block matches the payloads whose id is a multiple of mod

	addStart, addEnd, remStart, remEnd uint64 // remStart == 0: never removed

	remove func() bool
}

// stressInterval is one registration of U.
type stressInterval struct {
	regStart, regEnd, unregStart, unregEnd uint64
}

// stressPanic is the value S2's after-listener panics with.
type stressPanic struct{ p *stressPayload }

// stressAfterError is what S3's after-listener fails with.
type stressAfterError struct{ p *stressPayload }

func (e stressAfterError) Error() string { return "stress after-listener failed" }

type stressRound struct {
	reg   *Registry
	typed Action[*stressPayload, int]
	ops   int // invocations per invoker

	clock atomic.Uint64
	ids   atomic.Int64

	pace    chan struct{} // one token per invocation: churners do one change per token
	stop    chan struct{} // closed when the invokers are done
	closeAt chan struct{} // closed when the closer should close
	doneOps atomic.Int64

	mu        sync.Mutex
	tracked   []*stressTracked
	intervals []stressInterval
	payloads  []*stressPayload
	futures   []*Future[any]
	tfutures  []*Future[int]
	mutations int
	wrong     int // invocations of T with a payload of the wrong type

	wrongBegins, wrongEnds atomic.Int32
	closeStart, closeEnd   uint64

	failMu   sync.Mutex
	failures []string
	failN    int
}

func (r *stressRound) tick() uint64 { return r.clock.Add(1) }

// fail records a violated invariant; the round reports them at the end.
func (r *stressRound) fail(format string, args ...any) {
	r.failMu.Lock()
	defer r.failMu.Unlock()
	r.failN++
	if len(r.failures) < 20 {
		r.failures = append(r.failures, fmt.Sprintf(format, args...))
	}
}

// The observer stamps every invocation's end, counts begins and ends, and
// keeps what the end saw.
func (r *stressRound) InvocationBegin(ctx context.Context, inv Invocation) context.Context {
	if p, ok := inv.Payload.(*stressPayload); ok {
		p.begins.Add(1)
	} else {
		r.wrongBegins.Add(1)
	}
	return ctx
}

func (r *stressRound) InvocationEnd(_ context.Context, inv Invocation, out Outcome) {
	p, ok := inv.Payload.(*stressPayload)
	if !ok {
		r.wrongEnds.Add(1)
		return
	}
	p.ends.Add(1)
	p.obsEnd.Store(r.tick())
	p.shared.Store(out.Shared)
	p.mu.Lock()
	p.endErr = out.Err
	p.mu.Unlock()
}

func (r *stressRound) handleError(_ context.Context, err error) {
	var ae stressAfterError
	var pe *PanicError
	switch {
	case errors.As(err, &ae):
		ae.p.handled.Add(1)
	case errors.As(err, &pe):
		if sp, ok := pe.Value.(stressPanic); ok {
			sp.p.handled.Add(1)
			return
		}
		r.fail("error handler: unexpected panic %v", err)
	default:
		r.fail("error handler: unexpected error %v", err)
	}
}

func newStressRound(t *testing.T, ops int) *stressRound {
	r := &stressRound{
		ops:     ops,
		pace:    make(chan struct{}, 256),
		stop:    make(chan struct{}),
		closeAt: make(chan struct{}),
	}
	r.reg = New(WithObserver(r), WithErrorHandler(r.handleError))
	reg := r.reg
	sp := func(p any) *stressPayload { return p.(*stressPayload) }

	// S1: sequential phases; tracked before- and after-listeners, layers and
	// blocks are churned. The first before-listener stamps the phase and
	// may cancel the caller's ctx; the next one may abort.
	mustRegister(t, reg, "S1", func(_ context.Context, p any) (any, error) {
		sp(p).bodyTick.Store(r.tick())
		sp(p).body.Add(1)
		return sp(p).id, nil
	}, UpdatePayload(func(_ context.Context, p any) (any, error) {
		// Between the lookup and the before phase: a snapshot read at the
		// lookup instead of at the phase would show here, so widen the gap.
		runtime.Gosched()
		sp(p).updateTick.Store(r.tick())
		return p, nil
	}))
	reg.AddListener("beforeS1", func(_ context.Context, p any) error {
		sp(p).beforeTick.Store(r.tick())
		sp(p).permBefore.Add(1)
		if sp(p).cancelMid {
			sp(p).cancel()
		}
		return nil
	}, Priority(100))
	reg.AddListener("beforeS1", func(_ context.Context, p any) error {
		sp(p).permBefore.Add(1)
		if sp(p).abort {
			return Abort(errStressAbort)
		}
		return nil
	}, Priority(50), Named("aborter"))
	reg.AddListener("beforeS1", func(_ context.Context, p any) error {
		sp(p).permBefore.Add(1)
		return nil
	})
	reg.AddListener("afterS1", func(_ context.Context, p any) error {
		sp(p).afterTick.Store(r.tick())
		sp(p).permAfter.Add(1)
		return nil
	}, Priority(100))

	// S2: concurrent phases; a before-listener may panic, an after-listener
	// may panic (which goes to the error handler).
	mustRegister(t, reg, "S2", func(_ context.Context, p any) (any, error) {
		sp(p).body.Add(1)
		return sp(p).id, nil
	}, Concurrent(true))
	reg.AddListener("beforeS2", func(_ context.Context, p any) error {
		sp(p).permBefore.Add(1)
		if sp(p).panicBefore {
			panic("stress panic")
		}
		return nil
	})
	reg.AddListener("beforeS2", func(_ context.Context, p any) error {
		sp(p).permBefore.Add(1)
		return nil
	})
	reg.AddListener("afterS2", func(_ context.Context, p any) error {
		sp(p).permAfter.Add(1)
		if sp(p).panicAfter {
			panic(stressPanic{sp(p)})
		}
		return nil
	})

	// T: typed; tracked typed before-listeners and layers are churned.
	r.typed = Typed[*stressPayload, int](reg, "T")
	_, err := r.typed.Register(func(_ context.Context, p *stressPayload) (int, error) {
		p.bodyTick.Store(r.tick())
		p.body.Add(1)
		return p.id, nil
	})
	require.NoError(t, err)
	r.typed.Before(func(_ context.Context, p *stressPayload) error {
		p.beforeTick.Store(r.tick())
		p.permBefore.Add(1)
		return nil
	}, Priority(100))
	r.typed.After(func(_ context.Context, p *stressPayload) error {
		p.afterTick.Store(r.tick())
		p.permAfter.Add(1)
		return nil
	}, Priority(100))

	// U: registered and unregistered by a churner; its listener stays.
	reg.AddListener("beforeU", func(_ context.Context, p any) error {
		sp(p).permBefore.Add(1)
		return nil
	})

	// D: shares the in-flight outcome by key; the body yields so that
	// invocations overlap.
	mustRegister(t, reg, "D", func(_ context.Context, p any) (any, error) {
		sp(p).body.Add(1)
		for range 3 {
			runtime.Gosched()
		}
		return p, nil
	}, Deduplicate(func(p any) string { return sp(p).key }, SharePending))
	reg.AddListener("beforeD", func(_ context.Context, p any) error {
		sp(p).permBefore.Add(1)
		return nil
	})

	// S3: an after-listener may fail; a churner adds before-listeners and
	// removes them all at once.
	mustRegister(t, reg, "S3", func(_ context.Context, p any) (any, error) {
		sp(p).body.Add(1)
		return sp(p).id, nil
	})
	reg.AddListener("afterS3", func(_ context.Context, p any) error {
		sp(p).permAfter.Add(1)
		if sp(p).failAfter {
			return stressAfterError{sp(p)}
		}
		return nil
	})
	return r
}

// stressKinds are the ways an invoker invokes, in the order it cycles
// through them.
var stressKinds = []string{
	"S1.Call", "S1.InvokeAction", "S2.Call", "S2.InvokeAction",
	"T.typed.Call", "T.typed.Invoke", "T.untyped.Call", "T.wrong_type",
	"U.Call", "U.InvokeAction", "D.Call", "D.InvokeAction", "S3.Call",
}

func (r *stressRound) invoker(i int) {
	for j := range r.ops {
		kind := stressKinds[(i*7+j)%len(stressKinds)]
		id := int(r.ids.Add(1))
		p := &stressPayload{id: id, kind: kind, action: kind[:2]}
		if kind[0] == 'T' || kind[0] == 'U' || kind[0] == 'D' {
			p.action = kind[:1]
		}
		ctx, cancel := context.WithCancel(context.Background())
		p.cancel = cancel
		switch p.action {
		case "S1":
			p.abort = id%17 == 3
			p.cancelMid = id%23 == 7
		case "S2":
			p.panicBefore = id%19 == 5
			p.panicAfter = id%7 == 0
		case "S3":
			p.failAfter = id%5 == 0
		case "D":
			p.key = strconv.Itoa(id % 3)
		}
		r.invoke(ctx, p)
		cancel()
		if r.doneOps.Add(1) == int64(r.ops*stressInvokers*17/20) {
			close(r.closeAt)
		}
		select {
		case r.pace <- struct{}{}:
		default:
		}
	}
}

// invoke runs one invocation and records its outcome. An async one is
// waited for by a second goroutine too: both must see the same outcome.
func (r *stressRound) invoke(ctx context.Context, p *stressPayload) {
	p.s = r.tick()
	switch p.kind {
	case "T.typed.Call":
		p.res, p.err = r.typed.Call(ctx, p)
	case "T.typed.Invoke":
		f := r.typed.Invoke(ctx, p)
		p.res, p.err = r.waitTwice(p, func(ctx context.Context) (any, error) { return f.Wait(ctx) }, f.Done())
		r.mu.Lock()
		r.tfutures = append(r.tfutures, f)
		r.mu.Unlock()
	case "T.wrong_type":
		p.res, p.err = r.reg.Call(ctx, "T", "wrong")
	case "S1.Call", "S2.Call", "T.untyped.Call", "U.Call", "D.Call", "S3.Call":
		p.res, p.err = r.reg.Call(ctx, p.action, p)
	default:
		f := r.reg.InvokeAction(ctx, p.action, p)
		p.res, p.err = r.waitTwice(p, f.Wait, f.Done())
		r.mu.Lock()
		r.futures = append(r.futures, f)
		r.mu.Unlock()
	}
	p.e = r.tick()
	r.mu.Lock()
	if p.kind == "T.wrong_type" {
		// Action: refused before any stage, never a panic.
		var pte *PayloadTypeError
		if !errors.Is(p.err, ErrClosed) && !errors.As(p.err, &pte) {
			r.fail("%d %s: got %v, want a payload type error", p.id, p.kind, p.err)
		}
		r.wrong++
	} else {
		r.payloads = append(r.payloads, p)
	}
	r.mu.Unlock()
}

func (r *stressRound) waitTwice(p *stressPayload, wait func(context.Context) (any, error), done <-chan struct{}) (any, error) {
	type outcome struct {
		res any
		err error
	}
	other := make(chan outcome, 1)
	go func() {
		res, err := wait(context.Background())
		other <- outcome{res, err}
	}()
	res, err := wait(context.Background())
	o := <-other
	if res != o.res || err != o.err {
		r.fail("%d %s: two waiters saw (%v, %v) and (%v, %v)", p.id, p.kind, res, err, o.res, o.err)
	}
	select {
	case <-done:
	default:
		r.fail("%d %s: Wait returned before Done was closed", p.id, p.kind)
	}
	return res, err
}

// churn calls change once per token of pace until the invokers are done.
func (r *stressRound) churn(change func(rng *rand.Rand)) {
	rng := rand.New(rand.NewPCG(rand.Uint64(), 0))
	for {
		select {
		case <-r.stop:
			return
		case <-r.pace:
		}
		change(rng)
		r.mu.Lock()
		r.mutations++
		r.mu.Unlock()
	}
}

// churnTracked keeps up to stressWindow tracked registrations made by add
// alive, removing one at random when the window is full.
func (r *stressRound) churnTracked(action string, add func(rng *rand.Rand, x *stressTracked) func() bool, kinds ...string) func(*rand.Rand) {
	var live []*stressTracked
	return func(rng *rand.Rand) {
		if len(live) == stressWindow {
			i := rng.IntN(len(live))
			x := live[i]
			live = append(live[:i], live[i+1:]...)
			x.remStart = r.tick()
			removed := x.remove()
			x.remEnd = r.tick()
			if !removed && !x.once {
				r.fail("%s %d: removal removed nothing", x.kind, x.id)
			}
			return
		}
		x := &stressTracked{id: int(r.ids.Add(1)), action: action, kind: kinds[rng.IntN(len(kinds))]}
		x.addStart = r.tick()
		x.remove = add(rng, x)
		x.addEnd = r.tick()
		live = append(live, x)
		r.mu.Lock()
		r.tracked = append(r.tracked, x)
		r.mu.Unlock()
	}
}

func (r *stressRound) trackedListener(x *stressTracked) Listener {
	return func(_ context.Context, p any) error {
		p.(*stressPayload).mark(x.id)
		return nil
	}
}

func (r *stressRound) churners() []func(*rand.Rand) {
	reg := r.reg
	priorities := []int{-1, 0, 0, 1, 20}
	listener := func(action string) func(*rand.Rand, *stressTracked) func() bool {
		return func(rng *rand.Rand, x *stressTracked) func() bool {
			opts := []ListenerOption{Priority(priorities[rng.IntN(len(priorities))])}
			if rng.IntN(8) == 0 {
				x.once = true
				opts = append(opts, Once())
			}
			return reg.AddListener(x.kind+action, r.trackedListener(x), opts...)
		}
	}
	layer := func(_ *rand.Rand, x *stressTracked) func() bool {
		return reg.ReplaceAction("S1", func(ctx context.Context, p any, original Body) (any, error) {
			p.(*stressPayload).mark(x.id)
			return original(ctx, p)
		})
	}
	block := func(rng *rand.Rand, x *stressTracked) func() bool {
		x.mod = []int{2, 3, 5}[rng.IntN(3)]
		return reg.BlockAction("S1", func(p any) bool {
			sp, ok := p.(*stressPayload)
			return ok && sp.id%x.mod == 0
		})
	}
	typedBefore := func(_ *rand.Rand, x *stressTracked) func() bool {
		return r.typed.Before(func(_ context.Context, p *stressPayload) error {
			p.mark(x.id)
			return nil
		})
	}
	typedLayer := func(_ *rand.Rand, x *stressTracked) func() bool {
		return r.typed.Replace(func(ctx context.Context, p *stressPayload, original func(context.Context, *stressPayload) (int, error)) (int, error) {
			p.mark(x.id)
			return original(ctx, p)
		})
	}
	typedMixed := func(rng *rand.Rand, x *stressTracked) func() bool {
		if x.kind == "layer" {
			return typedLayer(rng, x)
		}
		return typedBefore(rng, x)
	}

	// U is registered and unregistered in turn.
	var unregisterU func() bool
	registerU := func(*rand.Rand) {
		if unregisterU == nil {
			iv := stressInterval{regStart: r.tick()}
			u, err := reg.RegisterAction("U", func(_ context.Context, p any) (any, error) {
				p.(*stressPayload).body.Add(1)
				return p.(*stressPayload).id, nil
			})
			iv.regEnd = r.tick()
			if err != nil {
				r.fail("register U: %v", err)
				return
			}
			unregisterU = u
			r.mu.Lock()
			r.intervals = append(r.intervals, iv)
			r.mu.Unlock()
			return
		}
		r.mu.Lock()
		iv := &r.intervals[len(r.intervals)-1]
		r.mu.Unlock()
		start := r.tick()
		ok := unregisterU()
		end := r.tick()
		r.mu.Lock()
		iv.unregStart, iv.unregEnd = start, end
		r.mu.Unlock()
		if !ok {
			r.fail("unregister U removed nothing")
		}
		unregisterU = nil
	}

	// S3's before-listeners come and go all at once.
	added := 0
	removeAll := func(rng *rand.Rand) {
		if added < 3 && rng.IntN(2) == 0 {
			reg.AddListener("beforeS3", func(context.Context, any) error { return nil })
			added++
			return
		}
		if n := reg.RemoveAllListeners("beforeS3"); n != added {
			r.fail("RemoveAllListeners(beforeS3) removed %d, want %d", n, added)
		}
		added = 0
	}

	return []func(*rand.Rand){
		r.churnTracked("S1", listener("S1"), "before"),
		r.churnTracked("S1", listener("S1"), "after"),
		r.churnTracked("S1", layer, "layer"),
		r.churnTracked("S1", block, "block"),
		r.churnTracked("S2", listener("S2"), "before", "after"),
		r.churnTracked("T", typedMixed, "before", "layer"),
		registerU,
		removeAll,
	}
}

// run runs the round: invokers, churners and the closer, then waits for all.
func (r *stressRound) run() {
	var invokers, others sync.WaitGroup
	for i := range stressInvokers {
		invokers.Go(func() { r.invoker(i) })
	}
	for _, c := range r.churners() {
		others.Go(func() { r.churn(c) })
	}
	others.Go(func() {
		<-r.closeAt
		r.closeStart = r.tick()
		if err := r.reg.Close(context.Background()); err != nil {
			r.fail("Close: %v", err)
		}
		r.closeEnd = r.tick()
	})
	invokers.Wait()
	close(r.stop)
	others.Wait()
	if err := r.reg.Close(context.Background()); err != nil {
		r.fail("second Close: %v", err)
	}
}

// check verifies the invariants on the records of a finished round.
func (r *stressRound) check(t *testing.T) map[string]int {
	total := r.ops * stressInvokers
	require.Equal(t, total, len(r.payloads)+r.wrong, "every invocation was recorded")
	assert.Equal(t, int32(r.wrong), r.wrongBegins.Load(), "observer begins of wrongly typed invocations")
	assert.Equal(t, int32(r.wrong), r.wrongEnds.Load(), "observer ends of wrongly typed invocations")
	require.NotZero(t, r.closeEnd, "the closer ran")

	byAction := map[string][]*stressTracked{}
	for _, x := range r.tracked {
		byAction[x.action] = append(byAction[x.action], x)
	}
	onceRuns := map[int]int{}
	onceMustRun := map[int]bool{}

	// Outcomes seen, by kind; every kind must have succeeded at least once
	// and every planned failure must have been seen, or the round proved
	// little.
	seen := map[string]int{}

	for _, p := range r.payloads {
		where := fmt.Sprintf("invocation %d (%s)", p.id, p.kind)
		err := p.err
		var e *Error
		errors.As(err, &e)
		if n := p.begins.Load(); n != 1 {
			r.fail("%s: observer saw %d begins", where, n)
		}
		if n := p.ends.Load(); n != 1 {
			r.fail("%s: observer saw %d ends", where, n)
		}
		p.mu.Lock()
		endErr, ran := p.endErr, p.ran
		p.mu.Unlock()
		if endErr != err {
			r.fail("%s: observer saw error %v, caller %v", where, endErr, err)
		}

		// Close waits for every accepted invocation and refuses the
		// ones that start after it began.
		closed := errors.Is(err, ErrClosed)
		notFound := errors.Is(err, ErrActionNotFound)
		if !closed && !notFound && p.obsEnd.Load() > r.closeEnd {
			r.fail("%s: accepted, but ended (tick %d) after Close returned (tick %d)", where, p.obsEnd.Load(), r.closeEnd)
		}
		if closed && p.e < r.closeStart {
			r.fail("%s: refused as closed before Close started", where)
		}
		if p.s > r.closeEnd && !closed && !notFound {
			r.fail("%s: started after Close returned, got %v", where, err)
		}

		// What ran, by outcome.
		want := func(body, before, after int32) {
			if got := p.body.Load(); got != body {
				r.fail("%s: body ran %d times, want %d (err %v)", where, got, body, err)
			}
			if got := p.permBefore.Load(); got != before {
				r.fail("%s: %d permanent before-listeners ran, want %d (err %v)", where, got, before, err)
			}
			if got := p.permAfter.Load(); got != after {
				r.fail("%s: %d permanent after-listeners ran, want %d (err %v)", where, got, after, err)
			}
		}
		nothing := func() {
			want(0, 0, 0)
			if len(ran) != 0 {
				r.fail("%s: tracked registrations ran although nothing should: %v (err %v)", where, ran, err)
			}
		}
		handled := func(want bool) {
			n := p.handled.Load()
			if want && n != 1 || !want && n != 0 {
				r.fail("%s: error handler got %d errors for it, want %v", where, n, want)
			}
		}
		outcome := "ok"
		switch {
		case closed:
			outcome = "closed"
			nothing()
		case p.action == "S1":
			switch {
			case err == nil:
				if p.abort || p.cancelMid {
					r.fail("%s: succeeded though it should have stopped", where)
				}
				want(1, 3, 1)
				if p.res != p.id {
					r.fail("%s: result %v, want %d", where, p.res, p.id)
				}
			case errors.Is(err, ErrBlocked):
				outcome = "blocked"
				nothing()
			case p.cancelMid:
				outcome = "cancelled"
				if e == nil || e.Kind != nil || e.Stage != StageBefore || !errors.Is(err, context.Canceled) {
					r.fail("%s: cancelled mid-phase, got %v", where, err)
				}
				want(0, 1, 0)
			case p.abort:
				outcome = "aborted"
				if !errors.Is(err, ErrAborted) || !errors.Is(err, errStressAbort) || e == nil || e.Listener != "aborter" {
					r.fail("%s: aborted, got %v", where, err)
				}
				want(0, 2, 0)
			default:
				r.fail("%s: unexpected error %v", where, err)
			}
			r.checkBlocks(p, byAction["S1"], where)
		case p.action == "S2":
			switch {
			case err == nil:
				if p.panicBefore {
					r.fail("%s: succeeded though a before-listener panicked", where)
				}
				want(1, 2, 1)
				handled(p.panicAfter)
			case p.panicBefore:
				outcome = "panicked"
				if e == nil || e.Kind != ErrFailed || e.Stage != StageBefore || !errors.Is(err, ErrPanicked) || errors.Is(err, ErrAborted) {
					r.fail("%s: before-listener panicked, got %v", where, err)
				}
				// A concurrent phase starts every listener.
				want(0, 2, 0)
				handled(false)
			default:
				r.fail("%s: unexpected error %v", where, err)
			}
		case p.action == "T":
			if err != nil {
				r.fail("%s: unexpected error %v", where, err)
				break
			}
			want(1, 1, 1)
			if p.res != p.id {
				r.fail("%s: result %v, want %d", where, p.res, p.id)
			}
		case p.action == "U":
			switch {
			case err == nil:
				want(1, 1, 0)
			case notFound:
				outcome = "not_found"
				nothing()
			default:
				r.fail("%s: unexpected error %v", where, err)
			}
			r.checkRegistered(p, where)
		case p.action == "D":
			if err != nil {
				r.fail("%s: unexpected error %v", where, err)
				break
			}
			r.checkShared(p, where)
			if p.shared.Load() {
				outcome = "shared"
			}
		case p.action == "S3":
			if err != nil {
				r.fail("%s: unexpected error %v", where, err)
				break
			}
			want(1, 0, 1)
			handled(p.failAfter)
		}
		seen[p.kind+"="+outcome]++

		// Listeners and "Replacing actions": the tracked listeners and layers of
		// p's action. Each phase reads its snapshot at some point between two
		// ticks: lo, taken before the phase can have started, and hi, taken after
		// it read its snapshot. For S1 and T, stages stamp ticks: the payload
		// update (S1), the first before-listener (highest priority, so it runs
		// first), the body (under every layer, so after the stack was read), the
		// first after-listener. S2's concurrent phases have no first listener, so
		// the invocation's own bounds serve.
		updateTick, beforeTick := p.updateTick.Load(), p.beforeTick.Load()
		afterTick, bodyTick := p.afterTick.Load(), p.bodyTick.Load()
		bounds := func(kind string) (lo, hi uint64) {
			lo, hi = p.s, p.e
			switch kind {
			case "before":
				lo, hi = stressTickOr(updateTick, lo), stressTickOr(beforeTick, hi)
			case "layer":
				lo, hi = stressTickOr(beforeTick, lo), stressTickOr(bodyTick, hi)
			case "after":
				lo, hi = stressTickOr(bodyTick, lo), stressTickOr(afterTick, hi)
			}
			return lo, hi
		}
		for _, x := range byAction[p.action] {
			if x.kind == "block" {
				continue
			}
			runs := ran[x.id]
			if x.once {
				onceRuns[x.id] += runs
			}
			if runs > 1 {
				r.fail("%s: %s %d ran %d times", where, x.kind, x.id, runs)
			}
			lo, hi := bounds(x.kind)
			if runs > 0 && x.remEnd != 0 && x.remEnd < lo {
				r.fail("%s: %s %d ran though its removal returned (tick %d) before its phase started (tick %d)", where, x.kind, x.id, x.remEnd, lo)
			}
			if runs > 0 && x.addStart > hi {
				r.fail("%s: %s %d ran though it was added (tick %d) after its phase read its snapshot (tick %d)", where, x.kind, x.id, x.addStart, hi)
			}
			inSnapshot := x.addEnd < lo && (x.remStart == 0 || x.remStart > hi)
			if err == nil && inSnapshot {
				if x.once {
					onceMustRun[x.id] = true
				} else if runs != 1 {
					r.fail("%s: %s %d was registered for its whole phase (ticks %d-%d) but ran %d times", where, x.kind, x.id, lo, hi, runs)
				}
			}
		}
	}
	for _, x := range r.tracked {
		if !x.once {
			continue
		}
		if onceRuns[x.id] > 1 || onceMustRun[x.id] && onceRuns[x.id] != 1 {
			r.fail("once %s %d ran %d times (must run: %v)", x.kind, x.id, onceRuns[x.id], onceMustRun[x.id])
		}
	}

	// Every future completed, and gives the same outcome once more.
	for _, f := range r.futures {
		select {
		case <-f.Done():
		default:
			r.fail("a future is not done")
		}
	}
	for _, f := range r.tfutures {
		select {
		case <-f.Done():
		default:
			r.fail("a typed future is not done")
		}
	}
	for _, name := range []string{"S1", "S2", "T", "U", "D", "S3"} {
		assert.Zero(t, r.reg.InFlight(name), "in flight: %s", name)
	}

	r.failMu.Lock()
	defer r.failMu.Unlock()
	for _, f := range r.failures {
		t.Error(f)
	}
	if r.failN > len(r.failures) {
		t.Errorf("... and %d more violations", r.failN-len(r.failures))
	}
	return seen
}

// stressMissing returns the outcome kinds that the rounds so far have not
// exercised: every kind must have succeeded and every planned failure must
// have happened, or the rounds proved less than they claim.
func stressMissing(seen map[string]int) []string {
	var missing []string
	for _, k := range []string{
		"S1.Call=ok", "S1.InvokeAction=ok", "S2.Call=ok", "S2.InvokeAction=ok",
		"T.typed.Call=ok", "T.typed.Invoke=ok", "T.untyped.Call=ok", "U.Call=ok", "D.Call=ok", "S3.Call=ok",
	} {
		if seen[k] == 0 {
			missing = append(missing, k)
		}
	}
	for _, k := range []string{"aborted", "cancelled", "panicked", "blocked", "not_found", "shared", "closed"} {
		n := 0
		for kind, c := range seen {
			if strings.HasSuffix(kind, k) && kind != k {
				n += c
			}
		}
		if n == 0 {
			missing = append(missing, "ended "+k)
		}
	}
	return missing
}

// checkBlocks: BlockAction, a block in place for the whole invocation blocks
// it; a blocked invocation had a matching block in place at some point.
func (r *stressRound) checkBlocks(p *stressPayload, tracked []*stressTracked, where string) {
	blocked := errors.Is(p.err, ErrBlocked)
	explained := false
	for _, x := range tracked {
		if x.kind != "block" || p.id%x.mod != 0 {
			continue
		}
		if x.addStart < p.e && (x.remEnd == 0 || x.remEnd > p.s) {
			explained = true
		}
		if x.addEnd < p.s && (x.remStart == 0 || x.remStart > p.e) && !blocked && !errors.Is(p.err, ErrClosed) {
			r.fail("%s: block %d (mod %d) was in place for the whole invocation, got %v", where, x.id, x.mod, p.err)
		}
	}
	if blocked && !explained {
		r.fail("%s: blocked without a matching block in place", where)
	}
}

// checkRegistered: Lifecycle step 1 and RegisterAction, U's outcome agrees
// with its registrations.
func (r *stressRound) checkRegistered(p *stressPayload, where string) {
	var maybe, surely bool
	for _, iv := range r.intervals {
		if iv.regStart < p.e && (iv.unregEnd == 0 || iv.unregEnd > p.s) {
			maybe = true
		}
		if iv.regEnd < p.s && (iv.unregStart == 0 || iv.unregStart > p.e) {
			surely = true
		}
	}
	switch {
	case p.err == nil && !maybe:
		r.fail("%s: succeeded while U was not registered", where)
	case errors.Is(p.err, ErrActionNotFound) && surely:
		r.fail("%s: not found while U was registered for the whole invocation", where)
	}
}

// checkShared: Deduplicate, a sharing invocation runs no stage and gets the
// outcome of a leader with its key that was in flight at the same time.
func (r *stressRound) checkShared(p *stressPayload, where string) {
	if !p.shared.Load() {
		if p.res != p {
			r.fail("%s: led, but its result is another's", where)
		}
		if p.body.Load() != 1 || p.permBefore.Load() != 1 {
			r.fail("%s: led, but body ran %d times and its listener %d", where, p.body.Load(), p.permBefore.Load())
		}
		return
	}
	leader, ok := p.res.(*stressPayload)
	switch {
	case !ok:
		r.fail("%s: shared a result that is no invocation's: %v", where, p.res)
	case leader == p || leader.shared.Load() || leader.key != p.key:
		r.fail("%s: shared with %d (shared %v, key %q), not a leader of key %q", where, leader.id, leader.shared.Load(), leader.key, p.key)
	case !(leader.s < p.e && p.s < leader.e):
		r.fail("%s: shared with %d, which was not in flight at the same time", where, leader.id)
	case p.body.Load() != 0 || p.permBefore.Load() != 0:
		r.fail("%s: shared, but ran stages of its own", where)
	}
}

// stressTickOr returns tick, or def when tick was never taken.
func stressTickOr(tick, def uint64) uint64 {
	if tick == 0 {
		return def
	}
	return tick
}

// TestStress is the stress test, under load, of the package docs' Lifecycle,
// Listeners, "Replacing actions", "Blocking, de-duplication, in flight",
// Concurrency and Observability.
func TestStress(t *testing.T) {
	duration := time.Duration(0)
	if v := os.Getenv("ACTIONS_STRESS_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		require.NoError(t, err, "ACTIONS_STRESS_DURATION")
		duration = d
	}
	ops := 40 // per invoker, in CI
	if duration > 0 {
		ops = 250
	}
	start := time.Now()
	var rounds, invocations, mutations int
	seen := map[string]int{}
	for {
		rounds++
		var failed bool
		t.Run(fmt.Sprintf("Concurrency_round=%d", rounds), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newStressRound(t, ops)
				r.run()
				for k, n := range r.check(t) {
					seen[k] += n
				}
				invocations += len(r.payloads) + r.wrong
				mutations += r.mutations
			})
			failed = t.Failed()
		})
		// A short round may, by the luck of scheduling, miss an outcome
		// kind: more rounds, up to a bound, until every kind was seen.
		covered := len(stressMissing(seen)) == 0 || rounds >= 20
		if failed || (duration == 0 && covered) || (duration > 0 && time.Since(start) >= duration) {
			break
		}
	}
	assert.Empty(t, stressMissing(seen), "outcome kinds no round exercised")
	t.Logf("%d rounds of %d invokers (+8 churners, 1 closer, a second waiter per async invocation): %d invocations, %d registry changes, %v",
		rounds, stressInvokers, invocations, mutations, time.Since(start).Round(time.Millisecond))
}
