package actions

import (
	"context"
	"log/slog"
)

// SlogObserver returns an [Observer] that logs each invocation's end to
// logger (slog.Default() when nil), with the invocation's context, so that a
// trace-aware handler correlates the record with its span. The level and
// message follow the outcome's [Status]: "action done" at Debug, "action
// aborted" at Info, "action cancelled" at Info (the invocation's own context
// was done, wherever that landed), "action rejected" at Info (not found,
// closed, blocked, pending, too deep, a payload of the wrong type) and
// "action failed" at Warn. Attributes: action, id, parent, depth, duration,
// status, shared when it shared another's outcome, and for an error its
// stage, listener, the abort's reason, the panic's value and stack, and the
// message (see [ErrorAttrs]). Begins are logged at Debug.
func SlogObserver(logger *slog.Logger) Observer {
	return slogObserver{logger}
}

type slogObserver struct{ l *slog.Logger }

func (s slogObserver) logger() *slog.Logger {
	if s.l != nil {
		return s.l
	}
	return slog.Default()
}

func (s slogObserver) InvocationBegin(ctx context.Context, inv Invocation) context.Context {
	s.logger().LogAttrs(ctx, slog.LevelDebug, "action begin", invAttrs(inv)...)
	return ctx
}

var statusLevels = [...]struct {
	level slog.Level
	msg   string
}{
	StatusOK:        {slog.LevelDebug, "action done"},
	StatusAborted:   {slog.LevelInfo, "action aborted"},
	StatusFailed:    {slog.LevelWarn, "action failed"},
	StatusRejected:  {slog.LevelInfo, "action rejected"},
	StatusCancelled: {slog.LevelInfo, "action cancelled"},
}

func (s slogObserver) InvocationEnd(ctx context.Context, inv Invocation, out Outcome) {
	lv := statusLevels[out.Status()]
	l := s.logger()
	if !l.Enabled(ctx, lv.level) {
		return
	}
	attrs := append(invAttrs(inv), slog.Duration("duration", out.Duration))
	if out.Shared {
		attrs = append(attrs, slog.Bool("shared", true))
	}
	if out.Err == nil {
		attrs = append(attrs, slog.String("status", StatusOK.String()))
	} else {
		attrs = append(attrs, ErrorAttrs(out.Err)...)
	}
	l.LogAttrs(ctx, lv.level, lv.msg, attrs...)
}

func invAttrs(inv Invocation) []slog.Attr {
	attrs := []slog.Attr{slog.String("action", inv.Action)}
	if inv.ID != 0 {
		attrs = append(attrs, slog.Uint64("id", inv.ID))
	}
	if inv.ParentID != 0 {
		attrs = append(attrs, slog.Uint64("parent", inv.ParentID))
	}
	return append(attrs, slog.Int("depth", inv.Depth))
}

// ErrorAttrs returns the details of an invocation's error as log attributes:
// status, and where known stage, listener, plugin, reason (an abort's or a
// block's), panic and
// stack (a recovered panic's), then err, the message. It reads the
// library's own errors without walking into what user code returned, and
// reads messages with fmt, which contains a panicking Error method.
func ErrorAttrs(err error) []slog.Attr {
	attrs := []slog.Attr{slog.String("status", StatusOf(err).String())}
	if e := ErrorOf(err); e != nil {
		if e.Stage != StageNone {
			attrs = append(attrs, slog.String("stage", e.Stage.String()))
		}
		if e.Listener != "" {
			attrs = append(attrs, slog.String("listener", e.Listener))
		}
		if e.Plugin != "" {
			attrs = append(attrs, slog.String("plugin", e.Plugin))
		}
		switch cause := e.Err.(type) {
		case *PanicError:
			attrs = append(attrs, slog.String("panic", printable(cause.Value)), slog.String("stack", string(cause.Stack)))
		case nil:
		default:
			if e.Kind == ErrAborted || e.Kind == ErrBlocked {
				attrs = append(attrs, slog.String("reason", errorString(cause)))
			}
		}
	}
	return append(attrs, slog.String("err", errorString(err)))
}

// logErrors is the default error handler: one record per error, at Error,
// with the invocation's attributes from ctx and the error's.
func logErrors(ctx context.Context, err error) {
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	var inv []slog.Attr
	if i, ok := InvocationFrom(ctx); ok {
		inv = invAttrs(i)
	}
	for _, e := range errs {
		msg := "actions: observer failed"
		if x, ok := e.(*Error); ok && x.Stage == StageAfter {
			msg = "actions: after-listener failed"
		}
		slog.Default().LogAttrs(ctx, slog.LevelError, msg, append(inv[:len(inv):len(inv)], ErrorAttrs(e)...)...)
	}
}
