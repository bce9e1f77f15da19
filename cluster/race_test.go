//go:build race

package cluster

// raceEnabled tells whether the test binary is built with -race, so that a
// program it builds can be too.
const raceEnabled = true
