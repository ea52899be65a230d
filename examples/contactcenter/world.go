package main

import (
	"fmt"
	"slices"
	"sync"
)

// Channel is how a task reached the contact centre.
type Channel string

// The channels of this world.
const (
	Voice Channel = "voice"
	Chat  Channel = "chat"
)

// Status is where a task is in its life, with TaskRouter's names.
type Status string

// A task is offered (reserved), accepted (assigned), wrapped up, completed.
const (
	Reserved  Status = "reserved"
	Assigned  Status = "assigned"
	Wrapping  Status = "wrapping"
	Completed Status = "completed"
)

// Task is a customer's request offered to the agent. Its fields are fixed
// once made; its status lives in the [World], which serialises changes.
type Task struct {
	SID          string
	Channel      Channel
	Customer     string
	Conversation string // the chat conversation's SID; empty for voice
}

// String describes the task in trace lines.
func (t *Task) String() string {
	return fmt.Sprintf("%s (%s from %s)", t.SID, t.Channel, t.Customer)
}

// Message is one line of a chat conversation.
type Message struct {
	SID          string // set by the world when the message is sent
	Conversation string
	Author       string
	Body         string
}

// String describes the message in trace lines.
func (m *Message) String() string { return "to " + m.Conversation }

// TransitionError is the error of an action that found a task in another
// status than it needs, such as completing a task twice.
type TransitionError struct {
	Task      string
	Got, Want Status
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("task %s is %s, want %s", e.Task, e.Got, e.Want)
}

// World is the in-memory contact centre: tasks, conversations and a log of
// what happened, in order. It is safe for concurrent use.
type World struct {
	mu       sync.Mutex           // guards the fields below
	tasks    []*Task              // in arrival order
	status   map[*Task]Status     // every task's current status
	messages map[string][]Message // by conversation SID
	sent     int                  // messages sent so far, for their SIDs
	events   []string             // what changed, in order
}

// NewWorld returns an empty world.
func NewWorld() *World {
	return &World{status: make(map[*Task]Status), messages: make(map[string][]Message)}
}

// Offer creates a reserved task; a chat task gets a conversation that starts
// with the customer's first message.
func (w *World) Offer(sid string, ch Channel, customer, firstMessage string) *Task {
	t := &Task{SID: sid, Channel: ch, Customer: customer}
	w.mu.Lock()
	defer w.mu.Unlock()
	if ch == Chat {
		t.Conversation = fmt.Sprintf("CH%03d", len(w.messages)+1)
		w.messages[t.Conversation] = []Message{{SID: w.nextSID(), Conversation: t.Conversation, Author: customer, Body: firstMessage}}
	}
	w.tasks = append(w.tasks, t)
	w.status[t] = Reserved
	w.events = append(w.events, t.SID+" offered")
	return t
}

// Status returns the task's current status.
func (w *World) Status(t *Task) Status {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.status[t]
}

// Move changes the task's status from one to another, or fails with a
// [*TransitionError] when the task is not in the status from.
func (w *World) Move(t *Task, from, to Status) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if got := w.status[t]; got != from {
		return &TransitionError{Task: t.SID, Got: got, Want: from}
	}
	w.status[t] = to
	w.events = append(w.events, fmt.Sprintf("%s %s -> %s", t.SID, from, to))
	return nil
}

// Assigned returns how many tasks the agent is working on.
func (w *World) Assigned() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, s := range w.status {
		if s == Assigned {
			n++
		}
	}
	return n
}

// Send appends a message to its conversation and returns the message's SID.
func (w *World) Send(m Message) (string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.messages[m.Conversation]; !ok {
		return "", fmt.Errorf("no conversation %q", m.Conversation)
	}
	m.SID = w.nextSID()
	w.messages[m.Conversation] = append(w.messages[m.Conversation], m)
	w.events = append(w.events, fmt.Sprintf("%s %s: %s", m.Conversation, m.Author, m.Body))
	return m.SID, nil
}

func (w *World) nextSID() string {
	w.sent++
	return fmt.Sprintf("IM%03d", w.sent)
}

// Note records an event that is not a status change or a message, such as
// a CRM screen pop.
func (w *World) Note(event string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.events = append(w.events, event)
}

// Tasks returns the tasks in arrival order.
func (w *World) Tasks() []*Task {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.tasks)
}

// Messages returns a conversation's messages in order.
func (w *World) Messages(conversation string) []Message {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.messages[conversation])
}

// Events returns what happened, in order.
func (w *World) Events() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.events)
}
