package natsactions_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-actions/actions"
	"github.com/go-actions/actions/natsactions"
	"github.com/go-actions/actions/natsactions/internal/natstest"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// replica is a registry with its Blocks, on a connection of its own.
type replica struct {
	reg    *actions.Registry
	blocks *natsactions.Blocks
	errs   errs
}

// shipment is the payload of the action the block tests invoke.
type shipment struct{ Customer string }

func newReplica(t *testing.T, ctx context.Context, url string, opts ...natsactions.Option) *replica {
	t.Helper()
	js, _ := jetStream(t, url)
	r := &replica{reg: actions.New()}
	_, err := r.reg.RegisterAction("Ship", func(ctx context.Context, p any) (any, error) { return "shipped", nil })
	require.NoError(t, err)
	opts = append([]natsactions.Option{
		natsactions.WithBlockKey("Ship", func(p any) string { return p.(shipment).Customer }),
		natsactions.WithErrorHandler(r.errs.handle),
	}, opts...)
	r.blocks, err = natsactions.NewBlocks(ctx, js, r.reg, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { r.blocks.Close() })
	return r
}

// ship invokes Ship for customer and returns its error.
func (r *replica) ship(ctx context.Context, customer string) error {
	_, err := r.reg.Call(ctx, "Ship", shipment{customer})
	return err
}

func TestBlocksHoldOnEveryReplica(t *testing.T) {
	leakCheck(t)
	ctx := deadline(t, 30*time.Second)
	url := natstest.Server(t).ClientURL()
	a, b := newReplica(t, ctx, url), newReplica(t, ctx, url)
	blockedOnB := func() bool { return errors.Is(b.ship(ctx, "acme"), actions.ErrBlocked) }
	notBlocked := func(r *replica, who string) { t.Helper(); require.NoError(t, r.ship(ctx, who)) }

	notBlocked(b, "acme")
	require.NoError(t, a.blocks.Block(ctx, "Ship"))
	assert.ErrorIs(t, a.ship(ctx, "acme"), actions.ErrBlocked, "Block returns once the block holds where it was placed")
	eventually(t, ctx, "the block on B", blockedOnB)
	require.NoError(t, a.blocks.Block(ctx, "Ship"), "blocking twice is one block")
	require.NoError(t, a.blocks.Unblock(ctx, "Ship"))
	notBlocked(a, "acme")
	eventually(t, ctx, "the unblock on B", func() bool { return b.ship(ctx, "acme") == nil })

	require.NoError(t, b.blocks.BlockKey(ctx, "Ship", "acme"))
	eventually(t, ctx, "the keyed block on A", func() bool { return a.ship(ctx, "acme") != nil })
	assert.ErrorIs(t, a.ship(ctx, "acme"), actions.ErrBlocked)
	notBlocked(a, "globex")
	notBlocked(b, "globex")

	// A replica that starts now applies the blocks already set before
	// NewBlocks returns.
	c := newReplica(t, ctx, url)
	assert.ErrorIs(t, c.ship(ctx, "acme"), actions.ErrBlocked)
	notBlocked(c, "globex")

	require.NoError(t, a.blocks.UnblockKey(ctx, "Ship", "acme"))
	notBlocked(a, "acme")
	eventually(t, ctx, "the keyed unblock on B and C", func() bool { return b.ship(ctx, "acme") == nil && c.ship(ctx, "acme") == nil })
	assert.Empty(t, a.reg.Actions()[0].BlockSources, "no local block is left once the last key is unblocked")

	require.NoError(t, a.blocks.Block(ctx, "Ship"))
	eventually(t, ctx, "the block on B and C", func() bool { return blockedOnB() && c.ship(ctx, "acme") != nil })
	require.NoError(t, c.blocks.Close())
	notBlocked(c, "acme") // a closed Blocks no longer follows the bucket: its blocks are removed
	assert.ErrorIs(t, c.blocks.Unblock(ctx, "Ship"), natsactions.ErrClosed)
	require.ErrorIs(t, b.ship(ctx, "acme"), actions.ErrBlocked, "a closed Blocks writes nothing")
	for _, r := range []*replica{a, b, c} {
		assert.Empty(t, r.errs.all())
	}
}

func TestBlocksKeepWatchingPastMalformedEntries(t *testing.T) {
	leakCheck(t)
	ctx := deadline(t, 30*time.Second)
	url := natstest.Server(t).ClientURL()
	a := newReplica(t, ctx, url)
	js, _ := jetStream(t, url)
	kv, err := js.KeyValue(ctx, "actions_blocks")
	require.NoError(t, err)
	_, err = kv.Put(ctx, "Ship", []byte("not json"))
	require.NoError(t, err)
	_, err = kv.Put(ctx, "Other", []byte(`{"action":"Ship"}`)) // the key says another action
	require.NoError(t, err)
	_, err = kv.Put(ctx, natsactions.Token("Unkeyed")+".k", []byte(`{"action":"Unkeyed","key":"k"}`))
	require.NoError(t, err)
	eventually(t, ctx, "three reports", func() bool { return len(a.errs.all()) == 3 })
	for i, err := range a.errs.all() {
		var be *natsactions.BlockEntryError
		require.ErrorAs(t, err, &be)
		if i < 2 {
			assert.ErrorIs(t, err, natsactions.ErrMalformed)
		}
		t.Log(err)
	}
	require.NoError(t, a.ship(ctx, "acme"), "nothing was blocked")

	b := newReplica(t, ctx, url)
	require.NoError(t, b.blocks.Block(ctx, "Ship"))
	eventually(t, ctx, "a good block after the bad ones", func() bool { return a.ship(ctx, "acme") != nil })
	assert.Len(t, b.errs.all(), 3, "a replica that starts later reports them too")
}

// TestBlocksCarryTheirReason: an invocation held by a block from the bucket
// says where the block came from: its error wraps a *ClusterBlockError that
// names the bucket, for a whole action and for a key, on the replica that
// placed it and on the others, while a block placed locally carries none.
// Served, the blocked error carries the reason's message to the caller.
func TestBlocksCarryTheirReason(t *testing.T) {
	leakCheck(t)
	ctx := deadline(t, 30*time.Second)
	url := natstest.Server(t).ClientURL()
	bucket := natsactions.WithBucket("ops_blocks")
	a, b := newReplica(t, ctx, url, bucket), newReplica(t, ctx, url, bucket)
	reasonOf := func(err error) *natsactions.ClusterBlockError {
		var cb *natsactions.ClusterBlockError
		if errors.As(err, &cb) {
			return cb
		}
		return nil
	}

	require.NoError(t, a.blocks.Block(ctx, "Ship"))
	eventually(t, ctx, "the block on A and B", func() bool { return a.ship(ctx, "acme") != nil && b.ship(ctx, "acme") != nil })
	for _, r := range []*replica{a, b} {
		err := r.ship(ctx, "acme")
		require.ErrorIs(t, err, actions.ErrBlocked)
		assert.Equal(t, actions.ErrBlocked, actions.ErrorOf(err).Kind)
		assert.Equal(t, &natsactions.ClusterBlockError{Bucket: "ops_blocks"}, reasonOf(err))
		assert.EqualError(t, err, `actions: Ship: action blocked: natsactions: blocked on every replica through bucket "ops_blocks"`)
	}

	// Served from B, the blocked error reaches a remote caller with the
	// reason's message.
	serveOn(t, natstest.Connect(t, url), b.reg, []string{"Ship"})
	_, err := natsactions.NewClient(natstest.Connect(t, url)).Call(ctx, "Ship", nil)
	require.ErrorIs(t, err, actions.ErrBlocked)
	require.NotNil(t, natsactions.RemoteErrorOf(err))
	assert.Contains(t, err.Error(), `blocked on every replica through bucket "ops_blocks"`)
	require.NoError(t, a.blocks.Unblock(ctx, "Ship"))

	require.NoError(t, a.blocks.BlockKey(ctx, "Ship", "acme"))
	// Wait for the keyed block itself: until the unblock has reached a
	// replica, the whole action's block still answers there.
	keyed := func(r *replica) bool {
		cb := reasonOf(r.ship(ctx, "acme"))
		return cb != nil && cb.Keyed
	}
	eventually(t, ctx, "the keyed block on A and B", func() bool { return keyed(a) && keyed(b) })
	for _, r := range []*replica{a, b} {
		err := r.ship(ctx, "acme")
		require.ErrorIs(t, err, actions.ErrBlocked)
		assert.Equal(t, &natsactions.ClusterBlockError{Bucket: "ops_blocks", Keyed: true}, reasonOf(err))
		assert.EqualError(t, err, `actions: Ship: action blocked: natsactions: key blocked on every replica through bucket "ops_blocks"`)
		require.NoError(t, r.ship(ctx, "globex"))
	}

	// A block placed on the registry directly is not the bucket's.
	unblock := b.reg.BlockAction("Ship", func(p any) bool { return p.(shipment).Customer == "globex" })
	err = b.ship(ctx, "globex")
	require.ErrorIs(t, err, actions.ErrBlocked)
	assert.Nil(t, reasonOf(err))
	assert.True(t, unblock())
	for _, r := range []*replica{a, b} {
		assert.Empty(t, r.errs.all())
	}
}

// TestBlockPropagationTime measures how long a block and an unblock placed
// through one replica take to hold on another, on a cluster of three
// servers with the bucket replicated on all three and the two replicas on
// different servers: from the call of Block (or Unblock) until the other
// replica's registry holds the change.
func TestBlockPropagationTime(t *testing.T) {
	leakCheck(t)
	nodes := natstest.Cluster(t, 3)
	ctx := deadline(t, 60*time.Second)
	a := newReplica(t, ctx, nodes[0].ClientURL(), natsactions.WithReplicas(3))
	var mu sync.Mutex
	var applied chan time.Time
	b := newReplica(t, ctx, nodes[2].ClientURL(), natsactions.WithReplicas(3), natsactions.WithApplyHook(func(e jetstream.KeyValueEntry) {
		mu.Lock()
		defer mu.Unlock()
		if applied != nil {
			applied <- time.Now()
		}
	}))
	const n = 50
	var took []time.Duration
	for i := range 2 * n {
		mu.Lock()
		applied = make(chan time.Time, 1)
		ch := applied
		mu.Unlock()
		begin := time.Now()
		if i%2 == 0 {
			require.NoError(t, a.blocks.Block(ctx, "Ship"))
		} else {
			require.NoError(t, a.blocks.Unblock(ctx, "Ship"))
		}
		select {
		case at := <-ch:
			took = append(took, at.Sub(begin))
		case <-ctx.Done():
			t.Fatalf("change %d never reached B", i)
		}
		err := b.ship(ctx, "acme")
		if i%2 == 0 {
			require.ErrorIs(t, err, actions.ErrBlocked, "change %d", i)
		} else {
			require.NoError(t, err, "change %d", i)
		}
	}
	slices.Sort(took)
	median, worst := took[len(took)/2], took[len(took)-1]
	t.Logf("block/unblock propagation over %d changes: median %v, p90 %v, worst %v", len(took), median.Round(time.Microsecond), took[len(took)*9/10].Round(time.Microsecond), worst.Round(time.Microsecond))
	assert.Less(t, worst, time.Second, "propagation within a second")
}
