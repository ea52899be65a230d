package natsactions

// This file finds or creates what replicas share on the server: the events
// stream and the key-value buckets.

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// eventStream returns the events stream o names, creating it when it does
// not exist. An existing stream is used as it is: its retention, limits and
// replicas are the operator's to choose.
func eventStream(ctx context.Context, js jetstream.JetStream, o *options) (jetstream.Stream, error) {
	s, err := js.Stream(ctx, o.stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		s, err = js.CreateStream(ctx, jetstream.StreamConfig{
			Name:     o.stream,
			Subjects: []string{o.subjects + ".>"},
			Storage:  jetstream.FileStorage,
			Replicas: o.replicas,
		})
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) { // another replica was first
			s, err = js.Stream(ctx, o.stream)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("natsactions: stream %s: %w", o.stream, err)
	}
	return s, nil
}

// subject is the subject of action's events.
func subject(prefix, action string) string { return prefix + "." + token(action) }

// keyValue returns the bucket o names, creating it with cfg's settings when
// it does not exist; an existing bucket is used as it is.
func keyValue(ctx context.Context, js jetstream.JetStream, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	kv, err := js.KeyValue(ctx, cfg.Bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		kv, err = js.CreateKeyValue(ctx, cfg)
		if errors.Is(err, jetstream.ErrBucketExists) || errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			kv, err = js.KeyValue(ctx, cfg.Bucket)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("natsactions: bucket %s: %w", cfg.Bucket, err)
	}
	return kv, nil
}
