package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// span is what the tree needs of a span as the stdout exporter writes it.
type span struct {
	Name        string
	SpanContext struct{ SpanID string }
	Parent      struct{ SpanID string }
	StartTime   time.Time
	Attributes  []keyValue
	Events      []struct {
		Name       string
		Attributes []keyValue
	}
	Status struct{ Code, Description string }

	order    int // the order the span was exported in
	children []*span
}

type keyValue struct {
	Key   string
	Value struct{ Value any }
}

// parseSpans reads the exporter's output, one JSON object per span.
func parseSpans(r io.Reader) ([]*span, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	var spans []*span
	for {
		s := &span{order: len(spans)}
		if err := dec.Decode(s); errors.Is(err, io.EOF) {
			return spans, nil
		} else if err != nil {
			return nil, err
		}
		spans = append(spans, s)
	}
}

// printTree prints the spans as a tree, each under its parent, siblings in
// the order they started. Trace and span IDs and times change from run to
// run: they are left out.
func printTree(w io.Writer, spans []*span) error {
	byID := map[string]*span{}
	for _, s := range spans {
		byID[s.SpanContext.SpanID] = s
	}
	var roots []*span
	for _, s := range spans {
		if p, ok := byID[s.Parent.SpanID]; ok {
			p.children = append(p.children, s)
		} else {
			roots = append(roots, s)
		}
	}
	var b strings.Builder
	for _, s := range sortByStart(roots) {
		writeSpan(&b, s, "")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func sortByStart(spans []*span) []*span {
	slices.SortStableFunc(spans, func(a, b *span) int {
		return cmp.Or(a.StartTime.Compare(b.StartTime), cmp.Compare(a.order, b.order))
	})
	return spans
}

// writeSpan writes s and its children, indented by indent.
func writeSpan(b *strings.Builder, s *span, indent string) {
	fmt.Fprintf(b, "%s%s", indent, s.Name)
	if s.Status.Code != "Unset" {
		fmt.Fprintf(b, " [%s: %s]", s.Status.Code, s.Status.Description)
	}
	b.WriteString("\n")
	writeAttrs(b, indent+"  │ ", s.Attributes)
	for _, ev := range s.Events {
		fmt.Fprintf(b, "%s  ! %s\n", indent, ev.Name)
		writeAttrs(b, indent+"  │   ", ev.Attributes)
	}
	for _, c := range sortByStart(s.children) {
		writeSpan(b, c, indent+"  ")
	}
}

func writeAttrs(b *strings.Builder, prefix string, attrs []keyValue) {
	attrs = slices.Clone(attrs)
	slices.SortFunc(attrs, func(x, y keyValue) int { return strings.Compare(x.Key, y.Key) })
	for _, kv := range attrs {
		if kv.Key == "exception.stacktrace" { // a stack has addresses: say it is there
			fmt.Fprintf(b, "%s%s: (%d lines)\n", prefix, kv.Key, strings.Count(fmt.Sprint(kv.Value.Value), "\n"))
			continue
		}
		v, _ := json.Marshal(kv.Value.Value)
		fmt.Fprintf(b, "%s%s: %s\n", prefix, kv.Key, v)
	}
}
