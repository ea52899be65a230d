package natsactions_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/go-actions/actions"
	"github.com/go-actions/actions/natsactions"
	"github.com/go-actions/actions/natsactions/internal/natstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestJetStreamServerDownAtStart: the constructors that need JetStream
// fail within their context's deadline when no server is up.
func TestJetStreamServerDownAtStart(t *testing.T) {
	leakCheck(t)
	srv := natstest.Server(t)
	url := srv.ClientURL()
	srv.Shutdown()
	srv.WaitForShutdown()
	// A client that waits for the server to come: the constructors must not.
	js, _ := jetStream(t, url, natsRetryOnFailedConnect())
	reg := actions.New()
	for name, start := range map[string]func(context.Context) error{
		"publisher": func(ctx context.Context) error { _, err := natsactions.NewPublisher(ctx, js); return err },
		"subscriber": func(ctx context.Context) error {
			_, err := natsactions.Subscribe(ctx, js, "svc", func(context.Context, *natsactions.Event) error { return nil })
			return err
		},
		"exclusive": func(ctx context.Context) error { _, err := natsactions.NewExclusive(ctx, js); return err },
		"blocks":    func(ctx context.Context) error { _, err := natsactions.NewBlocks(ctx, js, reg); return err },
	} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			begin := time.Now()
			err := start(ctx)
			require.Error(t, err)
			assert.Less(t, time.Since(begin), 3*time.Second)
			assert.True(t, strings.HasPrefix(err.Error(), "natsactions: "), "%v", err)
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			t.Log(err)
		})
	}
}
