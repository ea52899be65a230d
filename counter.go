package actions

import (
	"math/rand/v2"
	"sync/atomic"
)

// counter counts things in progress (invocations running, in flight) as two
// monotonic counts, of starts and of ends, and spreads over cells once two
// goroutines have collided on it, so that invocations of one action on
// several cores stop writing one cache line: on 2 cores that line's traffic
// made parallel invocations slower than serial ones. An uncontended counter
// costs what an atomic.Int64 does.
//
// Because both counts only grow, a sum read cell after cell has a direction
// that can be chosen: starts read before ends never count more than were in
// progress at one moment of the read (lower), ends read before starts never
// count fewer (upper). With one count per cell going up and down, a start
// in one cell and an end in another could both be seen, or neither.
type counter struct {
	base   counterCell
	spread atomic.Pointer[counterCells]
}

// counterCells is a spread counter's cells, and the seed of the hash that
// chooses a goroutine's cell.
type counterCells struct {
	// seed is drawn anew whenever two goroutines are seen counting in one
	// cell at once, so that two goroutines whose stacks hash to one cell
	// do not share it for as long as they live.
	seed  atomic.Uint64
	_     [64 - 8]byte
	cells [16]counterCell
}

type counterCell struct {
	starts, ends atomic.Int64
	_            [64 - 16]byte // a cache line each
}

// cell returns the cell of hint in the spread counter s. hint is the
// address of something on the calling goroutine's stack, so that a
// goroutine keeps to one cell (and one core to one cache line) while
// different goroutines' stacks hash apart. A random cell would move every
// line between the cores. Two goroutines whose stacks hash to one cell (1 in
// 16 for two goroutines) are parted by inc, which draws a new seed when it
// sees them count there at once: with the seed fixed, they shared the cell
// for as long as they lived, and BenchmarkInvoke/scenario=parallel at
// procs=2 took three times as long in 2 runs of 20.
func (s *counterCells) cell(hint uintptr) *counterCell {
	// Goroutine stacks are at least 2 KiB apart: mix the bits above that.
	return &s.cells[(uint64(hint>>11)^s.seed.Load())*0x9E3779B97F4A7C15>>60] // 4 bits: 16 cells
}

// inc counts a start.
func (c *counter) inc(hint uintptr) {
	if s := c.spread.Load(); s != nil {
		cell := s.cell(hint)
		if v := cell.starts.Load(); !cell.starts.CompareAndSwap(v, v+1) {
			// Another goroutine counts in this cell at the same time.
			s.seed.Store(rand.Uint64())
			cell.starts.Add(1)
		}
		return
	}
	v := c.base.starts.Load()
	if c.base.starts.CompareAndSwap(v, v+1) {
		return
	}
	// Another goroutine wrote the count between our load and CAS: spread.
	c.spread.CompareAndSwap(nil, new(counterCells))
	c.inc(hint)
}

// dec counts an end.
func (c *counter) dec(hint uintptr) {
	if s := c.spread.Load(); s != nil {
		s.cell(hint).ends.Add(1)
		return
	}
	c.base.ends.Add(1)
}

// starts and ends sum the cells' counts.
func (c *counter) starts() int64 { return c.sum(func(x *counterCell) int64 { return x.starts.Load() }) }
func (c *counter) ends() int64   { return c.sum(func(x *counterCell) int64 { return x.ends.Load() }) }

func (c *counter) sum(of func(*counterCell) int64) int64 {
	n := of(&c.base)
	if s := c.spread.Load(); s != nil {
		for i := range s.cells {
			n += of(&s.cells[i])
		}
	}
	return n
}

// lower returns how many of cs's things are in progress, never more than
// were at one moment during the call (and never fewer than were during all of
// it).
func lower(cs ...*counter) int64 {
	var starts, ends int64
	for _, c := range cs {
		starts += c.starts()
	}
	for _, c := range cs {
		ends += c.ends()
	}
	return max(starts-ends, 0)
}
