package benchmarks

import (
	"slices"
	"strconv"
	"sync"
	"testing"
)

// TestPeers checks every adapter against the same expectations, so that the
// benchmarks compare peers doing the same work. Run it with -race too.
func TestPeers(t *testing.T) {
	if len(peers) == 0 || peers[0].name != Baseline {
		t.Fatalf("the baseline peer %q must be registered", Baseline)
	}
	for _, def := range peers {
		t.Run(def.name, func(t *testing.T) {
			t.Logf("%s: %s", def.name, def.caps.How)
			t.Run("counts", func(t *testing.T) { testCounts(t, def) })
			t.Run("order", func(t *testing.T) { testOrder(t, def) })
			t.Run("abort", func(t *testing.T) { testAbort(t, def) })
			t.Run("isolation", func(t *testing.T) { testIsolation(t, def) })
			t.Run("remove", func(t *testing.T) { testRemove(t, def) })
			t.Run("concurrent", func(t *testing.T) { testConcurrent(t, def) })
			t.Run("churn", func(t *testing.T) { testChurn(t, def) })
		})
	}
}

// trace records what ran, in order; safe for concurrent use.
type trace struct {
	mu   sync.Mutex
	tags []string
}

func (tr *trace) work(tag string) Work {
	return func(*Payload) {
		tr.mu.Lock()
		tr.tags = append(tr.tags, tag)
		tr.mu.Unlock()
	}
}

// take returns what ran since the last take.
func (tr *trace) take() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tags := tr.tags
	tr.tags = nil
	return tags
}

// testCounts: each sequential benchmark scenario leaves the counts it
// claims, invocation after invocation on one payload.
func testCounts(t *testing.T, def peerDef) {
	for _, sc := range scenarios {
		if sc.parallel || sc.churn {
			continue // testConcurrent and testChurn
		}
		t.Run(sc.name, func(t *testing.T) {
			_, invoke := sc.setup(t, def)
			p := new(Payload)
			for i := range 3 {
				if err := invoke(p); (err != nil) != sc.abort {
					t.Fatalf("invocation %d returned %v; abort scenario: %v", i, err, sc.abort)
				}
			}
			sc.verify(t, p, 3)
		})
	}
}

// testOrder: before-listeners in the order added, the body, then the
// after-listeners in the order added (reversed where the peer says so).
func testOrder(t *testing.T, def peerDef) {
	for _, n := range []int{1, 3} {
		t.Run("chain"+strconv.Itoa(n), func(t *testing.T) {
			tr, peer := &trace{}, def.make()
			must(t, peer.Define(actionName, tr.work("body")))
			var befores, afters []string
			for i := range n {
				tag := "b" + strconv.Itoa(i)
				_, err := peer.Listen(actionName, Before, tr.work(tag))
				must(t, err)
				befores = append(befores, tag)
			}
			for i := range n {
				tag := "a" + strconv.Itoa(i)
				_, err := peer.Listen(actionName, After, tr.work(tag))
				must(t, err)
				afters = append(afters, tag)
			}
			if def.caps.AfterReversed {
				slices.Reverse(afters)
			}
			want := slices.Concat(befores, []string{"body"}, afters)
			invoke, err := peer.Invoker(actionName)
			must(t, err)
			for run := range 2 {
				must(t, invoke(new(Payload)))
				if got := tr.take(); !slices.Equal(got, want) {
					t.Fatalf("run %d ran %v, want %v", run, got, want)
				}
			}
		})
	}
}

// testAbort: an aborting listener stops the body and the after-listeners
// (and the before-listeners after it, unless the peer cannot), the
// invocation reports it, and it leaves nothing behind: the next invocation
// of another action with the same payload runs in full.
func testAbort(t *testing.T, def peerDef) {
	tr, peer := &trace{}, def.make()
	must(t, peer.Define(actionName, tr.work("body")))
	must(t, peer.Define("Other", tr.work("other-body")))
	for _, l := range []struct {
		action, tag string
		kind        Kind
	}{
		{actionName, "abort", Aborting},
		{actionName, "late-before", Before},
		{actionName, "after", After},
		{"Other", "other-after", After},
	} {
		_, err := peer.Listen(l.action, l.kind, tr.work(l.tag))
		must(t, err)
	}
	invoke, err := peer.Invoker(actionName)
	must(t, err)
	other, err := peer.Invoker("Other")
	must(t, err)
	want := []string{"abort"}
	if def.caps.AbortRunsRest {
		want = append(want, "late-before")
	}
	p := new(Payload)
	for run := range 2 {
		if err := invoke(p); err == nil {
			t.Fatalf("run %d: the aborted invocation returned no error", run)
		}
		if got := tr.take(); !slices.Equal(got, want) {
			t.Fatalf("run %d: the aborted invocation ran %v, want %v", run, got, want)
		}
		must(t, other(p))
		if got := tr.take(); !slices.Equal(got, []string{"other-body", "other-after"}) {
			t.Fatalf("run %d: after an abort, the next invocation ran %v", run, got)
		}
	}
}

// testIsolation: the listeners of one action never run for another.
func testIsolation(t *testing.T, def peerDef) {
	tr, peer := &trace{}, def.make()
	for _, name := range []string{"A", "B"} {
		must(t, peer.Define(name, tr.work(name+".body")))
		_, err := peer.Listen(name, Before, tr.work(name+".before"))
		must(t, err)
		_, err = peer.Listen(name, After, tr.work(name+".after"))
		must(t, err)
	}
	for _, name := range []string{"B", "A"} {
		invoke, err := peer.Invoker(name)
		must(t, err)
		must(t, invoke(new(Payload)))
		want := []string{name + ".before", name + ".body", name + ".after"}
		if got := tr.take(); !slices.Equal(got, want) {
			t.Fatalf("invoking %s ran %v, want %v", name, got, want)
		}
	}
}

// testRemove: a removal removes exactly its listener, of either kind. The
// listeners are distinct top-level funcs (see extraWork).
func testRemove(t *testing.T, def peerDef) {
	peer := def.make()
	must(t, peer.Define(actionName, bodyWork))
	removeExtra, err := peer.Listen(actionName, Before, extraWork)
	must(t, err)
	_, err = peer.Listen(actionName, Before, beforeWork)
	must(t, err)
	removeAfter, err := peer.Listen(actionName, After, afterWork)
	must(t, err)
	invoke, err := peer.Invoker(actionName)
	must(t, err)

	p := new(Payload)
	must(t, invoke(p))
	if *p != (Payload{Before: 1, Body: 1, After: 1, Extra: 1}) {
		t.Fatalf("before any removal: %+v", *p)
	}
	must(t, removeExtra())
	must(t, invoke(p))
	if *p != (Payload{Before: 2, Body: 2, After: 2, Extra: 1}) {
		t.Fatalf("after removing the extra before-listener: %+v", *p)
	}
	must(t, removeAfter())
	must(t, invoke(p))
	if *p != (Payload{Before: 3, Body: 3, After: 2, Extra: 1}) {
		t.Fatalf("after removing the after-listener: %+v", *p)
	}
}

// testConcurrent: concurrent invocations, each with its own payload, each
// run the whole chain exactly once.
func testConcurrent(t *testing.T, def peerDef) {
	sc := scenario{name: "chain1", before: 1, after: 1}
	_, invoke := sc.setup(t, def)
	const goroutines, each = 4, 200
	payloads := make([]Payload, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for range each {
				if err := invoke(&payloads[g]); err != nil {
					t.Errorf("invoke: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	for g := range payloads {
		sc.verify(t, &payloads[g], each)
	}
}

// testChurn: while listeners come and go, every invocation runs the
// permanent chain exactly once and the churned listener at most once, and
// once churn has stopped that listener runs no more.
func testChurn(t *testing.T, def peerDef) {
	if def.caps.NoChurn != "" {
		t.Skipf("no churn: %s", def.caps.NoChurn)
	}
	sc := scenario{name: "churn", before: 1, after: 1, churn: true}
	peer, invoke := sc.setup(t, def)
	stop := churn(t, peer)
	p := new(Payload)
	const n = 500
	for range n {
		must(t, invoke(p))
	}
	pairs := stop()
	sc.verify(t, p, n)
	extra := p.Extra
	must(t, invoke(p))
	if p.Extra != extra {
		t.Fatal("the churned listener still runs after its removal")
	}
	t.Logf("%d add/remove pairs during %d invocations; the extra listener ran %d times", pairs, n, extra)
}
