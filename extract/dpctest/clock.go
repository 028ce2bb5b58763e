package dpctest

import (
	"sync"
	"time"
)

// Clock is the server's notion of "now". It runs at real speed from wherever it
// was last set, so jobs still finish on their own, while Advance lets a
// test jump days ahead (attribution expiry, token expiry, file expiry, _since).
// The zero value follows the real clock.
type Clock struct {
	mu     sync.Mutex
	offset time.Duration
}

// Now returns the current time of the clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// Advance moves the clock forward by d (backward if d is negative).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}
