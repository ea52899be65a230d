package actions

import "sync/atomic"

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
	base  counterCell
	cells atomic.Pointer[[counterCells]counterCell]
}

const counterCells = 16

type counterCell struct {
	starts, ends atomic.Int64
	_            [64 - 16]byte // a cache line each
}

// cell returns the cell of hint once the counter has spread, else nil. hint
// is the address of something on the calling goroutine's stack, so that a
// goroutine keeps to one cell (and one core to one cache line) while
// different goroutines' stacks hash apart. A random cell would move every
// line between the cores. Known limit: two goroutines whose stacks hash to
// one cell share it for as long as they live (1 in 16 for two goroutines):
// BenchmarkInvoke/scenario=parallel at procs=2 then takes about three times
// as long, 2 runs in 20 here; with 256 cells, none in 20.
func (c *counter) cell(hint uintptr) *counterCell {
	cells := c.cells.Load()
	if cells == nil {
		return nil
	}
	// Goroutine stacks are at least 2 KiB apart: mix the bits above that.
	return &cells[uint64(hint>>11)*0x9E3779B97F4A7C15>>60] // 4 bits: counterCells == 16
}

// inc counts a start.
func (c *counter) inc(hint uintptr) {
	if cell := c.cell(hint); cell != nil {
		cell.starts.Add(1)
		return
	}
	v := c.base.starts.Load()
	if c.base.starts.CompareAndSwap(v, v+1) {
		return
	}
	// Another goroutine wrote the count between our load and CAS: spread.
	c.cells.CompareAndSwap(nil, new([counterCells]counterCell))
	c.inc(hint)
}

// dec counts an end.
func (c *counter) dec(hint uintptr) {
	if cell := c.cell(hint); cell != nil {
		cell.ends.Add(1)
		return
	}
	c.base.ends.Add(1)
}

// starts and ends sum the cells' counts.
func (c *counter) starts() int64 { return c.sum(func(x *counterCell) int64 { return x.starts.Load() }) }
func (c *counter) ends() int64   { return c.sum(func(x *counterCell) int64 { return x.ends.Load() }) }

func (c *counter) sum(of func(*counterCell) int64) int64 {
	n := of(&c.base)
	if cells := c.cells.Load(); cells != nil {
		for i := range cells {
			n += of(&cells[i])
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
