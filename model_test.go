package actions

// This file holds a reference model of the registry for FuzzModel: a small
// sequential interpreter of the package documentation, written
// with plain maps and slices and no concurrency, so that it can be checked by
// reading. FuzzModel runs the same operations on a real Registry and on the
// model and compares every outcome, call trace and inspectable state
// (Registered, Listeners, InFlight).
//
// Both sides describe what happened in one vocabulary:
//
//   - a call trace: each piece of user code records "tag(payload)" when it
//     runs, where the tag names the operation that registered it ("L3" is the
//     listener added by operation 3, "b0" the body registered by operation 0,
//     "r2" a replacement, "u0" a payload update, "k4" a block's match,
//     "key0" a de-duplication key, "n1" the first registration a stage
//     made); a body also records the action's in-flight count ("b0(1)@2"),
//     a stage that invokes records the outcome ("L3:call=..."), the error
//     handler records "EH <error>", and the observer, when there is one,
//     records what model.invoke describes;
//   - an outcome: "ok:<result>" or "err:<error>", where an error is written
//     E(action kind stage "listener" cause), and causes are err(tag) for an
//     error user code returned, aerr(tag) for one that matches ErrAborted,
//     abort(reason) for Abort(reason), panic(value) for a recovered panic,
//     another E(...) for a nested invocation's error, and join[a; b] for
//     joined errors.
//
// Invocations run one at a time, so the model leaves out what only
// concurrency shows: concurrent phases (the order of their calls is not
// deterministic), sharing an in-flight outcome (SharePending) between
// concurrent invocations, Once claimed by concurrent invocations, Close
// waiting for invocations in flight. Typed handles, panics in the error
// handler and in de-duplication keys, payloads that stages mutate, and the
// text of error messages are left out too; other tests and fuzz targets of
// the package cover them.

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// fuzzNames are the action names the operations refer to, by index.
var fuzzNames = [...]string{"A", "B", "C"}

// modelMaxDepth is the depth limit of the registries FuzzModel builds: small,
// so that recursive sequences reach it quickly.
const modelMaxDepth = 3

// modelBudget bounds the nested invocations of one top-level invocation, so
// that a sequence of self-invoking listeners and replacements that call their
// original twice stays small. Both sides count in the same order.
const modelBudget = 12

// opKind is the kind of one top-level operation.
type opKind uint8

const (
	opRegister  opKind = iota // RegisterAction, with a body, a payload update and de-duplication
	opUndo                    // call one of the handles returned so far
	opListen                  // AddListener
	opReplace                 // ReplaceAction
	opBlock                   // BlockAction
	opCall                    // Registry.Call
	opInvoke                  // Registry.InvokeAction then Future.Wait
	opRemoveAll               // RemoveAllListeners
	opClose                   // Registry.Close
	opNop                     // a close that the decoder dropped, to keep closes rare
)

var opKindNames = [...]string{"register", "undo", "listen", "replace", "block", "call", "invoke", "removeAll", "close", "nop"}

// opBytes is the size of one encoded operation: a kind byte and five
// argument bytes. A fixed size keeps every input decodable and lets the
// fuzzer's mutations change one operation without shifting the others.
const opBytes = 6

// maxOps bounds a sequence, so that every input runs fast.
const maxOps = 40

// opTable maps the kind byte (mod 16) to a kind; the repeats set how often
// each kind is drawn.
var opTable = [16]opKind{
	opRegister, opRegister, opUndo, opListen, opListen, opListen, opReplace, opBlock,
	opCall, opCall, opCall, opInvoke, opInvoke, opRemoveAll, opClose, opUndo,
}

// Listener behaviours.
const (
	lOK          uint8 = iota // return nil
	lAbortNil                 // return Abort(nil)
	lAbortReason              // return Abort(err)
	lAbortErr                 // return an error that matches ErrAborted
	lError                    // return an error
	lPanic                    // panic
	lCancel                   // cancel the caller's ctx, return nil
	lUndo                     // call a handle, return nil
	lCall                     // Call an action with the stage's ctx, return nil
	lInvoke                   // InvokeAction+Wait with the stage's ctx, return nil
	lListen                   // add a listener "n<k>" to the phase and action arg picks
	lRemoveAll                // remove all the listeners of the phase and action arg picks
	lRegister                 // register the action arg picks, with a body "n<k>"
	lBlock                    // block every invocation of the action arg picks
	lReplace                  // push a replacement "n<k>" (calls original once) on the action arg picks
	lClose                    // Close the registry with a done ctx
	lCallErr                  // Call an action with the stage's ctx, return its error
	numListenerKinds
)

var listenerKindNames = [...]string{"ok", "abortNil", "abortReason", "abortErr", "error", "panic", "cancel", "undo", "call", "invoke",
	"listen", "removeAll", "register", "block", "replace", "close", "callErr"}

// eventOf is the phase and action that arg picks for lListen and lRemoveAll.
func eventOf(arg uint8) (after bool, name string) {
	return arg&1 != 0, fuzzNames[int(arg>>1)%len(fuzzNames)]
}

// actionOf is the action that arg picks.
func actionOf(arg uint8) string { return fuzzNames[int(arg)%len(fuzzNames)] }

// Body behaviours.
const (
	bValue  uint8 = iota // return "b<id>(payload)"
	bError               // return an error
	bPanic               // panic
	bCall                // Call an action, return its error or "b<id>{result}"
	bInvoke              // the same through InvokeAction+Wait
	bUndo                // call a handle, then return a value
	bCancel              // cancel the caller's ctx, then return a value
	bAbort               // return Abort(err), which is too late to abort: a failure
	numBodyKinds
)

var bodyKindNames = [...]string{"value", "error", "panic", "call", "invoke", "undo", "cancel", "abort"}

// Replacement behaviours.
const (
	rOnce  uint8 = iota // call original(payload+1) once
	rTwice              // call original(payload), then original(payload+2)
	rNever              // do not call original
	rError              // return an error without calling original
	rPanic              // panic
	numReplKinds
)

var replKindNames = [...]string{"once", "twice", "never", "error", "panic"}

// Payload updates.
const (
	uNone  uint8 = iota // no payload update
	uAdd                // payload+10
	uError              // return an error
	uPanic              // panic
	numUpdateKinds
)

var updateKindNames = [...]string{"none", "add", "error", "panic"}

// Block matches.
const (
	kAll   uint8 = iota // nil match: every payload
	kEq                 // payload == arg%4
	kOdd                // odd payloads
	kPanic              // the match panics
	numBlockKinds
)

var blockKindNames = [...]string{"all", "eq", "odd", "panic"}

// dedupOf decodes de-duplication: d%6 < 3 is off; 3 rejects by payload%2, 4 shares by
// payload%2, 5 shares by payload%3.
func dedupOf(d uint8) (mod int, share bool) {
	switch d % 6 {
	case 3:
		return 2, false
	case 4:
		return 2, true
	case 5:
		return 3, true
	}
	return 0, false
}

// op is one decoded operation. Which fields matter depends on kind.
type op struct {
	kind      opKind
	name      int   // index into fuzzNames
	beh       uint8 // listener, body, replacement or block behaviour
	arg       uint8 // a behaviour's argument: handle index, target action, block value
	after     bool  // listen, removeAll: the after phase
	once      bool  // listen
	named     bool  // listen
	prio      int   // listen, -2..2
	update    uint8 // register
	dedup     uint8 // register
	payload   int   // call, invoke
	cancelled bool  // call, invoke: the ctx is done before the call
}

// fuzzProgram is a decoded fuzz input: how to configure the registry, then the
// operations to run on it.
type fuzzProgram struct {
	observe bool // the registry has an observer, which records in the trace
	ops     []op
}

// decodeProgram decodes a header byte, then operations of opBytes each.
func decodeProgram(data []byte) fuzzProgram {
	var p fuzzProgram
	if len(data) == 0 {
		return p
	}
	p.observe, data = data[0]&1 != 0, data[1:]
	for len(data) >= opBytes && len(p.ops) < maxOps {
		p.ops = append(p.ops, decodeFuzzOp([opBytes]byte(data[:opBytes])))
		data = data[opBytes:]
	}
	return p
}

func decodeFuzzOp(b [opBytes]byte) op {
	o := op{kind: opTable[b[0]%16], name: int(b[1] % 3)}
	switch o.kind {
	case opRegister:
		o.beh, o.arg, o.update, o.dedup = b[2]%numBodyKinds, b[3], b[4]%numUpdateKinds, b[5]%6
	case opUndo:
		o.name, o.arg = 0, b[1]
	case opListen:
		o.after, o.once, o.named = b[2]&1 != 0, b[2]&2 != 0, b[2]&4 != 0
		o.prio = int((b[2]>>3)%5) - 2
		o.beh, o.arg = b[3]%numListenerKinds, b[4]
		if o.beh == lClose && o.arg%4 != 0 { // rarer: it ends every later invocation
			o.beh = lOK
		}
	case opReplace:
		o.beh = b[2] % numReplKinds
	case opBlock:
		o.beh, o.arg = b[2]%numBlockKinds, b[3]%4
	case opCall, opInvoke:
		o.payload, o.cancelled = int(b[2]%4), b[3]%8 == 7
	case opRemoveAll:
		o.after = b[2]&1 != 0
	case opClose:
		o.name = 0
		if b[1]%4 != 0 {
			o.kind = opNop
		}
	}
	return o
}

// encodeProgram is decodeProgram's inverse, for writing seeds as operations.
func encodeProgram(p fuzzProgram) []byte {
	out := []byte{0}
	if p.observe {
		out[0] = 1
	}
	for _, o := range p.ops {
		b := [opBytes]byte{0, byte(o.name)}
		b[0] = byte(slices.Index(opTable[:], o.kind))
		switch o.kind {
		case opNop: // a close the decoder drops
			b[0], b[1] = byte(slices.Index(opTable[:], opClose)), 1
		case opRegister:
			b[2], b[3], b[4], b[5] = o.beh, o.arg, o.update, o.dedup
		case opUndo:
			b[1] = o.arg
		case opListen:
			b[2] = byte(o.prio+2) << 3
			if o.after {
				b[2] |= 1
			}
			if o.once {
				b[2] |= 2
			}
			if o.named {
				b[2] |= 4
			}
			b[3], b[4] = o.beh, o.arg
		case opReplace:
			b[2] = o.beh
		case opBlock:
			b[2], b[3] = o.beh, o.arg
		case opCall, opInvoke:
			b[2] = byte(o.payload)
			if o.cancelled {
				b[3] = 7
			}
		case opRemoveAll:
			if o.after {
				b[2] = 1
			}
		case opClose:
			b[1] = 0
		}
		out = append(out, b[:]...)
	}
	return out
}

func (o op) String() string {
	n := fuzzNames[o.name]
	switch o.kind {
	case opRegister:
		mod, share := dedupOf(o.dedup)
		return fmt.Sprintf("register %s body=%s(%d) update=%s dedup=mod%d,share=%v", n, bodyKindNames[o.beh], o.arg, updateKindNames[o.update], mod, share)
	case opUndo:
		return fmt.Sprintf("undo handle %d", o.arg)
	case opListen:
		return fmt.Sprintf("listen %s %s=%s(%d) prio=%d once=%v named=%v", phaseName(o.after), n, listenerKindNames[o.beh], o.arg, o.prio, o.once, o.named)
	case opReplace:
		return fmt.Sprintf("replace %s %s", n, replKindNames[o.beh])
	case opBlock:
		return fmt.Sprintf("block %s %s(%d)", n, blockKindNames[o.beh], o.arg)
	case opCall, opInvoke:
		return fmt.Sprintf("%s %s(%d) cancelled=%v", opKindNames[o.kind], n, o.payload, o.cancelled)
	case opRemoveAll:
		return fmt.Sprintf("removeAll %s%s", phaseName(o.after), n)
	}
	return opKindNames[o.kind]
}

func phaseName(after bool) string {
	if after {
		return "after"
	}
	return "before"
}

// Descriptions of outcomes and errors, shared by both sides.

func okOutcome(res string) string { return "ok:" + res }

// stageKind is the kind of a stage's error: a cancellation when the
// invocation's ctx is done and the error is, or wraps, its cause (see
// "Aborting and errors"; a panic's value is not looked into), else a failure.
func (m *model) stageKind(err string) string {
	if m.ctxDone && strings.Contains(err, "err(stop)") && !strings.HasPrefix(err, "panic(") {
		return "ctx"
	}
	return "failed"
}

func errDesc(action, kind string, stage Stage, listener, cause string) string {
	return fmt.Sprintf("E(%s %s %s %q %s)", action, kind, stageDesc(stage), listener, cause)
}

func stageDesc(s Stage) string {
	if s == StageNone {
		return "none"
	}
	return strings.ReplaceAll(s.String(), " ", "-")
}

func joinDesc(descs []string) string {
	if len(descs) == 1 {
		return descs[0]
	}
	return "join[" + strings.Join(descs, "; ") + "]"
}

// The model itself.

type model struct {
	entries map[string]*mEntry
	closed  bool
	handles []func() bool
	trace   []string
	ctxDone bool // the current top-level invocation's ctx is done
	budget  int  // nested invocations left to the current top-level invocation
	dyn     int  // registrations made from inside stages so far, for their tags
	observe bool // the registry has an observer
	ids     int  // invocations so far, which is the observer's last ID
}

// mEntry is everything registered under one name (Registry: kept by name,
// across registrations).
type mEntry struct {
	act       *mAction
	listeners [2][]*mListener // [0] before, [1] after; in the order they were added
	repl      []*mRepl        // in the order they were pushed; the last runs first
	blocks    []*mBlock
}

type mAction struct {
	id     int    // tags the payload update and the key
	tag    string // tags the body
	name   string
	body   uint8
	arg    uint8
	update uint8
	mod    int // de-duplication key is payload%mod; 0 is off
}

type mListener struct {
	tag   string
	beh   uint8
	arg   uint8
	prio  int
	once  bool
	named bool
	fired bool // a once-listener that some phase has claimed
}

func (l *mListener) name() string {
	if l.named {
		return l.tag
	}
	return ""
}

type mRepl struct {
	tag string
	beh uint8
}

type mBlock struct {
	id   int
	kind uint8
	val  int
}

// mFrame is one invocation in progress; the chain of parents is the nesting
// (Lifecycle) that de-duplication against ancestors and InFlight look at.
type mFrame struct {
	id       int // as the observer sees it
	parent   *mFrame
	name     string
	depth    int
	keyed    bool
	key      int
	inflight bool
}

func newModel(observe bool) *model {
	return &model{entries: map[string]*mEntry{}, observe: observe}
}

func (m *model) rec(format string, args ...any) {
	m.trace = append(m.trace, fmt.Sprintf(format, args...))
}

// entry returns the entry of name, creating it: writers create entries.
func (m *model) entry(name string) *mEntry {
	e := m.entries[name]
	if e == nil {
		e = &mEntry{}
		m.entries[name] = e
	}
	return e
}

func (m *model) addHandle(h func() bool) { m.handles = append(m.handles, h) }

// removeFrom deletes x from *list and reports whether it was there.
func removeFrom[T comparable](list *[]T, x T) bool {
	i := slices.Index(*list, x)
	if i < 0 {
		return false
	}
	*list = slices.Delete(*list, i, i+1)
	return true
}

// byPriority returns a phase's listeners in the order they run (Listeners):
// higher priority first, ties in the order they were added.
func byPriority(list []*mListener) []*mListener {
	out := slices.Clone(list)
	slices.SortStableFunc(out, func(a, b *mListener) int { return b.prio - a.prio })
	return out
}

// apply runs one top-level operation and returns its outcome.
func (m *model) apply(i int, o op) string {
	name := fuzzNames[o.name]
	switch o.kind {
	case opRegister:
		mod, _ := dedupOf(o.dedup)
		return m.register(&mAction{id: i, tag: fmt.Sprintf("b%d", i), name: name, body: o.beh, arg: o.arg, update: o.update, mod: mod})
	case opUndo:
		return m.undo(o.arg)
	case opListen:
		m.listenTo(name, o.after, &mListener{tag: fmt.Sprintf("L%d", i), beh: o.beh, arg: o.arg, prio: o.prio, once: o.once, named: o.named})
		return "ok"
	case opReplace:
		m.replace(name, &mRepl{tag: fmt.Sprintf("r%d", i), beh: o.beh})
		return "ok"
	case opBlock:
		m.block(name, &mBlock{id: i, kind: o.beh, val: int(o.arg)})
		return "ok"
	case opCall, opInvoke:
		m.ctxDone, m.budget = o.cancelled, modelBudget
		return outcomeDesc(m.invoke(nil, name, o.payload))
	case opRemoveAll:
		return fmt.Sprint(m.removeAll(name, o.after))
	case opClose:
		m.closed = true
		return "nil" // nothing is in flight between operations
	}
	return "nop"
}

// The writers, shared by top-level operations and stages.

func (m *model) register(act *mAction) string {
	e := m.entry(act.name)
	if e.act != nil { // RegisterAction: nothing is overwritten
		return "err:" + errDesc(act.name, "already-registered", StageNone, "", "nil")
	}
	e.act = act
	m.addHandle(func() bool {
		if e.act != act {
			return false
		}
		e.act = nil
		return true
	})
	return "ok"
}

func (m *model) listenTo(name string, after bool, l *mListener) {
	list := &m.entry(name).listeners[phaseIndex(after)]
	*list = append(*list, l)
	m.addHandle(func() bool { return removeFrom(list, l) })
}

func (m *model) replace(name string, r *mRepl) {
	e := m.entry(name)
	e.repl = append(e.repl, r)
	m.addHandle(func() bool { return removeFrom(&e.repl, r) })
}

func (m *model) block(name string, b *mBlock) {
	e := m.entry(name)
	e.blocks = append(e.blocks, b)
	m.addHandle(func() bool { return removeFrom(&e.blocks, b) })
}

func (m *model) removeAll(name string, after bool) int {
	list := &m.entry(name).listeners[phaseIndex(after)]
	n := len(*list)
	*list = nil
	return n
}

func (m *model) newTag() string {
	m.dyn++
	return fmt.Sprintf("n%d", m.dyn)
}

func phaseIndex(after bool) int {
	if after {
		return 1
	}
	return 0
}

func outcomeDesc(res, err string) string {
	if err != "" {
		return "err:" + err
	}
	return okOutcome(res)
}

// undo calls the handle that arg picks and returns what it reported.
func (m *model) undo(arg uint8) string {
	if len(m.handles) == 0 {
		return "none"
	}
	return fmt.Sprint(m.handles[int(arg)%len(m.handles)]())
}

// The observer (Observability) records "ob+id:action^parentID@depth(payload)"
// when an invocation begins, "if+id" when its in-flight window opens, and
// "ob-id:outcome" (with " aborted" when a before-listener aborted it) when it
// ends. Its InvocationBegin panics for payloads p%5 == 4 and InvocationEnd
// for p%7 == 6: the panic goes to the error handler and changes nothing else.

// invoke runs one invocation, as the observer sees it. It returns the
// result, or the error's description when err is not empty.
func (m *model) invoke(parent *mFrame, name string, p int) (res, err string) {
	m.ids++
	fr := &mFrame{id: m.ids, parent: parent, name: name, depth: 1}
	parentID := 0
	if parent != nil {
		fr.depth, parentID = parent.depth+1, parent.id
	}
	if m.observe {
		m.rec("ob+%d:%s^%d@%d(%d)", fr.id, name, parentID, fr.depth, p)
		if p%5 == 4 {
			m.rec("EH %s", errDesc(name, "failed", StageObserver, "", "panic(ob-begin)"))
		}
	}
	res, err = m.run(fr, p)
	if m.observe {
		aborted := ""
		if strings.HasPrefix(err, "E("+name+" aborted ") {
			aborted = " aborted"
		}
		m.rec("ob-%d:%s%s", fr.id, outcomeDesc(res, err), aborted)
		if p%7 == 6 {
			m.rec("EH %s", errDesc(name, "failed", StageObserver, "", "panic(ob-end)"))
		}
	}
	return res, err
}

// run is the lifecycle, steps 0 to 10 of the package docs' Lifecycle.
func (m *model) run(fr *mFrame, p int) (res, err string) {
	name, parent := fr.name, fr.parent
	// 0. A done ctx, then the depth limit (WithMaxDepth: depth N+1 fails).
	if m.ctxDone {
		return "", errDesc(name, "ctx", StageNone, "", "err(stop)")
	}
	if fr.depth > modelMaxDepth {
		return "", errDesc(name, "depth-exceeded", StageNone, "", "-")
	}
	// 1. Lookup.
	e := m.entries[name]
	if e == nil || e.act == nil {
		return "", errDesc(name, "not-found", StageNone, "", "nil")
	}
	act := e.act
	// 2. Closed.
	if m.closed {
		return "", errDesc(name, "closed", StageNone, "", "nil")
	}
	// 3. Blocked, on the caller's payload.
	for _, b := range slices.Clone(e.blocks) {
		if b.kind == kAll {
			return "", errDesc(name, "blocked", StageNone, "", "nil")
		}
		m.rec("k%d(%d)", b.id, p)
		switch {
		case b.kind == kPanic:
			return "", errDesc(name, "failed", StageBlock, "", fmt.Sprintf("panic(k%d)", b.id))
		case b.kind == kEq && p == b.val, b.kind == kOdd && p%2 == 1:
			return "", errDesc(name, "blocked", StageNone, "", "nil")
		}
	}
	// 4. De-duplication, on the caller's payload. Invocations run one at a
	// time here, so the only ones in flight are the ancestors: a key equal
	// to an ancestor's is pending in either mode (Deduplicate).
	if act.mod > 0 {
		m.rec("key%d(%d)", act.id, p)
		key := p % act.mod
		for a := parent; a != nil; a = a.parent {
			if a.name == name && a.keyed && a.key == key {
				return "", errDesc(name, "pending", StageNone, "", "nil")
			}
		}
		fr.keyed, fr.key = true, key
	}
	// 5. Payload update.
	switch act.update {
	case uAdd:
		m.rec("u%d(%d)", act.id, p)
		p += 10
	case uError:
		m.rec("u%d(%d)", act.id, p)
		err := fmt.Sprintf("err(u%d)", act.id)
		return "", errDesc(name, m.stageKind(err), StageUpdate, "", err)
	case uPanic:
		m.rec("u%d(%d)", act.id, p)
		return "", errDesc(name, "failed", StageUpdate, "", fmt.Sprintf("panic(u%d)", act.id))
	}
	fr.inflight = true // InFlight: in flight from the start of the before phase
	if m.observe {
		m.rec("if+%d", fr.id)
	}
	// 6, 7. Before phase on its snapshot; the ctx is checked before it and
	// between its listeners.
	if m.ctxDone {
		return "", errDesc(name, "ctx", StageBefore, "", "err(stop)")
	}
	for i, l := range byPriority(e.listeners[0]) {
		if i > 0 && m.ctxDone {
			return "", errDesc(name, "ctx", StageBefore, "", "err(stop)")
		}
		if !m.claim(e, 0, l) {
			continue
		}
		switch err, reason := m.listen(fr, l, p); {
		case matchesAbort(err): // Aborting and errors: an abort
			return "", errDesc(name, "aborted", StageBefore, l.name(), reason)
		case err != "": // Aborting and errors: a failure
			return "", errDesc(name, m.stageKind(err), StageBefore, l.name(), err)
		}
	}
	// 8. Body: the stack as it is now, over the body found at step 1.
	if m.ctxDone {
		return "", errDesc(name, "ctx", StageBody, "", "err(stop)")
	}
	res, err = m.layer(fr, slices.Clone(e.repl), len(e.repl)-1, act, p)
	if err != "" {
		return "", errDesc(name, m.stageKind(err), StageBody, "", err)
	}
	// 9. After phase on its snapshot; every listener runs, failures are
	// joined and handed to the error handler.
	var errs []string
	for _, l := range byPriority(e.listeners[1]) {
		if !m.claim(e, 1, l) {
			continue
		}
		// Too late to abort: an abort is a failure like any other (see
		// "Aborting and errors").
		if err, _ := m.listen(fr, l, p); err != "" {
			errs = append(errs, errDesc(name, m.stageKind(err), StageAfter, l.name(), err))
		}
	}
	if len(errs) > 0 {
		m.rec("EH %s", joinDesc(errs))
	}
	return res, ""
}

// claim decides whether a phase runs l: a once-listener runs in the first
// phase that reaches it, which removes it.
func (m *model) claim(e *mEntry, phase int, l *mListener) bool {
	if !l.once {
		return true
	}
	if l.fired {
		return false
	}
	l.fired = true
	removeFrom(&e.listeners[phase], l)
	return true
}

// listen runs listener l and returns the error it returned ("" for nil)
// and, should that error abort the invocation, the abort's reason: Abort's
// argument for an error made by Abort, the error itself for any other that
// matches ErrAborted (see Abort).
func (m *model) listen(fr *mFrame, l *mListener, p int) (err, reason string) {
	tag := l.tag
	m.rec("%s(%d)", tag, p)
	switch l.beh {
	case lAbortNil:
		return "abort(nil)", "nil"
	case lAbortReason:
		return fmt.Sprintf("abort(err(%s))", tag), fmt.Sprintf("err(%s)", tag)
	case lAbortErr:
		return fmt.Sprintf("aerr(%s)", tag), fmt.Sprintf("aerr(%s)", tag)
	case lError:
		return fmt.Sprintf("err(%s)", tag), ""
	case lPanic:
		return fmt.Sprintf("panic(%s)", tag), ""
	case lCancel:
		m.ctxDone = true
	case lUndo:
		m.rec("%s:undo=%s", tag, m.undo(l.arg))
	case lCall, lInvoke:
		m.nested(fr, tag, l.arg, p)
	case lCallErr:
		_, err := m.nested(fr, tag, l.arg, p)
		return err, err
	case lListen:
		after, name := eventOf(l.arg)
		k := m.newTag()
		m.listenTo(name, after, &mListener{tag: k, beh: lOK})
		m.rec("%s:listen=%s", tag, k)
	case lRemoveAll:
		after, name := eventOf(l.arg)
		m.rec("%s:removeAll=%d", tag, m.removeAll(name, after))
	case lRegister:
		k := m.newTag()
		m.rec("%s:register=%s", tag, m.register(&mAction{id: -1, tag: k, name: actionOf(l.arg), body: bValue}))
	case lBlock:
		m.block(actionOf(l.arg), &mBlock{id: -1, kind: kAll})
		m.rec("%s:block", tag)
	case lReplace:
		k := m.newTag()
		m.replace(actionOf(l.arg), &mRepl{tag: k, beh: rOnce})
		m.rec("%s:replace=%s", tag, k)
	case lClose:
		// Close from inside an invocation waits for it, so it gives
		// up with its ctx's cause; invocations started afterwards fail.
		m.closed = true
		m.rec("%s:close=err(closing)", tag)
	}
	return "", ""
}

// matchesAbort reports whether errors.Is(err, ErrAborted) holds for the
// error described by desc. An invocation's error is a chain, each link the
// cause of the one before, so desc is that chain written out: the error
// matches when a link does.
func matchesAbort(desc string) bool {
	return strings.Contains(desc, " aborted ") || strings.Contains(desc, "aerr(") || strings.Contains(desc, "abort(")
}

// layer runs layer i of the replacement stack, the body when i < 0
// ("Replacing actions": original is the layer below).
func (m *model) layer(fr *mFrame, stack []*mRepl, i int, act *mAction, p int) (res, err string) {
	if i < 0 {
		return m.body(fr, act, p)
	}
	r := stack[i]
	m.rec("%s(%d)", r.tag, p)
	switch r.beh {
	case rOnce:
		res, err := m.layer(fr, stack, i-1, act, p+1)
		if err != "" {
			return "", err
		}
		return fmt.Sprintf("%s[%s]", r.tag, res), ""
	case rTwice:
		a, err := m.layer(fr, stack, i-1, act, p)
		if err != "" {
			return "", err
		}
		b, err := m.layer(fr, stack, i-1, act, p+2)
		if err != "" {
			return "", err
		}
		return fmt.Sprintf("%s[%s,%s]", r.tag, a, b), ""
	case rNever:
		return r.tag, ""
	case rError:
		return "", fmt.Sprintf("err(%s)", r.tag)
	}
	return "", fmt.Sprintf("panic(%s)", r.tag)
}

func (m *model) body(fr *mFrame, act *mAction, p int) (res, err string) {
	tag := act.tag
	m.rec("%s(%d)@%d", tag, p, m.inFlight(fr, act.name))
	value := fmt.Sprintf("%s(%d)", tag, p)
	switch act.body {
	case bError:
		return "", fmt.Sprintf("err(%s)", tag)
	case bPanic:
		return "", fmt.Sprintf("panic(%s)", tag)
	case bCall, bInvoke:
		res, err := m.nested(fr, tag, act.arg, p)
		if err != "" {
			return "", err
		}
		return fmt.Sprintf("%s{%s}", tag, res), ""
	case bUndo:
		m.rec("%s:undo=%s", tag, m.undo(act.arg))
	case bCancel:
		m.ctxDone = true
	case bAbort:
		return "", fmt.Sprintf("abort(err(%s))", tag)
	}
	return value, ""
}

// inFlight counts the invocations of name in their in-flight window; run
// one at a time, those are the frames of the current chain.
func (m *model) inFlight(fr *mFrame, name string) int {
	n := 0
	for ; fr != nil; fr = fr.parent {
		if fr.name == name && fr.inflight {
			n++
		}
	}
	return n
}

// nested invokes the action arg picks, with payload p+1, from inside a stage
// of fr, and records its outcome.
func (m *model) nested(fr *mFrame, tag string, arg uint8, p int) (res, err string) {
	if m.budget <= 0 {
		m.rec("%s:call=skipped", tag)
		return "skipped", ""
	}
	m.budget--
	res, err = m.invoke(fr, fuzzNames[int(arg)%len(fuzzNames)], p+1)
	m.rec("%s:call=%s", tag, outcomeDesc(res, err))
	return res, err
}

// listenerInfos is what Registry.Listeners should report for the phase.
func (m *model) listenerInfos(name string, after bool) []ListenerInfo {
	e := m.entries[name]
	if e == nil {
		return nil
	}
	var out []ListenerInfo
	for _, l := range byPriority(e.listeners[phaseIndex(after)]) {
		out = append(out, ListenerInfo{Name: l.name(), Priority: l.prio, Once: l.once})
	}
	return out
}

func (m *model) registered(name string) bool {
	e := m.entries[name]
	return e != nil && e.act != nil
}

// modelScenario is a sequence of operations with, where want is set, the
// last operation's outcome and trace as the model must give them: these pin
// the model to the package documentation, so that the model and the registry
// cannot agree on a wrong answer there. Every scenario is also a seed of
// FuzzModel.
type modelScenario struct {
	name    string
	observe bool
	ops     []op
	want    string // "outcome | trace"
}

func (s modelScenario) program() fuzzProgram { return fuzzProgram{observe: s.observe, ops: s.ops} }

func seedReg(name int, body, arg uint8) op {
	return op{kind: opRegister, name: name, beh: body, arg: arg}
}

func seedListen(name int, after bool, beh, arg uint8) op {
	return op{kind: opListen, name: name, after: after, beh: beh, arg: arg}
}

func seedCall(name, payload int) op { return op{kind: opCall, name: name, payload: payload} }

func seedInvoke(name, payload int) op { return op{kind: opInvoke, name: name, payload: payload} }

func seedUndo(handle uint8) op { return op{kind: opUndo, arg: handle} }

func (o op) with(f func(*op)) op { f(&o); return o }

func seedNamed(o *op) { o.named = true }

var modelScenarios = []modelScenario{
	{
		name: "Aborting_and_errors_sequential_abort_skips_rest",
		ops: []op{
			seedReg(0, bValue, 0),
			seedListen(0, false, lOK, 0),
			seedListen(0, false, lAbortReason, 0).with(seedNamed),
			seedListen(0, false, lOK, 0),
			seedListen(0, true, lOK, 0),
			{kind: opReplace, beh: rOnce},
			seedCall(0, 1),
		},
		want: `err:E(A aborted before-phase "L2" err(L2)) | L1(1) L2(1)`,
	},
	{
		name: "Aborting_and_errors_abort_without_reason_and_own_abort_error",
		ops: []op{
			seedReg(0, bValue, 0),
			seedListen(0, false, lAbortNil, 0),
			seedCall(0, 0),
			seedUndo(1),
			seedListen(0, false, lAbortErr, 0).with(seedNamed),
			seedInvoke(0, 0),
		},
		want: `err:E(A aborted before-phase "L4" aerr(L4)) | L4(0)`,
	},
	{
		name: "Aborting_and_errors_failing_before_listener_is_not_an_abort",
		ops: []op{
			seedReg(0, bValue, 0),
			seedListen(0, false, lPanic, 0).with(seedNamed),
			seedListen(0, false, lOK, 0),
			seedCall(0, 0),
		},
		want: `err:E(A failed before-phase "L1" panic(L1)) | L1(0)`,
	},
	{
		name: "Listeners_priority_higher_first_ties_in_order",
		ops: []op{
			seedListen(0, false, lOK, 0),
			seedListen(0, false, lOK, 0).with(func(o *op) { o.prio = 1 }),
			seedListen(0, false, lOK, 0).with(func(o *op) { o.prio = -1 }),
			seedListen(0, false, lOK, 0).with(func(o *op) { o.prio = 1 }),
			seedListen(0, true, lOK, 0).with(func(o *op) { o.prio = -2 }),
			seedListen(0, true, lOK, 0).with(func(o *op) { o.prio = 2 }),
			seedReg(0, bValue, 0),
			seedCall(0, 0),
		},
		want: `ok:b6(0) | L1(0) L3(0) L0(0) L2(0) b6(0)@1 L5(0) L4(0)`,
	},
	{
		name: "Replacing_replacement_original_is_the_layer_below",
		ops: []op{
			seedReg(0, bValue, 0),
			{kind: opReplace, beh: rOnce},
			{kind: opReplace, beh: rTwice},
			{kind: opReplace, beh: rNever},
			seedUndo(3),
			seedCall(0, 0),
		},
		want: `ok:r2[r1[b0(1)],r1[b0(3)]] | r2(0) r1(0) b0(1)@1 r1(2) b0(3)@1`,
	},
	{
		name: "Aborting_and_errors_after_errors_joined_and_result_stands",
		ops: []op{
			seedReg(0, bValue, 0),
			seedListen(0, true, lError, 0).with(seedNamed),
			seedListen(0, true, lPanic, 0),
			seedListen(0, true, lAbortNil, 0).with(seedNamed),
			seedListen(0, true, lOK, 0),
			seedCall(0, 2),
		},
		want: `ok:b0(2) | b0(2)@1 L1(2) L2(2) L3(2) L4(2) EH join[E(A failed after-phase "L1" err(L1)); ` +
			`E(A failed after-phase "" panic(L2)); E(A failed after-phase "L3" abort(nil))]`,
	},
	{
		name: "Lifecycle_cancel_between_before_listeners",
		ops: []op{
			seedReg(0, bValue, 0),
			seedListen(0, false, lCancel, 0),
			seedListen(0, false, lOK, 0),
			seedCall(0, 0),
		},
		want: `err:E(A ctx before-phase "" err(stop)) | L1(0)`,
	},
	{
		name: "Lifecycle_cancel_in_last_listener_stops_before_body",
		ops: []op{
			seedReg(0, bValue, 0),
			seedListen(0, false, lCancel, 0),
			seedInvoke(0, 0),
		},
		want: `err:E(A ctx body "" err(stop)) | L1(0)`,
	},
	{
		name: "Lifecycle_step_0_done_ctx_runs_nothing",
		ops: []op{
			seedReg(0, bValue, 0),
			seedListen(0, false, lOK, 0),
			seedCall(0, 0).with(func(o *op) { o.cancelled = true }),
		},
		want: `err:E(A ctx none "" err(stop)) | `,
	},
	{
		name: "Lifecycle_result_stands_once_the_body_returned",
		ops: []op{
			seedReg(0, bCancel, 0),
			seedListen(0, true, lCall, 1),
			seedListen(0, true, lOK, 0),
			seedInvoke(0, 0),
		},
		want: `ok:b0(0) | b0(0)@1 L1(0) L1:call=err:E(B ctx none "" err(stop)) L2(0)`,
	},
	{
		name: "Deduplication_nested_invocation_with_an_ancestors_key_is_pending",
		ops: []op{
			seedReg(0, bCall, 0).with(func(o *op) { o.dedup = 3 }),
			seedCall(0, 0),
		},
		want: `err:E(A failed body "" E(A failed body "" E(A pending none "" nil))) | ` +
			`key0(0) b0(0)@1 key0(1) b0(1)@2 key0(2) b0:call=err:E(A pending none "" nil) ` +
			`b0:call=err:E(A failed body "" E(A pending none "" nil))`,
	},
	{
		name: "Concurrency_depth_limit",
		ops: []op{
			seedReg(0, bInvoke, 0),
			seedCall(0, 0),
		},
		want: `err:E(A failed body "" E(A failed body "" E(A failed body "" E(A depth-exceeded none "" -)))) | ` +
			`b0(0)@1 b0(1)@2 b0(2)@3 b0:call=err:E(A depth-exceeded none "" -) ` +
			`b0:call=err:E(A failed body "" E(A depth-exceeded none "" -)) ` +
			`b0:call=err:E(A failed body "" E(A failed body "" E(A depth-exceeded none "" -)))`,
	},
	{
		name: "Listeners_once_listener_runs_once_when_reentered",
		ops: []op{
			seedReg(0, bValue, 0),
			seedListen(0, false, lCall, 0),
			seedListen(0, false, lOK, 0).with(func(o *op) { o.once, o.named = true, true }),
			seedCall(0, 0),
		},
		want: `ok:b0(0) | L1(0) L1(1) L1(2) L1:call=err:E(A depth-exceeded none "" -) L2(2) b0(2)@3 ` +
			`L1:call=ok:b0(2) b0(1)@2 L1:call=ok:b0(1) b0(0)@1`,
	},
	{
		name: "Listeners_listener_removed_during_its_phase_still_runs_in_it",
		ops: []op{
			seedReg(0, bValue, 0),
			seedListen(0, false, lUndo, 2),
			seedListen(0, false, lOK, 0),
			seedCall(0, 0),
			seedCall(0, 0),
		},
		want: `ok:b0(0) | L1(0) L1:undo=false b0(0)@1`,
	},
	{
		name: "Lifecycle_unregistering_does_not_disturb_a_running_invocation",
		ops: []op{
			seedReg(0, bUndo, 0),
			seedListen(0, true, lOK, 0),
			seedCall(0, 0),
		},
		want: `ok:b0(0) | b0(0)@1 b0:undo=true L1(0)`,
	},
	{
		name: "Registry_unregister_keeps_listeners_and_replacements",
		ops: []op{
			seedListen(0, false, lOK, 0),
			{kind: opReplace, beh: rOnce},
			seedReg(0, bValue, 0),
			seedUndo(2),
			seedCall(0, 0),
			seedReg(0, bError, 0),
			seedReg(0, bValue, 0),
			seedCall(0, 0),
		},
		want: `err:E(A failed body "" err(b5)) | L0(0) r1(0) b5(1)@1`,
	},
	{
		name: "Blocking_block_matches_the_callers_payload",
		ops: []op{
			seedReg(0, bValue, 0).with(func(o *op) { o.update = uAdd }),
			{kind: opBlock, beh: kEq, arg: 1},
			seedCall(0, 1),
			seedCall(0, 2),
			seedUndo(1),
			seedCall(0, 1),
		},
		want: `ok:b0(11) | u0(1) b0(11)@1`,
	},
	{
		name: "Lifecycle_step_5_payload_update_error_runs_nothing_else",
		ops: []op{
			seedReg(0, bValue, 0).with(func(o *op) { o.update = uError }),
			seedListen(0, false, lOK, 0),
			seedInvoke(0, 3),
		},
		want: `err:E(A failed payload-update "" err(u0)) | u0(3)`,
	},
	{
		name: "Concurrency_close_rejects_invocations_after_lookup",
		ops: []op{
			seedReg(0, bValue, 0),
			{kind: opClose},
			seedCall(0, 0),
			seedReg(1, bValue, 0),
			seedCall(2, 0),
		},
		want: `err:E(C not-found none "" nil) | `,
	},
	{
		name: "Lifecycle_step_8_replacement_pushed_during_the_before_phase_applies_now",
		ops: []op{
			seedReg(0, bValue, 0),
			seedListen(0, false, lReplace, 0),
			seedCall(0, 0),
		},
		want: `ok:n1[b0(1)] | L1(0) L1:replace=n1 n1(0) b0(1)@1`,
	},
	{
		name: "Listeners_listener_added_during_a_phase_runs_from_the_next_phase",
		ops: []op{
			seedReg(0, bValue, 0),
			seedListen(0, false, lListen, 0), // before A
			seedListen(0, false, lListen, 1), // after A
			seedCall(0, 0),
		},
		want: `ok:b0(0) | L1(0) L1:listen=n1 L2(0) L2:listen=n2 b0(0)@1 n2(0)`,
	},
	{
		name: "Listeners_remove_all_during_a_phase_keeps_its_snapshot",
		ops: []op{
			seedReg(0, bValue, 0),
			seedListen(0, false, lRemoveAll, 0),
			seedListen(0, false, lOK, 0),
			seedCall(0, 0),
			seedCall(0, 0),
		},
		want: `ok:b0(0) | b0(0)@1`,
	},
	{
		name: "Blocking_block_added_by_a_stage_blocks_nested_invocations",
		ops: []op{
			seedReg(0, bCall, 0),
			seedListen(0, false, lBlock, 0),
			seedCall(0, 0),
		},
		want: `err:E(A failed body "" E(A blocked none "" nil)) | L1(0) L1:block b0(0)@1 b0:call=err:E(A blocked none "" nil)`,
	},
	{
		name: "Registry_action_registered_by_a_stage_is_invocable_at_once",
		ops: []op{
			seedListen(0, false, lRegister, 1),
			seedReg(0, bInvoke, 1),
			seedCall(0, 0),
			seedCall(0, 1),
		},
		want: `ok:b1{n1(2)} | L0(1) L0:register=err:E(B already-registered none "" nil) b1(1)@1 n1(2)@1 b1:call=ok:n1(2)`,
	},
	{
		name: "Concurrency_close_from_inside_a_stage",
		ops: []op{
			seedReg(0, bValue, 0),
			seedListen(0, false, lClose, 0),
			seedListen(0, true, lCall, 1),
			seedReg(1, bValue, 0),
			seedInvoke(0, 0),
			{kind: opClose},
			seedCall(0, 0),
		},
		want: `err:E(A closed none "" nil) | `,
	},
	{
		name:    "Observability_observer_sees_every_invocation_and_its_panics_change_nothing",
		observe: true,
		ops: []op{
			seedReg(0, bCall, 1),
			seedCall(0, 3),
		},
		want: `err:E(A failed body "" E(B not-found none "" nil)) | ob+1:A^0@1(3) if+1 b0(3)@1 ob+2:B^1@2(4) ` +
			`EH E(B failed observer "" panic(ob-begin)) ob-2:err:E(B not-found none "" nil) ` +
			`b0:call=err:E(B not-found none "" nil) ob-1:err:E(A failed body "" E(B not-found none "" nil))`,
	},
	{
		name:    "Observability_observer_aborted_means_a_before_listener_aborted_it",
		observe: true,
		ops: []op{
			seedReg(0, bCall, 1),
			seedReg(1, bValue, 0),
			seedListen(1, false, lAbortNil, 0),
			seedCall(0, 0),
		},
		want: `err:E(A failed body "" E(B aborted before-phase "" nil)) | ob+1:A^0@1(0) if+1 b0(0)@1 ` +
			`ob+2:B^1@2(1) if+2 L2(1) ob-2:err:E(B aborted before-phase "" nil) aborted ` +
			`b0:call=err:E(B aborted before-phase "" nil) ob-1:err:E(A failed body "" E(B aborted before-phase "" nil))`,
	},
	{
		name: "Aborting_and_errors_before_listener_returning_an_error_that_matches_ErrAborted_aborts_with_it_as_reason",
		ops: []op{
			seedReg(0, bValue, 0),
			seedReg(1, bAbort, 0),
			seedListen(0, false, lCallErr, 1).with(seedNamed),
			seedCall(0, 0),
		},
		want: `err:E(A aborted before-phase "L2" E(B failed body "" abort(err(b1)))) | ` +
			`L2(0) b1(1)@1 L2:call=err:E(B failed body "" abort(err(b1)))`,
	},
	{
		name: "Listeners_remove_all_listeners",
		ops: []op{
			seedReg(1, bValue, 0),
			seedListen(1, false, lError, 0),
			seedListen(1, false, lError, 0),
			seedListen(1, true, lOK, 0),
			{kind: opRemoveAll, name: 1},
			seedUndo(1),
			seedCall(1, 0),
		},
		want: `ok:b0(0) | b0(0)@1 L3(0)`,
	},
}

// TestModel checks the model against the expectations written from the
// package documentation, then the registry against the model, on every
// scenario.
func TestModel(t *testing.T) {
	for _, s := range modelScenarios {
		t.Run(s.name, func(t *testing.T) {
			m := newModel(s.observe)
			var got string
			for i, o := range s.ops {
				from := len(m.trace)
				got = m.apply(i, o) + " | " + strings.Join(m.trace[from:], " ")
			}
			if s.want != "" {
				assert.Equal(t, s.want, got, "model")
			}
			checkModel(t, s.program())
		})
	}
}

// TestModelEncoding checks that seeds written as operations decode to the
// same operations, so that each seed tests what its name says.
func TestModelEncoding(t *testing.T) {
	for _, s := range modelScenarios {
		t.Run(s.name, func(t *testing.T) {
			assert.Equal(t, s.program(), decodeProgram(encodeProgram(s.program())))
		})
	}
	t.Run("nop", func(t *testing.T) {
		p := fuzzProgram{observe: true, ops: []op{{kind: opNop}, {kind: opClose}, seedUndo(7)}}
		assert.Equal(t, p, decodeProgram(encodeProgram(p)))
	})
	t.Run("bounded", func(t *testing.T) {
		assert.Len(t, decodeProgram(make([]byte, 1+opBytes*(maxOps+3)+2)).ops, maxOps)
	})
}
