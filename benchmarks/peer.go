// Package benchmarks compares what one invocation of an action costs in
// github.com/go-actions/actions and in the libraries a Go user would
// otherwise pick, side by side in one test binary, in the spirit of zap's
// benchmarks.
//
// An action here is: before-listeners (one of which may abort), a body, then
// after-listeners. Each library is driven through the [Peer] interface by an
// adapter of its own (peer_<name>.go), written the way a user of that library
// would write the call site; the scenarios (invoke_test.go) and the
// correctness checks (peers_test.go) are shared, so every peer does the same
// work: one counted increment on a *Payload per listener and per body.
package benchmarks

import (
	"errors"
	"slices"
	"strings"
)

// Payload is what every invocation carries: a pointer to a small struct. It
// fills one 64-byte cache line so that the payloads of parallel goroutines
// never share one.
type Payload struct {
	Before int64 // one per before-listener run
	Body   int64 // one per body run
	After  int64 // one per after-listener run
	Extra  int64 // one per run of the churn scenario's extra listener

	// Halted is for peers whose listeners cannot stop an invocation: their
	// aborting listener sets it and their invoker checks (and clears) it.
	Halted bool

	_ [64 - 4*8 - 8]byte
}

// Work is what a listener or a body does to the payload.
type Work func(p *Payload)

// Kind says where a listener runs.
type Kind uint8

const (
	// Before runs before the body, in the order listeners were added.
	Before Kind = iota
	// After runs after the body.
	After
	// Aborting runs before the body like Before, then aborts the
	// invocation: the body and the after-listeners must not run, and the
	// invocation must report it.
	Aborting
)

func (k Kind) String() string { return [...]string{"before", "after", "aborting"}[k] }

// ErrHalted is what an invocation that a listener aborted returns, for
// peers whose library has no error of its own for it.
var ErrHalted = errors.New("benchmarks: invocation aborted by a before-listener")

// Peer is one library, driven as its users would drive it. Methods other than
// the returned invokers are called from one goroutine at a time, except that
// in the churn scenario Listen and the removal it returned run while
// invokers run, for peers whose Caps allow it.
type Peer interface {
	// Define makes action name with body w.
	Define(name string, w Work) error
	// Listen adds a listener of kind k that does w, and returns what removes
	// exactly that listener.
	Listen(name string, k Kind, w Work) (remove func() error, err error)
	// Invoker returns the call site of action name: it resolves once only
	// what the library lets a user resolve once, and invokes by name where
	// the library's API does. The returned func returns nil when the body
	// ran and an error when a listener aborted, and is safe for concurrent
	// use.
	Invoker(name string) (func(p *Payload) error, error)
}

// Caps are the facts about a peer that the shared checks and scenarios need.
type Caps struct {
	// AfterReversed: after-listeners run in the reverse of the order they
	// were added (middleware that does its work after calling next).
	AfterReversed bool
	// AbortRunsRest: an aborting listener cannot stop the before-listeners
	// added after it (it still stops the body and the after-listeners).
	AbortRunsRest bool
	// NoChurn, when set, says why listeners must not be added or removed
	// while the action is invoked; the churn scenario skips the peer.
	NoChurn string
	// How says in a line how an invocation is driven.
	How string
}

type peerDef struct {
	name string
	caps Caps
	make func() Peer
}

var peers []peerDef

// Baseline is the peer every ratio is taken against.
const Baseline = "direct"

// addPeer registers a peer; each adapter file calls it from init. Names
// appear in benchmark names as peer=<name>.
func addPeer(name string, caps Caps, make func() Peer) {
	if name == "" || strings.ContainsAny(name, " /=") {
		panic("benchmarks: bad peer name " + name)
	}
	for _, p := range peers {
		if p.name == name {
			panic("benchmarks: peer " + name + " added twice")
		}
	}
	peers = append(peers, peerDef{name, caps, make})
	// The baseline first, then by name: a stable order for the tables.
	slices.SortFunc(peers, func(a, b peerDef) int {
		switch {
		case a.name == b.name:
			return 0
		case a.name == Baseline:
			return -1
		case b.name == Baseline:
			return 1
		}
		return strings.Compare(a.name, b.name)
	})
}
