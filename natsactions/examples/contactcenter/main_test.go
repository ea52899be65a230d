package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// TestRun runs the program and compares its output; when run returns,
// everything it started has ended: servers, publishers, subscriber,
// blocks, connections and the NATS server.
func TestRun(t *testing.T) {
	defer goleak.VerifyNone(t)
	var out bytes.Buffer
	require.NoError(t, run(&out))
	assert.Equal(t, want, out.String())
}

const want = `3 replicas serve AcceptTask in the queue group "q"; the front-end calls it through a Client.

# 1. The front-end accepts 48 offered tasks; the queue group spreads them
48 tasks assigned, taken by replica-1, replica-2, replica-3

# 2. The agent declines WT49: the front-end's own before-listener vetoes it
error: actions: AcceptTask: action aborted in before phase by listener "confirm-accept": agent declined WT49
sent to: no replica

# 3. A second click on WT01: a replica's before-listener aborts it
error: actions: AcceptTask: action failed in body: AcceptTask: action aborted in before phase by listener "confirm-reserved": natsactions: remote: WT01 is assigned, not reserved
errors.Is ErrAborted: true; the replica's listener: "confirm-reserved"

# 4. Maintenance: AcceptTask blocked through replica-1, refused on every replica
refused by replica-1, replica-2, replica-3, every time with:
  actions: AcceptTask: action failed in body: AcceptTask: action blocked: natsactions: remote: blocked on every replica through bucket "actions_blocks"
unblocked through replica-3: WT50 assigned

# 5. The replicas shut down; the reporting service reports
50 invocations of AcceptTask, each once, from replica-1, replica-2, replica-3
ok: 49, not ok: 1
  WT01 aborted: actions: AcceptTask: action aborted in before phase by listener "confirm-reserved": WT01 is assigned, not reserved
`
