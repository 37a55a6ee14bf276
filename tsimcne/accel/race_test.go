//go:build race

package accel_test

// raceEnabled: under the race detector the graph tests run simplego's ops
// sequentially, because simplego v0.26.0's parallel executor races by
// itself (exec.go: executeNode reads execBuf.results outside the lock that
// guards its writes). This package's own concurrency is checked by
// TestMatMulParallelSplits and TestMatMulConcurrentCalls.
const raceEnabled = true
