package benchmarks

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// BenchmarkInvoke/scenario=<scenario>/peer=<peer>: every peer runs every
// scenario through the same code. The loops are b.N loops, not b.Loop: with
// a -cpu list, Go 1.26 measures a b.Loop benchmark's first run before it
// sets GOMAXPROCS, so its procs=1 rows would run at another GOMAXPROCS.

const actionName = "AcceptTask"

// The work of listeners and bodies in the scenarios. Distinct top-level
// functions: no closure to allocate, and each has its own code pointer
// (EventBus removes a handler by code pointer).
func beforeWork(p *Payload) { p.Before++ }
func bodyWork(p *Payload)   { p.Body++ }
func afterWork(p *Payload)  { p.After++ }
func extraWork(p *Payload)  { p.Extra++ }

type scenario struct {
	name          string
	before, after int  // listeners doing beforeWork, afterWork
	abort         bool // an aborting listener (doing beforeWork) comes first
	parallel      bool // invoked from GOMAXPROCS goroutines (b.RunParallel)
	churn         bool // another goroutine keeps adding and removing a before-listener
}

var scenarios = []scenario{
	{name: "bare"},
	{name: "chain1", before: 1, after: 1},
	{name: "chain8", before: 8, after: 8},
	{name: "abort", after: 1, abort: true},
	{name: "parallel", before: 1, after: 1, parallel: true},
	{name: "churn", before: 1, after: 1, churn: true},
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// setup returns a new instance of the peer with the scenario's action, and
// the action's invoker.
func (sc scenario) setup(tb testing.TB, def peerDef) (Peer, func(*Payload) error) {
	tb.Helper()
	peer := def.make()
	must(tb, peer.Define(actionName, bodyWork))
	listen := func(k Kind, w Work) {
		_, err := peer.Listen(actionName, k, w)
		must(tb, err)
	}
	if sc.abort {
		listen(Aborting, beforeWork)
	}
	for range sc.before {
		listen(Before, beforeWork)
	}
	for range sc.after {
		listen(After, afterWork)
	}
	invoke, err := peer.Invoker(actionName)
	must(tb, err)
	return peer, invoke
}

// verify fails tb unless n invocations of the scenario left exactly its
// counts on p (and the churn listener ran at most once per invocation).
func (sc scenario) verify(tb testing.TB, p *Payload, n int) {
	tb.Helper()
	before, body, after := sc.before*n, n, sc.after*n
	if sc.abort {
		before, body, after = n, 0, 0
	}
	if p.Before != int64(before) || p.Body != int64(body) || p.After != int64(after) || p.Extra > int64(n) {
		tb.Fatalf("%s, %d invocations: before=%d body=%d after=%d extra=%d, want %d/%d/%d, extra <= %d",
			sc.name, n, p.Before, p.Body, p.After, p.Extra, before, body, after, n)
	}
}

// churn keeps adding and removing a before-listener doing extraWork until
// stop is called, which returns how many add+remove pairs ran. It returns
// after the first pair, so the churn overlaps even a one-invocation loop.
func churn(tb testing.TB, peer Peer) (stop func() int64) {
	var (
		pairs atomic.Int64
		quit  atomic.Bool
		fail  atomic.Pointer[error]
		wg    sync.WaitGroup
	)
	started := make(chan struct{})
	wg.Go(func() {
		defer close(started) // also on failure, so the caller never hangs
		for !quit.Load() {
			remove, err := peer.Listen(actionName, Before, extraWork)
			if err == nil {
				err = remove()
			}
			if err != nil {
				fail.Store(&err)
				return
			}
			if pairs.Add(1) == 1 {
				started <- struct{}{}
			}
			runtime.Gosched()
		}
	})
	<-started
	return func() int64 {
		quit.Store(true)
		wg.Wait()
		if err := fail.Load(); err != nil {
			tb.Fatalf("churn: %v", *err)
		}
		return pairs.Load()
	}
}

func BenchmarkInvoke(b *testing.B) {
	for _, sc := range scenarios {
		b.Run("scenario="+sc.name, func(b *testing.B) {
			for _, def := range peers {
				b.Run("peer="+def.name, func(b *testing.B) { sc.bench(b, def) })
			}
		})
	}
}

func (sc scenario) bench(b *testing.B, def peerDef) {
	if sc.churn {
		if def.caps.NoChurn != "" {
			b.Skipf("no churn: %s", def.caps.NoChurn)
		}
		if runtime.GOMAXPROCS(0) < 2 {
			// With one P the churner runs only when the scheduler switches
			// to it: how much churn gets measured would be luck.
			b.Skip("churn needs GOMAXPROCS >= 2")
		}
	}
	peer, invoke := sc.setup(b, def)
	b.ReportAllocs()
	if sc.parallel {
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			p, n := new(Payload), 0
			for pb.Next() {
				if err := invoke(p); err != nil {
					b.Errorf("invoke: %v", err)
					return
				}
				n++
			}
			sc.verify(b, p, n)
		})
		return
	}
	var stop func() int64
	if sc.churn {
		stop = churn(b, peer)
	}
	p := new(Payload)
	b.ResetTimer()
	for range b.N {
		if err := invoke(p); (err != nil) != sc.abort {
			b.Fatalf("invoke returned %v; abort scenario: %v", err, sc.abort)
		}
	}
	b.StopTimer()
	if stop != nil {
		b.ReportMetric(float64(stop())/float64(b.N), "churns/op")
	}
	sc.verify(b, p, b.N)
}
