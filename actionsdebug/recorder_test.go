package actionsdebug_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-actions/actions"
	"github.com/go-actions/actions/actionsdebug"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRecorderKeepsTheLastInvocations(t *testing.T) {
	reg, h, _ := recorded(t)
	register(t, reg, "A", ok)
	ctx := context.Background()
	var ids []uint64
	for range 1000 {
		_, err := reg.Call(ctx, "A", nil)
		require.NoError(t, err)
	}
	a := page(t, h, "/debug/actions?action=A").Actions[0]
	require.Len(t, a.Recent, actionsdebug.DefaultHistorySize)
	for _, r := range a.Recent {
		ids = append(ids, r.ID)
	}
	for i := 1; i < len(ids); i++ {
		assert.Equal(t, ids[i-1]-1, ids[i], "newest first, consecutive")
	}
	assert.Equal(t, a.Last.ID, ids[0])
	assert.Equal(t, uint64(1000), a.Counts.OK)
	var bucketed uint64
	for _, b := range a.Latency {
		bucketed += b.Count
	}
	assert.Equal(t, uint64(1000), bucketed)
	assert.Equal(t, 32, strings.Count(html(t, h, "/debug/actions?action=A"), `<tr class="record">`)-len(a.Slowest))
}

func TestRecorderHistorySize(t *testing.T) {
	reg, h, _ := recorded(t, actionsdebug.HistorySize(3))
	register(t, reg, "A", ok)
	for range 5 {
		reg.Call(context.Background(), "A", nil)
	}
	p := page(t, h, "/debug/actions?action=A")
	assert.Len(t, p.Actions[0].Recent, 3)
	assert.Equal(t, 3, p.Recorder.HistorySize)
}

// end records, straight through the observer's method, an invocation of
// action that began at start and lasted d.
func end(rec *actionsdebug.Recorder, action string, id uint64, start time.Time, d time.Duration) {
	inv := actions.Invocation{Action: action, ID: id, Depth: 1, Start: start}
	rec.InvocationEnd(context.Background(), inv, actions.Outcome{Duration: d})
}

func TestRecorderSlowestWithinTheWindow(t *testing.T) {
	rec := actionsdebug.NewRecorder()
	h := actionsdebug.Handler(actions.New(), actionsdebug.WithRecorder(rec))
	now := time.Now()
	end(rec, "A", 1, now.Add(-3*time.Minute), time.Hour/60) // ended 2m ago: out of the window
	for i := range 20 {
		end(rec, "A", uint64(10+i), now.Add(-time.Second), time.Duration(i)*time.Millisecond)
	}
	a := page(t, h, "/debug/actions?action=A").Actions[0]
	var got []uint64
	for _, r := range a.Slowest {
		got = append(got, r.ID)
	}
	assert.Equal(t, []uint64{29, 28, 27, 26, 25}, got, "the five slowest of the last minute, slowest first")
	assert.Contains(t, html(t, h, "/debug/actions?action=A"), "Slowest over 1m0s")
}

func TestRecorderSlowestAcrossSubWindows(t *testing.T) {
	rec := actionsdebug.NewRecorder(actionsdebug.SlowWindow(time.Hour))
	h := actionsdebug.Handler(actions.New(), actionsdebug.WithRecorder(rec))
	now := time.Now()
	// The older, the slower; the window is an hour, to a sixth of it.
	ages := []time.Duration{0, 10 * time.Minute, 20 * time.Minute, 30 * time.Minute, 45 * time.Minute, 65 * time.Minute, 90 * time.Minute}
	for i, age := range ages {
		d := time.Duration(i+1) * time.Second
		end(rec, "A", uint64(i+1), now.Add(-age-d), d) // ended age ago
	}
	var got []uint64
	for _, r := range page(t, h, "/debug/actions?action=A").Actions[0].Slowest {
		got = append(got, r.ID)
	}
	assert.Equal(t, []uint64{5, 4, 3, 2, 1}, got, "those that ended within the hour, slowest first")
}

func TestRecorderBoundsTheNames(t *testing.T) {
	reg, h, _ := recorded(t, actionsdebug.MaxActions(2))
	ctx := context.Background()
	for _, n := range []string{"A", "B", "A", "C"} {
		reg.Call(ctx, n, nil) // not found: recorded all the same
	}
	p := page(t, h, "/debug/actions")
	assert.Equal(t, 2, p.Recorder.Actions)
	assert.Equal(t, uint64(1), p.Recorder.Evicted)
	var names []string
	for _, a := range p.Actions {
		names = append(names, a.Name)
	}
	assert.Equal(t, []string{"A", "C"}, names, "B, recorded least recently, forgotten")
}

type secret struct{ card string }

func (s secret) String() string { return "card " + s.card }

func TestRecorderShowsPayloadsOnlyWhenAsked(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    []actionsdebug.RecorderOption
		payload any
		want    string
	}{
		{"default", nil, secret{"4242"}, ""},
		{"off", []actionsdebug.RecorderOption{actionsdebug.ShowPayloads(false)}, secret{"4242"}, ""},
		{"on", []actionsdebug.RecorderOption{actionsdebug.ShowPayloads(true)}, secret{"4242"}, "card 4242"},
		{"truncated", []actionsdebug.RecorderOption{actionsdebug.ShowPayloads(true)}, strings.Repeat("é", 300), strings.Repeat("é", 200) + "…"},
		{"nil", []actionsdebug.RecorderOption{actionsdebug.ShowPayloads(true)}, nil, "<nil>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg, h, _ := recorded(t, tc.opts...)
			register(t, reg, "Pay", ok)
			_, err := reg.Call(context.Background(), "Pay", tc.payload)
			require.NoError(t, err)
			p := page(t, h, "/debug/actions?action=Pay")
			assert.Equal(t, tc.want, p.Actions[0].Recent[0].Payload)
			assert.Equal(t, tc.want != "", p.Recorder.Payloads)
		})
	}
}

type panicky struct{}

func (panicky) Error() string { panic("boom") }

func TestRecorderReadsHostileErrorsSafely(t *testing.T) {
	reg, h, _ := recorded(t)
	register(t, reg, "A", func(context.Context, any) (any, error) { return nil, panicky{} })
	register(t, reg, "B", func(context.Context, any) (any, error) { return nil, fmt.Errorf("%s", strings.Repeat("x", 5000)) })
	reg.Call(context.Background(), "A", nil)
	reg.Call(context.Background(), "B", nil)
	p := page(t, h, "/debug/actions")
	assert.Contains(t, action(t, p, "A").Last.Error, "PANIC")
	msg := action(t, p, "B").Last.Error
	assert.Equal(t, actionsdebug.MaxMessageRunes+1, len([]rune(msg)))
	assert.True(t, strings.HasSuffix(msg, "…"))
}

func TestRecorderNesting(t *testing.T) {
	reg, h, _ := recorded(t)
	register(t, reg, "Inner", ok)
	register(t, reg, "Outer", func(ctx context.Context, p any) (any, error) { return reg.Call(ctx, "Inner", p) })
	_, err := reg.Call(context.Background(), "Outer", nil)
	require.NoError(t, err)
	p := page(t, h, "/debug/actions")
	outer, inner := action(t, p, "Outer").Last, action(t, p, "Inner").Last
	assert.Equal(t, 1, outer.Depth)
	assert.Equal(t, 2, inner.Depth)
	assert.Equal(t, outer.ID, inner.ParentID)
	assert.Zero(t, outer.ParentID)
}

func TestZeroRecorderUsesTheDefaults(t *testing.T) {
	rec := new(actionsdebug.Recorder)
	reg := actions.New(actions.WithObserver(rec))
	register(t, reg, "A", ok)
	reg.Call(context.Background(), "A", nil)
	p := page(t, actionsdebug.Handler(reg, actionsdebug.WithRecorder(rec)), "/")
	assert.Equal(t, actionsdebug.RecorderStats{
		Actions: 1, MaxActions: actionsdebug.DefaultMaxActions, HistorySize: actionsdebug.DefaultHistorySize,
		SlowWindow: actionsdebug.DefaultSlowWindow,
	}, *p.Recorder)
}
