package main

import (
	"bytes"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The program prints the span tree of the scenario: the same on every run,
// since IDs and times are left out and the scenario runs in one goroutine.
func TestRun(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, run(&buf))
	assert.Equal(t, wantTree, buf.String())
}

// The README shows the tree as the program prints it.
func TestREADME(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	assert.Contains(t, string(readme), "```\n"+wantTree+"```\n")
}

const wantTree = `contact-centre shift
  AcceptTask
    │ actions.action: "AcceptTask"
    │ actions.depth: 1
    │ actions.invocation.id: 1
    │ actions.outcome: "ok"
    │ actions.payload: "WT001 (chat from Ada)"
    │ actions.result: "assigned"
    ! screen pop
    │   crm.customer: "Ada"
    NotifyAgent
      │ actions.action: "NotifyAgent"
      │ actions.depth: 2
      │ actions.invocation.id: 2
      │ actions.invocation.parent_id: 1
      │ actions.outcome: "ok"
      │ actions.payload: "WT001 accepted"
      │ actions.result: "sent: WT001 accepted"
  AcceptTask
    │ actions.abort.reason: "agent declined WT002"
    │ actions.action: "AcceptTask"
    │ actions.depth: 1
    │ actions.error: "actions: AcceptTask: action aborted in before phase by listener \"confirm-accept\": agent declined WT002"
    │ actions.invocation.id: 3
    │ actions.listener: "confirm-accept"
    │ actions.outcome: "aborted"
    │ actions.payload: "WT002 (voice from Grace)"
    │ actions.stage: "before phase"
    │ error.type: "aborted"
  CompleteTask [Error: actions: CompleteTask: action failed in body: WT001 is assigned: task is not wrapped up]
    │ actions.action: "CompleteTask"
    │ actions.depth: 1
    │ actions.error: "actions: CompleteTask: action failed in body: WT001 is assigned: task is not wrapped up"
    │ actions.invocation.id: 4
    │ actions.outcome: "failed"
    │ actions.payload: "WT001 (chat from Ada)"
    │ actions.stage: "body"
    │ error.type: "failed"
    ! exception
    │   actions.stage: "body"
    │   exception.message: "actions: CompleteTask: action failed in body: WT001 is assigned: task is not wrapped up"
    │   exception.type: "*fmt.wrapError"
`
