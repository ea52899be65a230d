package natsactions_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if any test left a goroutine behind: the servers'
// request goroutines, the connections and the NATS servers all end with
// their test.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
