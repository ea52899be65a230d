package natsactions_test

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-actions/actions"
	"github.com/go-actions/actions/natsactions"
	"github.com/nats-io/nats.go/micro"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// gate is a body that holds its invocations until released and counts how
// many it holds at once.
type gate struct {
	release       chan struct{}
	entered       chan struct{}
	now, max      atomic.Int64
	honoursCancel bool
}

func newGate() *gate { return &gate{release: make(chan struct{}), entered: make(chan struct{}, 100)} }

func (g *gate) body(ctx context.Context, p any) (any, error) {
	n := g.now.Add(1)
	defer g.now.Add(-1)
	for m := g.max.Load(); n > m && !g.max.CompareAndSwap(m, n); m = g.max.Load() {
	}
	g.entered <- struct{}{}
	if g.honoursCancel {
		select {
		case <-g.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	} else {
		<-g.release
	}
	return p, nil
}

func TestDiscoveryAndStats(t *testing.T) {
	e := newEnv(t)
	reg := actions.New()
	_, err := reg.RegisterAction("Echo", echo)
	require.NoError(t, err)
	place := actions.Typed[order, receipt](reg, "PlaceOrder")
	srv := e.serve(t, reg, []string{"Echo"}, natsactions.WithServiceName("orders"), natsactions.WithVersion("1.2.3"))
	require.NoError(t, natsactions.ServeTyped(srv, place))
	for range 3 {
		_, err := e.client.Call(t.Context(), "Echo", "x")
		require.NoError(t, err)
	}
	_, err = e.client.Call(t.Context(), "PlaceOrder", order{})
	require.Error(t, err, "not registered")

	m, err := e.useNC.Request("$SRV.INFO.orders", nil, 2*time.Second)
	require.NoError(t, err)
	var info micro.Info
	require.NoError(t, json.Unmarshal(m.Data, &info))
	assert.Equal(t, "1.2.3", info.Version)
	require.Len(t, info.Endpoints, 2)
	assert.Equal(t, "actions.Echo", info.Endpoints[0].Subject)
	assert.Equal(t, "q", info.Endpoints[0].QueueGroup)
	assert.Equal(t, "natsactions_test.order", info.Endpoints[1].Metadata["payload"])

	// micro counts a request once its handler has handed it off, which may
	// come after the reply: its count is waited for. The server's own
	// counts are there once the reply is.
	var stats micro.Stats
	ctx := deadline(t, 5*time.Second)
	eventually(t, ctx, "micro's count of the three requests", func() bool {
		m, err := e.useNC.Request("$SRV.STATS.orders", nil, 2*time.Second)
		require.NoError(t, err)
		stats = micro.Stats{}
		require.NoError(t, json.Unmarshal(m.Data, &stats))
		require.Len(t, stats.Endpoints, 2)
		return stats.Endpoints[0].NumRequests == 3
	})
	var data natsactions.ActionStats
	require.NoError(t, json.Unmarshal(stats.Endpoints[0].Data, &data))
	assert.Equal(t, int64(3), data.Requests)
	assert.Zero(t, data.Errors)
	require.NoError(t, json.Unmarshal(stats.Endpoints[1].Data, &data))
	assert.Equal(t, natsactions.ActionStats{Requests: 1, Errors: 1, ProcessingTime: data.ProcessingTime}, data)
}

// TestConcurrency: a server runs requests side by side, up to its limit.
func TestConcurrency(t *testing.T) {
	e := newEnv(t)
	reg := actions.New()
	g := newGate()
	_, err := reg.RegisterAction("Hold", g.body)
	require.NoError(t, err)
	srv := e.serve(t, reg, []string{"Hold"}, natsactions.WithConcurrency(3))

	within(t, 10*time.Second, func() {
		var wg sync.WaitGroup
		for range 6 {
			wg.Go(func() {
				_, err := e.client.Call(context.Background(), "Hold", 1)
				assert.NoError(t, err)
			})
		}
		for range 3 {
			<-g.entered
		}
		time.Sleep(100 * time.Millisecond) // room for a fourth, were the limit broken
		assert.Equal(t, int64(3), g.now.Load())
		st, _ := srv.Stats("Hold")
		assert.Equal(t, int64(3), st.InFlight)
		close(g.release)
		wg.Wait()
		assert.Equal(t, int64(3), g.max.Load())
	})
}

// TestCloseWaitsForRequests: Close stops taking requests, answers those
// admitted, and every goroutine of the server has ended when it returns.
func TestCloseWaitsForRequests(t *testing.T) {
	e := newEnv(t)
	reg := actions.New()
	g := newGate()
	_, err := reg.RegisterAction("Hold", g.body)
	require.NoError(t, err)
	srv, err := natsactions.NewServer(e.serveNC, reg, natsactions.WithConcurrency(1))
	require.NoError(t, err)
	require.NoError(t, srv.Serve("Hold"))
	// The client's connection subscribes to its replies on its first
	// request, for as long as it lives: make that subscription now.
	_, _ = e.client.Call(t.Context(), "Nobody", nil)
	ignore := goleak.IgnoreCurrent()

	within(t, 10*time.Second, func() {
		errs := make(chan error, 2)
		for range 2 {
			go func() { _, err := e.client.Call(context.Background(), "Hold", 1); errs <- err }()
		}
		<-g.entered
		time.Sleep(100 * time.Millisecond) // the second waits for the only slot

		short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		assert.ErrorIs(t, srv.Close(short), context.DeadlineExceeded, "one request still runs")
		err := <-errs
		assert.ErrorIs(t, err, actions.ErrClosed, "the waiting request is refused")
		assert.NotNil(t, natsactions.RemoteErrorOf(err))

		close(g.release)
		assert.NoError(t, <-errs, "the running one completes")
		assert.NoError(t, srv.Close(context.Background()))
		assert.NoError(t, srv.Close(context.Background()), "again")

		_, err = e.client.Call(context.Background(), "Hold", 1)
		assert.ErrorIs(t, err, natsactions.ErrNoResponders)
		assert.Error(t, srv.Serve("Other"))
	})
	goleak.VerifyNone(t, ignore)
}

// TestStopCancels: Stop cancels the running invocations' contexts.
func TestStopCancels(t *testing.T) {
	e := newEnv(t)
	reg := actions.New()
	g := newGate()
	g.honoursCancel = true
	_, err := reg.RegisterAction("Hold", g.body)
	require.NoError(t, err)
	srv, err := natsactions.NewServer(e.serveNC, reg)
	require.NoError(t, err)
	require.NoError(t, srv.Serve("Hold"))
	// The client's connection subscribes to its replies on its first
	// request, for as long as it lives: make that subscription now.
	_, _ = e.client.Call(t.Context(), "Nobody", nil)
	ignore := goleak.IgnoreCurrent()

	within(t, 10*time.Second, func() {
		errs := make(chan error, 1)
		go func() { _, err := e.client.Call(context.Background(), "Hold", 1); errs <- err }()
		<-g.entered
		assert.NoError(t, srv.Stop(context.Background()))
		err := <-errs
		assert.ErrorIs(t, err, context.Canceled, "the server cancelled it")
		assert.Equal(t, actions.StatusCancelled, actions.StatusOf(err))
	})
	goleak.VerifyNone(t, ignore)
}
