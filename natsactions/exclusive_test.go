package natsactions_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-actions/actions"
	"github.com/go-actions/actions/natsactions"
	"github.com/go-actions/actions/natsactions/internal/natstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExclusiveAcrossThreeReplicas(t *testing.T) {
	leakCheck(t)
	nodes := natstest.Cluster(t, 3)
	ctx := deadline(t, 60*time.Second)

	// The detector: bodies with one key running at once, over every replica.
	var running [3]atomic.Int32
	var overlaps, bodies atomic.Int32
	body := func(ctx context.Context, p any) (any, error) {
		k := p.(int)
		if running[k].Add(1) > 1 {
			overlaps.Add(1)
		}
		bodies.Add(1)
		time.Sleep(5 * time.Millisecond)
		running[k].Add(-1)
		return nil, nil
	}
	var regs []*actions.Registry
	for i, node := range nodes {
		js, _ := jetStream(t, node.ClientURL()) // each replica on its own node
		x, err := natsactions.NewExclusive(ctx, js, natsactions.WithReplicas(3), natsactions.WithTTL(2*time.Second))
		require.NoError(t, err, "replica %d", i)
		reg := actions.New()
		_, err = reg.RegisterAction("Work", body)
		require.NoError(t, err)
		x.Replace(reg, "Work", func(p any) string { return fmt.Sprint("key", p) })
		regs = append(regs, reg)
	}

	var ok, pending atomic.Int32
	var wg sync.WaitGroup
	var other sync.Map
	for r, reg := range regs {
		for g := range 8 {
			wg.Go(func() {
				for i := range 6 {
					_, err := reg.Call(ctx, "Work", (r+g+i)%3)
					switch {
					case err == nil:
						ok.Add(1)
					case errors.Is(err, actions.ErrPending):
						pending.Add(1)
						e := actions.ErrorOf(err)
						if e == nil || e.Kind != actions.ErrFailed || e.Stage != actions.StageBody {
							other.Store(err.Error(), true)
						}
					default:
						other.Store(err.Error(), true)
					}
				}
			})
		}
	}
	wg.Wait()
	other.Range(func(k, _ any) bool { t.Errorf("unexpected error: %v", k); return true })
	assert.Zero(t, overlaps.Load(), "two bodies with one key ran at once")
	assert.Positive(t, pending.Load(), "some invocations found their key claimed")
	assert.Positive(t, ok.Load())
	assert.Equal(t, ok.Load(), bodies.Load(), "a body ran for each success, none for a rejection")
	t.Logf("144 invocations: %d ran, %d pending", ok.Load(), pending.Load())
	for _, reg := range regs {
		require.NoError(t, reg.Close(ctx))
	}
}

func TestExclusiveClaimOfADeadReplicaExpires(t *testing.T) {
	leakCheck(t)
	ctx := deadline(t, 30*time.Second)
	url := natstest.Server(t).ClientURL()
	jsDead, ncDead := jetStream(t, url)
	var deadErrs errs
	dead, err := natsactions.NewExclusive(ctx, jsDead, natsactions.WithTTL(time.Second), natsactions.WithErrorHandler(deadErrs.handle))
	require.NoError(t, err)
	js, _ := jetStream(t, url)
	live, err := natsactions.NewExclusive(ctx, js, natsactions.WithTTL(time.Second))
	require.NoError(t, err)

	held, err := dead.Claim(ctx, "Work", "k")
	require.NoError(t, err)
	_, err = live.Claim(ctx, "Work", "k")
	var ce *natsactions.ClaimedError
	require.ErrorAs(t, err, &ce)
	assert.ErrorIs(t, err, actions.ErrPending)

	ncDead.Close() // the replica dies holding the claim: no renewal, no release
	died := time.Now()
	var c *natsactions.Claim
	eventually(t, ctx, "the claim to expire", func() bool {
		c, err = live.Claim(ctx, "Work", "k")
		return err == nil
	})
	expired := time.Since(died)
	t.Logf("claimed %v after the holder died (TTL 1 s)", expired.Round(10*time.Millisecond))
	assert.Greater(t, expired, 500*time.Millisecond, "not before the TTL could run out")
	require.NoError(t, c.Release(ctx))

	select {
	case <-held.Lost():
	case <-ctx.Done():
		t.Fatal("the dead replica's claim is never known lost")
	}
	assert.ErrorIs(t, held.Release(ctx), natsactions.ErrClaimLost)
	assert.NotEmpty(t, deadErrs.matching(natsactions.ErrClaimLost))
}

func TestExclusiveRenewsWhileTheBodyRuns(t *testing.T) {
	leakCheck(t)
	ctx := deadline(t, 30*time.Second)
	url := natstest.Server(t).ClientURL()
	jsA, _ := jetStream(t, url)
	jsB, _ := jetStream(t, url)
	a, err := natsactions.NewExclusive(ctx, jsA, natsactions.WithTTL(time.Second))
	require.NoError(t, err)
	b, err := natsactions.NewExclusive(ctx, jsB, natsactions.WithTTL(time.Second))
	require.NoError(t, err)

	reg := actions.New()
	started, release := make(chan struct{}), make(chan struct{})
	_, err = reg.RegisterAction("Work", func(ctx context.Context, p any) (any, error) {
		close(started)
		select {
		case <-release:
			return "done", ctx.Err()
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	})
	require.NoError(t, err)
	a.Replace(reg, "Work", func(p any) string { return p.(string) })
	fut := reg.InvokeAction(ctx, "Work", "k")
	<-started
	begin := time.Now()
	for _, wait := range []time.Duration{500 * time.Millisecond, time.Second, time.Second} {
		time.Sleep(wait)
		_, err := b.Claim(ctx, "Work", "k")
		assert.ErrorIs(t, err, actions.ErrPending, "still held %v into a body, with a TTL of 1 s", time.Since(begin).Round(100*time.Millisecond))
	}
	close(release)
	res, err := fut.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, "done", res)
	c, err := b.Claim(ctx, "Work", "k")
	require.NoError(t, err, "released at once when the body returned")
	require.NoError(t, c.Release(ctx))
}
