//go:build !noaccel

package accel

// SetEnabledForTest switches the installed executor between the GEMM (true)
// and simplego's own DotGeneral (false); it returns the previous setting.
func SetEnabledForTest(on bool) bool { return enabled.Swap(on) }

// KernelsForTest lists the micro-kernels this CPU runs; UseKernelForTest
// selects one by name ("" restores the best).
func KernelsForTest() []string {
	var names []string
	for _, k := range availableKernels() {
		names = append(names, k.name)
	}
	return names
}

func UseKernelForTest(name string) {
	for _, k := range availableKernels() {
		if k.name == name {
			kernelOverride.Store(k)
			return
		}
	}
	kernelOverride.Store(nil)
}

// FastCallsForTest returns how many DotGenerals the GEMM has computed.
func FastCallsForTest() int64 { return fastCalls.Load() }

// FastRowOpsForTest returns how many Gathers and ScatterSums ran here.
func FastRowOpsForTest() int64 { return fastRowOps.Load() }

// FastElementwiseOpsForTest returns how many element-wise ops ran here.
func FastElementwiseOpsForTest() int64 { return fastElementwiseOps.Load() }

// ProcessCPUTimeForTest is processCPUTime, for the external benchmarks.
var ProcessCPUTimeForTest = processCPUTime

// FusedOpsForTest returns how many fused batch-norm and max-pool nodes ran.
func FusedOpsForTest() int64 { return fusedOpsRun.Load() }

// FuseTilesForTest turns the fused tile nodes (tiles.go) on or off for
// graphs built afterwards; it returns the previous setting.
func FuseTilesForTest(on bool) bool { return fuseTiles.Swap(on) }

// TileOpsForTest returns how many fused tile nodes were built and run.
func TileOpsForTest() (built, run int64) { return tileOpsBuilt.Load(), tileOpsRun.Load() }
