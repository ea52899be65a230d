package natsactions_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/go-actions/actions"
	"github.com/go-actions/actions/natsactions"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestUndecodablePayloadRunsNoStage: a payload the server's codec cannot
// decode fails before the lifecycle starts.
func TestUndecodablePayloadRunsNoStage(t *testing.T) {
	e := newEnv(t)
	rec := &recorder{}
	reg := actions.New()
	place := actions.Typed[order, receipt](reg, "PlaceOrder")
	_, err := place.Register(func(context.Context, order) (receipt, error) {
		rec.add("body")
		return receipt{}, nil
	}, actions.UpdatePayload(func(_ context.Context, p any) (any, error) { rec.add("update"); return p, nil }),
		actions.Deduplicate(func(any) string { rec.add("key"); return "k" }, actions.SharePending))
	require.NoError(t, err)
	instrument(reg, "PlaceOrder", "", rec)
	srv := e.serve(t, reg, nil)
	require.NoError(t, natsactions.ServeTyped(srv, place))

	_, err = e.client.Call(t.Context(), "PlaceOrder", "not an order")
	require.Error(t, err)
	assert.ErrorIs(t, err, natsactions.ErrCodec)
	assert.ErrorIs(t, err, actions.ErrFailed)
	assert.Contains(t, err.Error(), "decode payload")
	assert.Equal(t, actions.StageNone, actions.ErrorOf(err).Stage)
	assert.Empty(t, rec.String(), "no stage ran")

	// The control: a payload that decodes runs every stage.
	_, err = e.client.Call(t.Context(), "PlaceOrder", order{ID: "o1"})
	require.NoError(t, err)
	for _, step := range []string{"block", "key", "update", "before", "replace>", "body", "<replace", "after"} {
		assert.Equal(t, 1, rec.count(step), step)
	}
}

// failing is a codec whose steps fail or panic on demand.
type failing struct {
	natsactions.Codec
	marshal   func(v any) error
	unmarshal func(data []byte) error
}

func (f failing) Marshal(v any) ([]byte, error) {
	if f.marshal != nil {
		if err := f.marshal(v); err != nil {
			return nil, err
		}
	}
	return natsactions.JSON.Marshal(v)
}

func (f failing) Unmarshal(data []byte, v any) error {
	if f.unmarshal != nil {
		if err := f.unmarshal(data); err != nil {
			return err
		}
	}
	return natsactions.JSON.Unmarshal(data, v)
}

func TestCodecErrors(t *testing.T) {
	e := newEnv(t)
	rec := &recorder{}
	reg := actions.New()
	_, err := reg.RegisterAction("Echo", func(ctx context.Context, p any) (any, error) { rec.add("body"); return echo(ctx, p) })
	require.NoError(t, err)
	_, err = reg.RegisterAction("Chan", func(context.Context, any) (any, error) { rec.add("chan"); return make(chan int), nil })
	require.NoError(t, err)
	e.serve(t, reg, []string{"Echo", "Chan"})
	picky := failing{unmarshal: func(data []byte) error {
		if strings.Contains(string(data), "panic") {
			panic("codec panics")
		}
		if strings.Contains(string(data), "refuse") {
			return errors.New("refused")
		}
		return nil
	}}
	e.serve(t, reg, []string{"Echo"}, natsactions.WithCodec(picky), natsactions.WithSubjectPrefix("picky"))
	pickyClient := natsactions.NewClient(e.useNC, natsactions.WithSubjectPrefix("picky"))

	for _, tc := range []struct {
		name string
		call func() error
		op   string
		ran  string
	}{
		{"encode payload", func() error { _, err := e.client.Call(t.Context(), "Echo", make(chan int)); return err }, "encode payload", ""},
		{"decode payload", func() error { _, err := pickyClient.Call(t.Context(), "Echo", "refuse"); return err }, "decode payload", ""},
		{"decode payload panics", func() error { _, err := pickyClient.Call(t.Context(), "Echo", "panic"); return err }, "decode payload", ""},
		{"encode result", func() error { _, err := e.client.Call(t.Context(), "Chan", nil); return err }, "encode result", "chan"},
		{"decode result", func() error {
			_, err := natsactions.CallTyped[string, int](t.Context(), e.client, "Echo", "x")
			return err
		}, "decode result", "body"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec.reset()
			err := tc.call()
			require.Error(t, err)
			assert.ErrorIs(t, err, natsactions.ErrCodec)
			assert.ErrorIs(t, err, actions.ErrFailed)
			assert.Contains(t, err.Error(), tc.op)
			assert.Equal(t, tc.ran, rec.String())
		})
	}
	var ce *natsactions.CodecError
	_, err = e.client.Call(t.Context(), "Echo", make(chan int))
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "encode payload", ce.Op)

	// The server survived its codec's panic.
	got, err := pickyClient.Call(t.Context(), "Echo", "fine")
	require.NoError(t, err)
	assert.Equal(t, "echo fine", got)
}

// TestGarbageOnTheWire sends bytes no client of this module would to an
// endpoint: the server answers with an error reply and keeps serving.
func TestGarbageOnTheWire(t *testing.T) {
	e := newEnv(t)
	reg := actions.New()
	_, err := reg.RegisterAction("Echo", echo)
	require.NoError(t, err)
	e.serve(t, reg, []string{"Echo"})

	for _, garbage := range [][]byte{{0xff, 0x00, 0xfe}, []byte("{"), nil} {
		m, err := e.useNC.Request("actions.Echo", garbage, 2*time.Second)
		require.NoError(t, err)
		assert.Equal(t, "400", m.Header.Get(micro.ErrorCodeHeader), "%q", garbage)
		assert.Contains(t, m.Header.Get(micro.ErrorHeader), "decode payload")
		var body map[string]any
		require.NoError(t, json.Unmarshal(m.Data, &body))
		assert.Equal(t, "failed", body["kind"])
	}
	// Headers that do not parse are ignored: no deadline, no caller.
	msg := &nats.Msg{Subject: "actions.Echo", Data: []byte(`"x"`), Header: nats.Header{natsactions.HeaderTimeout: {"soon"}, natsactions.HeaderCallerID: {"-1"}}}
	m, err := e.useNC.RequestMsg(msg, 2*time.Second)
	require.NoError(t, err)
	assert.JSONEq(t, `"echo x"`, string(m.Data))

	got, err := e.client.Call(t.Context(), "Echo", "still serving")
	require.NoError(t, err)
	assert.Equal(t, "echo still serving", got)
}

func TestTooLarge(t *testing.T) {
	e := newEnv(t)
	reg := actions.New()
	_, err := reg.RegisterAction("Big", func(_ context.Context, p any) (any, error) {
		return strings.Repeat("x", int(p.(float64))), nil
	})
	require.NoError(t, err)
	_, err = reg.RegisterAction("Len", func(_ context.Context, p any) (any, error) { return len(p.(string)), nil })
	require.NoError(t, err)
	srv := e.serve(t, reg, []string{"Big", "Len"})
	max := int(e.useNC.MaxPayload())

	t.Run("request", func(t *testing.T) {
		_, err := e.client.Call(t.Context(), "Len", strings.Repeat("x", max))
		assert.ErrorIs(t, err, natsactions.ErrTooLarge)
		assert.ErrorIs(t, err, nats.ErrMaxPayload)
		assert.Contains(t, err.Error(), "the server takes at most")
		st, _ := srv.Stats("Len")
		assert.Zero(t, st.Requests, "nothing was sent")
	})
	t.Run("reply", func(t *testing.T) {
		_, err := e.client.Call(t.Context(), "Big", max+1)
		assert.ErrorIs(t, err, natsactions.ErrTooLarge)
		assert.ErrorIs(t, err, actions.ErrFailed)
		assert.NotNil(t, natsactions.RemoteErrorOf(err), "the server said so")
	})
	got, err := e.client.Call(t.Context(), "Len", "abc")
	require.NoError(t, err)
	assert.Equal(t, 3.0, got)
}

func TestUnknownAction(t *testing.T) {
	e := newEnv(t)
	reg := actions.New()
	srv := e.serve(t, reg, []string{"Later"})
	start := time.Now()
	_, err := e.client.Call(t.Context(), "Nobody", nil)
	assert.ErrorIs(t, err, actions.ErrActionNotFound)
	assert.ErrorIs(t, err, natsactions.ErrNoResponders)
	assert.Equal(t, actions.StatusRejected, actions.StatusOf(err))
	assert.Less(t, time.Since(start), time.Second, "no responders is known at once")

	_, err = e.client.Call(t.Context(), "Later", nil)
	assert.ErrorIs(t, err, actions.ErrActionNotFound)
	assert.NotErrorIs(t, err, natsactions.ErrNoResponders, "served, not registered")

	assert.Error(t, srv.Serve("Later"), "served twice")
	assert.Error(t, srv.Serve("has.dots"), "not an endpoint name")
	assert.Error(t, srv.Serve("has space"))
}

// TestRemoteServerDownAtStart: nothing to connect to fails at setup; a
// connection that keeps retrying fails each call within its deadline.
func TestRemoteServerDownAtStart(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	url := "nats://" + l.Addr().String()
	require.NoError(t, l.Close())

	within(t, 10*time.Second, func() {
		_, err := nats.Connect(url, nats.Timeout(time.Second))
		assert.ErrorIs(t, err, nats.ErrNoServers)

		nc, err := nats.Connect(url, nats.RetryOnFailedConnect(true), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
		require.NoError(t, err)
		defer nc.Close()
		srv, err := natsactions.NewServer(nc, actions.New())
		if err == nil {
			assert.NoError(t, srv.Serve("Echo"))
			defer func() { assert.NoError(t, srv.Stop(context.Background())) }()
		}
		c := natsactions.NewClient(nc)
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err = c.Call(ctx, "Echo", nil)
		assert.ErrorIs(t, err, actions.ErrFailed)
		assert.Contains(t, err.Error(), "not connected")
		assert.Less(t, time.Since(start), time.Second)

		nc.Close()
		_, err = c.Call(context.Background(), "Echo", nil)
		assert.ErrorIs(t, err, nats.ErrConnectionClosed)
		assert.ErrorIs(t, err, actions.ErrFailed)
	})
}
