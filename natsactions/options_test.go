package natsactions_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/go-actions/actions"
	"github.com/go-actions/actions/natsactions"
	"github.com/stretchr/testify/assert"
)

// TestOptionsApplyWhereTheySay: every option is taken by the constructors
// its documentation names, and panics at every other one, saying which;
// a zero Option panics everywhere.
func TestOptionsApplyWhereTheySay(t *testing.T) {
	leakCheck(t)
	ctx := deadline(t, 60*time.Second)
	js, nc := newJetStream(t)
	reg := actions.New()
	durables := 0
	constructors := map[string]func(opts ...natsactions.Option){
		"NewServer": func(opts ...natsactions.Option) {
			if srv, err := natsactions.NewServer(nc, reg, opts...); err == nil {
				assert.NoError(t, srv.Stop(ctx))
			}
		},
		"NewClient": func(opts ...natsactions.Option) { natsactions.NewClient(nc, opts...) },
		"NewPublisher": func(opts ...natsactions.Option) {
			if p, err := natsactions.NewPublisher(ctx, js, opts...); err == nil {
				assert.NoError(t, p.Close(ctx))
			}
		},
		"Subscribe": func(opts ...natsactions.Option) {
			durables++ // each its own consumer: the options differ
			h := func(context.Context, *natsactions.Event) error { return nil }
			if s, err := natsactions.Subscribe(ctx, js, fmt.Sprint("opts", durables), h, opts...); err == nil {
				assert.NoError(t, s.Stop(ctx))
			}
		},
		"NewExclusive": func(opts ...natsactions.Option) { _, _ = natsactions.NewExclusive(ctx, js, opts...) },
		"NewBlocks": func(opts ...natsactions.Option) {
			if b, err := natsactions.NewBlocks(ctx, js, reg, opts...); err == nil {
				assert.NoError(t, b.Close())
			}
		},
	}
	jetStreamOnes := []string{"NewPublisher", "Subscribe", "NewExclusive", "NewBlocks"}
	for _, o := range []struct {
		name string
		opt  natsactions.Option
		to   []string
	}{
		{"WithCodec", natsactions.WithCodec(natsactions.JSON), []string{"NewServer", "NewClient", "NewPublisher", "Subscribe"}},
		{"WithErrorHandler", natsactions.WithErrorHandler(func(context.Context, error) {}), append([]string{"NewServer"}, jetStreamOnes...)},
		{"WithSubjectPrefix", natsactions.WithSubjectPrefix("opts"), []string{"NewServer", "NewClient"}},
		{"WithTimeout", natsactions.WithTimeout(time.Second), []string{"NewClient"}},
		{"WithServiceName", natsactions.WithServiceName("opts"), []string{"NewServer"}},
		{"WithVersion", natsactions.WithVersion("1.0.0"), []string{"NewServer"}},
		{"WithDescription", natsactions.WithDescription("options"), []string{"NewServer"}},
		{"WithQueueGroup", natsactions.WithQueueGroup("opts"), []string{"NewServer"}},
		{"WithConcurrency", natsactions.WithConcurrency(2), []string{"NewServer"}},
		{"WithReplicas", natsactions.WithReplicas(1), jetStreamOnes},
		{"WithStream", natsactions.WithStream("OPTS", "opts.events"), []string{"NewPublisher", "Subscribe"}},
		{"WithSource", natsactions.WithSource("replica"), []string{"NewPublisher"}},
		{"WithActions", natsactions.WithActions("A"), []string{"NewPublisher", "Subscribe"}},
		{"WithQueueSize", natsactions.WithQueueSize(8), []string{"NewPublisher"}},
		{"WithPublishRetry", natsactions.WithPublishRetry(time.Second, 2), []string{"NewPublisher"}},
		{"WithMaxDeliver", natsactions.WithMaxDeliver(3), []string{"Subscribe"}},
		{"WithBackOff", natsactions.WithBackOff(func(int) time.Duration { return time.Second }), []string{"Subscribe"}},
		{"WithAckWait", natsactions.WithAckWait(2 * time.Second), []string{"Subscribe"}},
		{"WithDeadLetter", natsactions.WithDeadLetter(func(context.Context, *natsactions.Event, error) {}), []string{"Subscribe"}},
		{"WithBucket", natsactions.WithBucket("opts"), []string{"NewExclusive", "NewBlocks"}},
		{"WithTTL", natsactions.WithTTL(2 * time.Second), []string{"NewExclusive"}},
		{"WithBlockKey", natsactions.WithBlockKey("A", func(any) string { return "" }), []string{"NewBlocks"}},
	} {
		for ctor, call := range constructors {
			if slices.Contains(o.to, ctor) {
				assert.NotPanics(t, func() { call(o.opt) }, "%s given to %s", o.name, ctor)
			} else {
				assert.PanicsWithValue(t, "natsactions: "+o.name+" does not apply to "+ctor, func() { call(o.opt) })
			}
		}
	}
	for ctor, call := range constructors {
		assert.PanicsWithValue(t, "natsactions: zero Option", func() { call(natsactions.Option{}) }, ctor)
	}
}
