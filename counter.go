package actions

import "sync/atomic"

// counter is an atomic count that spreads over cells once two goroutines
// have collided on it, so that invocations of one action on several cores
// stop writing one cache line: on 2 cores that line's traffic made parallel
// invocations slower than serial ones. An uncontended counter costs what an
// atomic.Int64 does and no memory more.
//
// An add returns the slot it counted in, and the matching add of the
// opposite sign must go to the same slot, so that no slot ever counts below
// the number of its invocations in progress: a sum read slot after slot then
// never misses an invocation that was counted before the read began and is
// still going.
type counter struct {
	base  atomic.Int64
	cells atomic.Pointer[[counterCells]counterCell]
}

const counterCells = 16

type counterCell struct {
	n atomic.Int64
	_ [64 - 8]byte // a cache line each
}

// slotBase is the slot of counter.base.
const slotBase = -1

// inc adds one and returns the slot to pass to dec. hint picks the cell once
// the counter has spread: the address of something on the calling
// goroutine's stack, so that a goroutine keeps to one cell (and one core to
// one cache line) while different goroutines' stacks hash apart. A random
// cell would move every line between the cores.
func (c *counter) inc(hint uintptr) int8 {
	if cells := c.cells.Load(); cells != nil {
		// Goroutine stacks are at least 2 KiB apart: mix the bits above that.
		i := uint64(hint>>11) * 0x9E3779B97F4A7C15 >> 60 // 4 bits: counterCells == 16
		cells[i].n.Add(1)
		return int8(i)
	}
	v := c.base.Load()
	if c.base.CompareAndSwap(v, v+1) {
		return slotBase
	}
	// Another goroutine wrote the count between our load and CAS: spread.
	c.cells.CompareAndSwap(nil, new([counterCells]counterCell))
	return c.inc(hint)
}

// dec subtracts the one that inc counted in slot.
func (c *counter) dec(slot int8) {
	if slot == slotBase {
		c.base.Add(-1)
		return
	}
	c.cells.Load()[slot].n.Add(-1)
}

func (c *counter) sum() int64 {
	n := c.base.Load()
	if cells := c.cells.Load(); cells != nil {
		for i := range cells {
			n += cells[i].n.Load()
		}
	}
	return n
}
