package natsactions

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/go-actions/actions"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
)

// Headers of a request, set by the client and read by the server. Any
// other header the caller set with [WithHeader] travels too.
const (
	// HeaderTimeout is the time the caller had left when it sent the
	// request, as a Go duration ("1.5s"): the server's context deadline is
	// the receipt plus this. Relative, so that the clocks of the two
	// machines need not agree; the server's deadline is later than the
	// caller's by the one-way transit.
	HeaderTimeout = "Actions-Timeout"
	// HeaderCallerID is the ID of the caller's invocation (see
	// [actions.Invocation]), decimal; absent when the caller is not inside
	// an invocation or its registry has no observer (which is when the core
	// hands out IDs).
	HeaderCallerID = "Actions-Caller-Id"
	// HeaderCallerAction is the action of the caller's invocation, absent
	// when the caller is not inside one.
	HeaderCallerAction = "Actions-Caller-Action"
	// HeaderInstance, on an error reply, is the ID of the micro service
	// instance that sent it, as discovery lists it.
	HeaderInstance = "Actions-Instance"
)

// An error reply carries micro's error headers (micro.ErrorHeader with the
// message on one line, micro.ErrorCodeHeader with a code for micro's
// tooling) and, as its data, a wireError in JSON whatever the codec: the
// error's parts survive any text they hold.
type wireError struct {
	Action   string   `json:"action"`
	Kind     string   `json:"kind"` // kindNames; "" for a cancellation
	Stage    string   `json:"stage,omitempty"`
	Listener string   `json:"listener,omitempty"`
	Cause    string   `json:"cause,omitempty"` // the cause's message, "" when none
	Is       []string `json:"is,omitempty"`    // the well-known sentinels the cause matched
}

// wellKnown are the sentinels whose matching travels, by name: the kinds of
// the core, the context's errors and this module's causes.
var wellKnown = []struct {
	name string
	err  error
}{
	{"not-found", actions.ErrActionNotFound},
	{"closed", actions.ErrClosed},
	{"blocked", actions.ErrBlocked},
	{"pending", actions.ErrPending},
	{"aborted", actions.ErrAborted},
	{"failed", actions.ErrFailed},
	{"depth-exceeded", actions.ErrDepthExceeded},
	{"payload-type", actions.ErrPayloadType},
	{"panicked", actions.ErrPanicked},
	{"goexit", actions.ErrGoexit},
	{"already-registered", actions.ErrAlreadyRegistered},
	{"deadline-exceeded", context.DeadlineExceeded},
	{"canceled", context.Canceled},
	{"codec", ErrCodec},
	{"too-large", ErrTooLarge},
	{"no-responders", ErrNoResponders},
}

func sentinelName(err error) string {
	for _, w := range wellKnown {
		if w.err == err {
			return w.name
		}
	}
	return ""
}

func sentinelByName(name string) error {
	for _, w := range wellKnown {
		if w.name == name {
			return w.err
		}
	}
	return nil
}

func stageByName(name string) actions.Stage {
	for s := actions.StageNone; s <= actions.StageObserver; s++ {
		if s.String() == name {
			return s
		}
	}
	return actions.StageNone
}

// toWire describes an invocation's error for the wire. An error that is no
// [*actions.Error] (the server's own) becomes a failure outside any stage.
func toWire(action string, err error) wireError {
	e := actions.ErrorOf(err)
	if e == nil {
		e = &actions.Error{Action: action, Kind: actions.ErrFailed, Err: err}
	}
	w := wireError{Action: e.Action, Listener: e.Listener}
	if e.Kind != nil {
		w.Kind = sentinelName(e.Kind)
		if w.Kind == "" {
			w.Kind = "failed"
		}
	}
	if e.Stage != actions.StageNone {
		w.Stage = e.Stage.String()
	}
	if e.Err != nil {
		w.Cause = strings.TrimPrefix(e.Err.Error(), "actions: ")
		for _, k := range wellKnown {
			if errors.Is(e.Err, k.err) {
				w.Is = append(w.Is, k.name)
			}
		}
	}
	return w
}

// fromWire rebuilds the server's error; instance names the server.
func fromWire(w wireError, instance string) *actions.Error {
	e := &actions.Error{Action: w.Action, Stage: stageByName(w.Stage), Listener: w.Listener}
	if w.Kind != "" {
		if e.Kind = sentinelByName(w.Kind); e.Kind == nil {
			e.Kind = actions.ErrFailed // a kind this version does not know
		}
	}
	r := &RemoteError{Message: w.Cause, Instance: instance}
	for _, name := range w.Is {
		if s := sentinelByName(name); s != nil {
			r.is = append(r.is, s)
		}
	}
	e.Err = r
	return e
}

// errorCode is the code micro's tooling shows for an error reply.
func errorCode(w wireError) int {
	switch w.Kind {
	case "":
		return 408
	case "not-found":
		return 404
	case "blocked", "aborted":
		return 403
	case "pending":
		return 409
	case "closed":
		return 503
	case "payload-type":
		return 400
	}
	for _, s := range w.Is {
		switch s {
		case "codec":
			return 400
		case "too-large":
			return 413
		}
	}
	return 500
}

// errorReply builds the reply message of an error.
func errorReply(w wireError, summary string) *nats.Msg {
	data, _ := json.Marshal(w) // strings only: cannot fail
	m := &nats.Msg{Data: data, Header: nats.Header{}}
	m.Header.Set(micro.ErrorHeader, oneLine(summary))
	m.Header.Set(micro.ErrorCodeHeader, strconv.Itoa(errorCode(w)))
	return m
}

// oneLine keeps a header value on one line: a line break would end the
// header.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
}

// replyError returns the error a reply carries, nil for a result. A reply
// from a micro service that is not ours (no JSON body) becomes a failure
// with micro's description as cause.
func replyError(action string, m *nats.Msg) error {
	code := m.Header.Get(micro.ErrorCodeHeader)
	if code == "" {
		return nil
	}
	var w wireError
	if err := json.Unmarshal(m.Data, &w); err != nil || w.Action == "" {
		w = wireError{Action: action, Kind: "failed", Cause: code + " " + m.Header.Get(micro.ErrorHeader)}
	}
	return fromWire(w, m.Header.Get(HeaderInstance))
}
