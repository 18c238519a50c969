//go:build !race

package e2e

// raceEnabled says this test binary was built with -race, so the binary under test is too.
const raceEnabled = false
