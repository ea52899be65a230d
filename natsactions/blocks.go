package natsactions

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"

	"github.com/go-actions/actions"
	"github.com/nats-io/nats.go/jetstream"
)

// Blocks holds blocks on every replica: a block placed through any
// replica's Blocks is written to a key-value bucket that every replica
// watches and applies to its own registry with
// [actions.Registry.BlockAction], and so is its removal (see "Cluster-wide
// blocks" in the package documentation). The blocks it places have a
// [*ClusterBlockError] as their reason ([actions.Reason]). A Blocks is
// safe for concurrent use; it owns one goroutine, the watcher's, which
// ends on [Blocks.Close].
type Blocks struct {
	reg *actions.Registry
	kv  jetstream.KeyValue
	o   *options
	w   jetstream.KeyWatcher

	ready chan struct{} // closed once the blocks already set are applied
	done  chan struct{} // closed when the watcher's goroutine has ended

	mu sync.Mutex // guards what follows
	// placed maps a bucket key to the local block it placed, undone when
	// the key is deleted.
	placed  map[string]func() bool
	keyed   map[string]*keyedBlocks // by action
	applied uint64                  // the revision of the last entry applied
	notify  chan struct{}           // closed and replaced when applied grows
	closed  bool
}

// keyedBlocks are an action's keyed blocks: one local block whose match
// computes the payload's key once and looks it up in keys.
type keyedBlocks struct {
	keys    atomic.Pointer[map[string]int] // key → entries blocking it; replaced whole, read by match without a lock
	unblock func() bool                    // the local block, nil while keys is empty
}

// blockEntry is a bucket entry's value.
type blockEntry struct {
	Action string  `json:"action"`
	Key    *string `json:"key,omitempty"` // nil for a block of the whole action
}

// blockKey is the bucket key of a block: the action's token, and the key's
// for a keyed block.
func blockKey(action string, key *string) string {
	if key == nil {
		return token(action)
	}
	return token(action) + "." + token(*key)
}

// NewBlocks opens the blocks bucket through js (creating it when it does
// not exist), applies to reg the blocks already set, and watches for more
// until [Blocks.Close]. It applies [WithBucket], [WithBlockKey],
// [WithReplicas] and [WithErrorHandler]. ctx bounds the set-up only; on its
// end, or any error, nothing is left running.
func NewBlocks(ctx context.Context, js jetstream.JetStream, reg *actions.Registry, opts ...Option) (*Blocks, error) {
	o := apply(forBlocks, opts)
	kv, err := keyValue(ctx, js, jetstream.KeyValueConfig{
		Bucket:      o.bucket,
		Description: "actions blocked on every replica",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    o.replicas,
	})
	if err != nil {
		return nil, err
	}
	// The watch outlives ctx: its context is the subscription's.
	w, err := kv.WatchAll(context.Background())
	if err != nil {
		return nil, fmt.Errorf("natsactions: watch of bucket %s: %w", o.bucket, err)
	}
	b := &Blocks{
		reg: reg, kv: kv, o: o, w: w, ready: make(chan struct{}), done: make(chan struct{}),
		placed: make(map[string]func() bool), keyed: make(map[string]*keyedBlocks), notify: make(chan struct{}),
	}
	go b.watch()
	select {
	case <-b.ready:
		return b, nil
	case <-b.done:
		return nil, fmt.Errorf("natsactions: watch of bucket %s ended", o.bucket)
	case <-ctx.Done():
		b.Close()
		return nil, fmt.Errorf("natsactions: watch of bucket %s: %w", o.bucket, context.Cause(ctx))
	}
}

// watch applies the bucket's entries until the watch ends.
func (b *Blocks) watch() {
	defer close(b.done)
	for e := range b.w.Updates() {
		if e == nil { // the blocks already set are all applied
			close(b.ready)
			continue
		}
		b.apply(e)
		if b.o.applyHook != nil {
			b.o.applyHook(e)
		}
	}
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if !closed {
		b.o.errorHandler(context.Background(), fmt.Errorf("natsactions: watch of bucket %s ended; blocks no longer follow it", b.o.bucket))
	}
}

// apply applies one entry and records its revision as applied.
func (b *Blocks) apply(e jetstream.KeyValueEntry) {
	var err error
	b.mu.Lock()
	if e.Operation() == jetstream.KeyValuePut {
		err = b.place(e)
	} else if undo := b.placed[e.Key()]; undo != nil {
		delete(b.placed, e.Key())
		undo()
	}
	b.applied = max(b.applied, e.Revision())
	close(b.notify)
	b.notify = make(chan struct{})
	b.mu.Unlock()
	if err != nil {
		b.o.errorHandler(context.Background(), &BlockEntryError{Key: e.Key(), Revision: e.Revision(), Err: err})
	}
}

// place places the local block of a put entry, once per key. Called with
// b.mu held; the registry takes a lock of its own and runs no user code.
func (b *Blocks) place(e jetstream.KeyValueEntry) error {
	if b.placed[e.Key()] != nil {
		return nil // put again: it already holds
	}
	var v blockEntry
	if err := json.Unmarshal(e.Value(), &v); err != nil {
		return malformed("block entry", err)
	}
	if v.Action == "" || blockKey(v.Action, v.Key) != e.Key() {
		return malformed("block entry: its action and key do not match its key in the bucket", nil)
	}
	if v.Key == nil {
		b.placed[e.Key()] = b.reg.BlockAction(v.Action, nil, actions.Reason(&ClusterBlockError{Bucket: b.o.bucket}))
		return nil
	}
	fn := b.o.blockKey[v.Action]
	if fn == nil {
		return fmt.Errorf("keyed block of %s, which has no key function on this replica (see WithBlockKey): it blocks nothing here", v.Action)
	}
	kb := b.keyed[v.Action]
	if kb == nil {
		kb = &keyedBlocks{}
		b.keyed[v.Action] = kb
	}
	kb.add(b.reg, b.o.bucket, v.Action, fn, *v.Key, 1)
	action, key := v.Action, *v.Key
	b.placed[e.Key()] = func() bool { kb.add(b.reg, b.o.bucket, action, fn, key, -1); return true }
	return nil
}

// add counts key in (n = 1) or out (n = -1) of the action's keyed blocks,
// placing the local block with the first key and removing it with the last,
// so that an action without keyed blocks pays nothing for them. The local
// block's reason names bucket. Called with b.mu held.
func (kb *keyedBlocks) add(reg *actions.Registry, bucket, action string, fn func(any) string, key string, n int) {
	keys := make(map[string]int)
	if old := kb.keys.Load(); old != nil {
		maps.Copy(keys, *old)
	}
	if keys[key] += n; keys[key] <= 0 {
		delete(keys, key)
	}
	kb.keys.Store(&keys)
	switch {
	case len(keys) > 0 && kb.unblock == nil:
		kb.unblock = reg.BlockAction(action, func(payload any) bool {
			_, ok := (*kb.keys.Load())[fn(payload)]
			return ok
		}, actions.Reason(&ClusterBlockError{Bucket: bucket, Keyed: true}))
	case len(keys) == 0 && kb.unblock != nil:
		kb.unblock()
		kb.unblock = nil
	}
}

// Block blocks the action name on every replica, and returns once it holds
// on this one. Its cost is one write to the bucket. After [Blocks.Close],
// Block and the other methods write nothing and return [ErrClosed].
func (b *Blocks) Block(ctx context.Context, name string) error { return b.put(ctx, name, nil) }

// BlockKey blocks the invocations of the action name whose payload's key
// (see [WithBlockKey]) is key, on every replica, and returns once it holds
// on this one.
func (b *Blocks) BlockKey(ctx context.Context, name, key string) error {
	return b.put(ctx, name, &key)
}

// Unblock removes the block of the whole action name on every replica, and
// returns once it is removed on this one. Unblocking what is not blocked
// does nothing. Its cost is a write to the bucket and a read of its state.
func (b *Blocks) Unblock(ctx context.Context, name string) error { return b.delete(ctx, name, nil) }

// UnblockKey removes the block of key, placed with [Blocks.BlockKey].
func (b *Blocks) UnblockKey(ctx context.Context, name, key string) error {
	return b.delete(ctx, name, &key)
}

func (b *Blocks) put(ctx context.Context, name string, key *string) error {
	if name == "" {
		panic("natsactions: Blocks.Block: empty action name")
	}
	if b.isClosed() {
		return ErrClosed // it would be written, but never seen to hold here
	}
	data, _ := json.Marshal(blockEntry{Action: name, Key: key})
	rev, err := b.kv.Put(ctx, blockKey(name, key), data)
	if err != nil {
		return fmt.Errorf("natsactions: block of %s: %w", name, err)
	}
	return b.wait(ctx, rev)
}

func (b *Blocks) delete(ctx context.Context, name string, key *string) error {
	if name == "" {
		panic("natsactions: Blocks.Unblock: empty action name")
	}
	if b.isClosed() {
		return ErrClosed
	}
	if err := b.kv.Delete(ctx, blockKey(name, key)); err != nil {
		return fmt.Errorf("natsactions: unblock of %s: %w", name, err)
	}
	// The delete's revision is not returned: the bucket's last is at least it.
	st, err := b.kv.Status(ctx)
	if err != nil {
		return fmt.Errorf("natsactions: unblock of %s: %w", name, err)
	}
	bs, ok := st.(*jetstream.KeyValueBucketStatus)
	if !ok {
		return nil
	}
	return b.wait(ctx, bs.StreamInfo().State.LastSeq)
}

func (b *Blocks) isClosed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}

// wait returns once the watcher applied revision rev.
func (b *Blocks) wait(ctx context.Context, rev uint64) error {
	for {
		b.mu.Lock()
		applied, notify, closed := b.applied, b.notify, b.closed
		b.mu.Unlock()
		if applied >= rev {
			return nil
		}
		if closed {
			return ErrClosed
		}
		select {
		case <-notify:
		case <-b.done:
			return ErrClosed
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

// Close stops watching and removes from the registry the blocks it placed:
// they would no longer follow the bucket. The blocks stay in the bucket,
// for the other replicas. The watcher's goroutine has ended when Close
// returns.
func (b *Blocks) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		<-b.done
		return nil
	}
	b.closed = true
	b.mu.Unlock()
	var err error
	select {
	case <-b.done: // the watch ended by itself (its connection closed): nothing to stop
	default:
		err = b.w.Stop()
		<-b.done // Stop closes the updates, which ends the watcher
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for k, undo := range b.placed {
		undo()
		delete(b.placed, k)
	}
	if err != nil {
		return fmt.Errorf("natsactions: watch of bucket %s: %w", b.o.bucket, err)
	}
	return nil
}
