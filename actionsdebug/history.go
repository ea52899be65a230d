package actionsdebug

import (
	"cmp"
	"container/list"
	"slices"
	"time"

	"github.com/go-actions/actions"
)

// Counts is how many invocations of an action ended with each
// [actions.Status] since the recorder first saw the action.
type Counts struct {
	OK        uint64 `json:"ok"`
	Aborted   uint64 `json:"aborted"`
	Failed    uint64 `json:"failed"`
	Rejected  uint64 `json:"rejected"`
	Cancelled uint64 `json:"cancelled"`
}

// Total is the number of invocations counted.
func (c Counts) Total() uint64 { return c.OK + c.Aborted + c.Failed + c.Rejected + c.Cancelled }

func (c *Counts) add(st actions.Status) {
	switch st {
	case actions.StatusOK:
		c.OK++
	case actions.StatusAborted:
		c.Aborted++
	case actions.StatusFailed:
		c.Failed++
	case actions.StatusRejected:
		c.Rejected++
	case actions.StatusCancelled:
		c.Cancelled++
	}
}

// latencyBounds are the lower bounds of the latency buckets, as
// golang.org/x/net/trace has them: an invocation is counted in the last
// bucket whose bound its duration reaches.
var latencyBounds = [...]time.Duration{0, time.Millisecond, 10 * time.Millisecond, 100 * time.Millisecond, time.Second, 10 * time.Second}

// Bucket is one latency bucket: how many invocations lasted at least Min
// and less than the next bucket's Min.
type Bucket struct {
	// Min is the bucket's lower bound, in nanoseconds in JSON.
	Min   time.Duration `json:"min_ns"`
	Count uint64        `json:"count"`
}

// history is what a Recorder keeps of one action. Its fields are protected
// by the Recorder's mutex.
type history struct {
	name    string
	elem    *list.Element // in Recorder.lru
	ring    []Record      // the last invocations; once full, next is the oldest
	next    int           // where the next record goes
	n       uint64        // records ever added
	counts  Counts
	latency [len(latencyBounds)]uint64
	slow    [slowSlots]slowSlot
}

// slowSlot is the slowest invocations that ended within one sub-window of
// the slow window.
type slowSlot struct {
	id   int64    // the sub-window (see Recorder.slot)
	recs []Record // at most Slowest, slowest first
}

// add records rec, which ended with st in sub-window slot, keeping at most
// size recent records.
func (h *history) add(rec Record, st actions.Status, slot int64, size int) {
	h.n++
	h.counts.add(st)
	i := len(latencyBounds) - 1
	for i > 0 && rec.Duration < latencyBounds[i] {
		i--
	}
	h.latency[i]++
	if len(h.ring) < size {
		h.ring = append(h.ring, rec)
	} else {
		h.ring[h.next] = rec
	}
	h.next = (h.next + 1) % size
	h.addSlow(rec, slot)
}

// addSlow keeps rec if it is among the Slowest of its sub-window.
func (h *history) addSlow(rec Record, slot int64) {
	s := &h.slow[uint64(slot)%slowSlots]
	switch {
	case slot < s.id: // older than the window the slot now holds
		return
	case slot > s.id:
		s.id, s.recs = slot, s.recs[:0]
	}
	i, _ := slices.BinarySearchFunc(s.recs, rec.Duration, func(r Record, d time.Duration) int { return -cmp.Compare(r.Duration, d) })
	if i >= Slowest {
		return
	}
	if len(s.recs) == Slowest {
		s.recs = s.recs[:Slowest-1]
	}
	s.recs = slices.Insert(s.recs, i, rec)
}

// last returns the most recent record; h.n > 0.
func (h *history) last() Record {
	if h.n == 0 {
		return Record{}
	}
	return h.ring[(h.next+len(h.ring)-1)%len(h.ring)]
}

// historyCopy is a copy of a history, for the page.
type historyCopy struct {
	counts  Counts
	recent  []Record // newest first
	slowest []Record // unsorted: the slots' slowest from sub-window from on
	latency []Bucket
}

// copy copies h, with the slow records of the sub-windows from on.
func (h *history) copy(from int64) historyCopy {
	d := historyCopy{counts: h.counts, recent: make([]Record, 0, len(h.ring))}
	for i := range len(h.ring) {
		d.recent = append(d.recent, h.ring[(h.next-1-i+2*len(h.ring))%len(h.ring)])
	}
	for _, s := range h.slow {
		if s.id >= from {
			d.slowest = append(d.slowest, s.recs...)
		}
	}
	d.latency = make([]Bucket, len(latencyBounds))
	for i, b := range latencyBounds {
		d.latency[i] = Bucket{Min: b, Count: h.latency[i]}
	}
	return d
}
