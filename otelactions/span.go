package otelactions

import (
	"fmt"

	"github.com/go-actions/actions"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// setOutcome sets what the outcome says on the invocation's span: its
// attributes, the exception events of a failure and of the after-listeners'
// failures, and its status.
func (o *Observer) setOutcome(span trace.Span, st actions.Status, out actions.Outcome, afterErrs []error) {
	attrs := make([]attribute.KeyValue, 0, 8)
	attrs = append(attrs, OutcomeKey.String(st.String()))
	if out.Shared {
		attrs = append(attrs, SharedKey.Bool(true))
	}
	if o.payloads && out.Err == nil {
		attrs = append(attrs, ResultKey.String(fmt.Sprintf("%v", out.Result)))
	}
	if len(afterErrs) > 0 {
		attrs = append(attrs, AfterListenerFailuresKey.Int(len(afterErrs)))
	}
	if out.Err != nil {
		msg := message(out.Err)
		// error.type is the outcome: the domain's own, low-cardinality
		// classification of what went wrong, as the conventions advise.
		attrs = append(attrs, semconv.ErrorTypeKey.String(st.String()), ErrorKey.String(msg))
		e := invocationError(out.Err)
		attrs = append(attrs, errorAttrs(e)...)
		if st == actions.StatusFailed {
			addException(span, e, out.Err, msg)
		}
		if o.errorStatus.has(st) {
			span.SetStatus(codes.Error, msg)
		}
	}
	span.SetAttributes(attrs...)
	for _, err := range afterErrs {
		addException(span, invocationError(err), err, message(err))
	}
}

// errorAttrs returns the stage, listener and abort reason of e, the
// invocation's error, where known.
func errorAttrs(e *actions.Error) []attribute.KeyValue {
	if e == nil {
		return nil
	}
	var attrs []attribute.KeyValue
	if e.Stage != actions.StageNone {
		attrs = append(attrs, StageKey.String(e.Stage.String()))
	}
	if e.Listener != "" {
		attrs = append(attrs, ListenerKey.String(e.Listener))
	}
	if e.Plugin != "" {
		attrs = append(attrs, PluginKey.String(e.Plugin))
	}
	if _, isPanic := e.Err.(*actions.PanicError); !isPanic && e.Err != nil {
		switch e.Kind {
		case actions.ErrAborted:
			attrs = append(attrs, AbortReasonKey.String(message(e.Err)))
		case actions.ErrBlocked:
			attrs = append(attrs, BlockReasonKey.String(message(e.Err)))
		}
	}
	return attrs
}

// addException adds an exception event for err, whose message is msg and
// whose library error, when it made one, is e: its type is that of the
// stage's own error (of the panic's value, for a recovered panic), and a
// recovered panic's stack is its stacktrace. (span.RecordError would record
// the stack of this call, not the panic's.)
func addException(span trace.Span, e *actions.Error, err error, msg string) {
	cause := err
	if e != nil && e.Err != nil {
		cause = e.Err
	}
	attrs := make([]attribute.KeyValue, 0, 5)
	p, isPanic := cause.(*actions.PanicError)
	if isPanic {
		attrs = append(attrs, semconv.ExceptionTypeKey.String(fmt.Sprintf("%T", p.Value)))
	} else {
		attrs = append(attrs, semconv.ExceptionTypeKey.String(fmt.Sprintf("%T", cause)))
	}
	attrs = append(attrs, semconv.ExceptionMessageKey.String(msg))
	if isPanic {
		attrs = append(attrs, semconv.ExceptionStacktraceKey.String(string(p.Stack)))
	}
	if e != nil {
		if e.Stage != actions.StageNone {
			attrs = append(attrs, StageKey.String(e.Stage.String()))
		}
		if e.Listener != "" {
			attrs = append(attrs, ListenerKey.String(e.Listener))
		}
		if e.Plugin != "" {
			attrs = append(attrs, PluginKey.String(e.Plugin))
		}
	}
	span.AddEvent(semconv.ExceptionEventName, trace.WithAttributes(attrs...))
}

// invocationError returns the library's error that err, an invocation's
// error, is or leads with (a concurrent phase joins its listeners' errors),
// nil if the library did not make it. Like [actions.ErrorAttrs], it does not
// walk into what user code returned.
func invocationError(err error) *actions.Error { return actions.ErrorOf(err) }

// joined returns the errors err joins, err alone if it joins none, and none
// for nil.
func joined(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// message returns err's message, read with fmt, which contains a panicking
// Error method.
func message(err error) string { return fmt.Sprint(err) }
