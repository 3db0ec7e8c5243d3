//go:build race

package git

// raceEnabled: the race detector is on, and its shadow memory inflates a
// process's resident set, so memory bounds do not apply.
const raceEnabled = true
