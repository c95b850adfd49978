//go:build race

package rag

// raceEnabled shrinks the heavy quality tests under the race detector, which
// slows this arithmetic-bound code about tenfold without adding coverage.
const raceEnabled = true
