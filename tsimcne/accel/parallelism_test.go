//go:build !noaccel

package accel

import (
	"reflect"
	"testing"

	"github.com/gomlx/gomlx/backends/simplego"
)

// TestSetParallelism: the limit lands in simplego's own field (read back by
// reflection), on the plain and on the fused backend; other backends are
// refused.
func TestSetParallelism(t *testing.T) {
	b, err := simplego.New("")
	if err != nil {
		t.Fatal(err)
	}
	read := func(sb *simplego.Backend) int64 {
		return reflect.ValueOf(sb).Elem().FieldByName("workers").FieldByName("maxParallelism").Int()
	}
	sb := b.(*simplego.Backend)
	for _, n := range []int{-1, 3} {
		if err := SetParallelism(b, n); err != nil {
			t.Fatal(err)
		}
		if got := read(sb); got != int64(n) {
			t.Fatalf("maxParallelism %d after SetParallelism(%d)", got, n)
		}
	}
	if err := SetParallelism(&Backend{Backend: sb}, 5); err != nil || read(sb) != 5 {
		t.Fatalf("fused backend: %v, %d", err, read(sb))
	}
	if err := SetParallelism(nil, 1); err == nil {
		t.Error("nil backend accepted")
	}
}
