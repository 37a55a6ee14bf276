package accel_test

import (
	"fmt"
	"log"

	"github.com/gomlx/gomlx/backends/simplego"

	"github.com/gosimcne/gosimcne/tsimcne/accel"
)

// MatMul multiplies strided float32 matrices; T gives a transposed view.
func ExampleMatMul() {
	a := accel.RowMajor([]float32{1, 2, 3, 4, 5, 6}, 2, 3) // [[1 2 3] [4 5 6]]
	b := accel.RowMajor([]float32{1, 0, 0, 1, 1, 1}, 2, 3) // used transposed: 3x2
	c := accel.RowMajor(make([]float32, 4), 2, 2)
	if err := accel.MatMul(c, a, b.T()); err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.Data)
	// Output: [1 6 4 15]
}

// Programs that use simplego without tsimcne/backend (which does this
// itself) install the fast executors before running graphs.
func ExampleInstall() {
	if err := accel.Install(); err != nil {
		fmt.Println("using GoMLX's own kernels:", err)
	}
	backend, err := simplego.New("")
	if err != nil {
		log.Fatal(err)
	}
	defer backend.Finalize()
	fmt.Println("fast kernels:", accel.Installed(), accel.Kernel())
}
