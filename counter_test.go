package actions

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
)

// TestCounter covers the counters behind InFlight's count and
// Close's drain: under contention they spread over cells, and a sum never
// misses a count that is held.
func TestCounter(t *testing.T) {
	t.Run("uncontended_stays_in_base", func(t *testing.T) {
		var c counter
		c.inc(0)
		assert.Equal(t, int64(1), lower(&c))
		c.dec(0)
		assert.Zero(t, lower(&c))
		assert.Equal(t, int64(1), c.base.ends.Load())
		assert.Nil(t, c.spread.Load())
	})

	t.Run("two_goroutines_counting_in_one_cell_draw_a_new_seed", func(t *testing.T) {
		if runtime.GOMAXPROCS(0) < 2 {
			t.Skip("needs two goroutines running at once")
		}
		var c counter
		c.spread.Store(new(counterCells))
		s := c.spread.Load()
		seed := s.seed.Load()
		const hint = 1 << 20 // the same for both: one cell until the seed changes, and after
		var wg sync.WaitGroup
		for range 2 { // until the seed changes, or waitBound passes
			wg.Go(func() {
				for deadline := time.Now().Add(waitBound); s.seed.Load() == seed && time.Now().Before(deadline); {
					for range 1000 {
						c.inc(hint)
						c.dec(hint)
					}
				}
			})
		}
		wg.Wait()
		assert.NotEqual(t, seed, s.seed.Load(), "the seed after two goroutines counted in one cell")
		assert.Zero(t, lower(&c), "every count ended")
	})

	for _, spread := range []bool{false, true} {
		t.Run(fmt.Sprintf("In_flight_sum_exact_under_contention/spread=%v", spread), func(t *testing.T) {
			testCounterContention(t, spread)
		})
	}
}

func testCounterContention(t *testing.T, spread bool) {
	var c counter
	if spread { // as after a collision, which scheduling may not provide
		c.spread.Store(new(counterCells))
	}
	const goroutines, rounds = 16, 2000
	var held sync.WaitGroup // every goroutine holds one count here
	held.Add(goroutines)
	release := make(chan struct{})
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			var local int // its address is on this goroutine's stack
			hint := uintptrOf(&local)
			for range rounds {
				c.inc(hint)
				c.dec(hint)
			}
			c.inc(hint + uintptr(g)<<11)
			held.Done()
			<-release
			c.dec(hint) // any cell: only the sums count
		})
	}
	held.Wait()
	// Every goroutine holds exactly one count: the sum is exact.
	assert.Equal(t, int64(goroutines), lower(&c))
	close(release)
	wg.Wait()
	assert.Zero(t, lower(&c))
	assert.Equal(t, int64(goroutines*(rounds+1)), c.starts())
	assert.Equal(t, c.starts(), c.ends())
}

func uintptrOf(p *int) uintptr { return uintptr(unsafe.Pointer(p)) }
