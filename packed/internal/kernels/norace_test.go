//go:build !race

package kernels

// raceEnabled: the race detector allocates, so allocation tests skip.
const raceEnabled = false
