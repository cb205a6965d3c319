//go:build race

package train

// raceEnabled: the race detector allocates, so allocation tests skip.
const raceEnabled = true
