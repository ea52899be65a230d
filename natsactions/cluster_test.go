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
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCluster serves one action from three replicas, each connected to
// its own node of a three-node cluster, and calls it from a client on each
// node: the requests spread over the replicas; a node shut down in the
// middle of many invocations makes each of them complete or fail clearly
// within its deadline; afterwards invocations go to the survivors.
func TestCluster(t *testing.T) {
	nodes := natstest.Cluster(t, 3)
	reconnect := []nats.Option{nats.ReconnectWait(50 * time.Millisecond), nats.MaxReconnects(-1)}
	var served [3]atomic.Int64
	serveNCs := make([]*nats.Conn, 3)
	clients := make([]*natsactions.Client, 3)
	for i, node := range nodes {
		reg := actions.New()
		_, err := reg.RegisterAction("Work", func(ctx context.Context, p any) (any, error) {
			served[i].Add(1)
			select { // long enough for many to be in flight when the node goes
			case <-time.After(5 * time.Millisecond):
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			return i, nil
		})
		require.NoError(t, err)
		serveNCs[i] = natstest.Connect(t, node.ClientURL(), reconnect...)
		serveOn(t, serveNCs[i], reg, []string{"Work"})
		clients[i] = natsactions.NewClient(natstest.Connect(t, node.ClientURL(), reconnect...))
	}

	within(t, 40*time.Second, func() {
		// Interest crosses the routes asynchronously: wait until each
		// client's node knows every replica.
		for _, c := range clients {
			waitServed(t, c, 5*time.Second)
		}
		time.Sleep(100 * time.Millisecond)
		for i := range served {
			served[i].Store(0)
		}

		for i := range 300 {
			_, err := clients[i%3].Call(context.Background(), "Work", i)
			require.NoError(t, err)
		}
		for i := range served {
			assert.Positive(t, served[i].Load(), "replica %d: %d of 300", i, served[i].Load())
		}
		t.Logf("spread of 300: %d, %d, %d", served[0].Load(), served[1].Load(), served[2].Load())

		const calls, deadline = 400, time.Second
		var wg sync.WaitGroup
		var ok, failed atomic.Int64
		var started atomic.Int64
		sem := make(chan struct{}, 40)
		for i := range calls {
			sem <- struct{}{}
			if started.Add(1) == calls/4 {
				go nodes[2].Shutdown()
			}
			wg.Go(func() {
				defer func() { <-sem }()
				ctx, cancel := context.WithTimeout(context.Background(), deadline)
				defer cancel()
				start := time.Now()
				_, err := clients[i%3].Call(ctx, "Work", i)
				took := time.Since(start)
				assert.Less(t, took, deadline+500*time.Millisecond, "call %d took %v: %v", i, took, err)
				if err == nil {
					ok.Add(1)
					return
				}
				failed.Add(1)
				t.Logf("call %d failed after %v: %v", i, took.Round(time.Millisecond), err)
				assert.True(t, clearError(err), "call %d: unclear error %v", i, err)
			})
		}
		wg.Wait()
		t.Logf("during the shutdown: %d completed, %d failed clearly", ok.Load(), failed.Load())
		assert.Positive(t, ok.Load())

		// After the reconnect window, the survivors serve everything.
		waitReconnected(t, serveNCs[2], 5*time.Second)
		for _, c := range clients {
			waitServed(t, c, 5*time.Second)
		}
		time.Sleep(200 * time.Millisecond)
		for i := range served {
			served[i].Store(0)
		}
		for i := range 60 {
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			_, err := clients[i%3].Call(ctx, "Work", i)
			cancel()
			assert.NoError(t, err, "call %d after the shutdown", i)
		}
		assert.Equal(t, int64(60), served[0].Load()+served[1].Load()+served[2].Load())
		t.Logf("after the shutdown: %d, %d, %d (replica 2 now through a surviving node)", served[0].Load(), served[1].Load(), served[2].Load())
	})
}

// clearError reports whether err is one a caller can act on: its deadline, no
// responders, the connection lost, the replica closing.
func clearError(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, natsactions.ErrNoResponders) ||
		errors.Is(err, nats.ErrDisconnected) ||
		errors.Is(err, nats.ErrConnectionReconnecting) ||
		errors.Is(err, actions.ErrClosed)
}

// waitServed calls until a call succeeds.
func waitServed(t *testing.T, c *natsactions.Client, within time.Duration) {
	t.Helper()
	end := time.Now().Add(within)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 250*time.Millisecond)
		_, err := c.Call(ctx, "Work", 0)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("not served within %v: %v", within, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func waitReconnected(t *testing.T, nc *nats.Conn, within time.Duration) {
	t.Helper()
	end := time.Now().Add(within)
	for !nc.IsConnected() {
		if time.Now().After(end) {
			t.Fatalf("not reconnected within %v: %v", within, nc.Status())
		}
		time.Sleep(10 * time.Millisecond)
	}
	require.NoError(t, nc.Flush(), fmt.Sprint("flush after reconnect to ", nc.ConnectedUrl()))
}
