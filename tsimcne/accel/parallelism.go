//go:build !noaccel

package accel

import (
	"fmt"
	"reflect"
	"unsafe"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
)

// SetParallelism sets the goroutine limit of a pure-Go backend's worker
// pool, what simplego's "parallelism=N" configuration option sets (-1: no
// limit), without the line simplego then prints on os.Stdout. It must be
// called on a new backend, before it runs anything.
//
// simplego has no public setter: the field (Backend.workers.maxParallelism,
// an int, simplego.go and workerspool.go of GoMLX v0.26.0) is found by name
// and type through reflection, checked against its value read by
// reflection, and written through unsafe. It returns an error, changing
// nothing, when b is not a simplego backend, the GoMLX version is not
// SupportedGoMLX, or the field is not there.
func SetParallelism(b backends.Backend, n int) error {
	sb, ok := b.(*simplego.Backend)
	if !ok {
		if fb, isFused := b.(*Backend); isFused {
			sb = fb.Backend
		} else {
			return fmt.Errorf("accel: SetParallelism: %T is not the pure-Go backend", b)
		}
	}
	if err := checkVersion(SupportedGoMLX); err != nil {
		return fmt.Errorf("accel: SetParallelism: %w", err)
	}
	off, err := parallelismOffset()
	if err != nil {
		return fmt.Errorf("accel: SetParallelism: %w", err)
	}
	p := (*int)(unsafe.Add(unsafe.Pointer(sb), off))
	// The offset must address the field reflection reads.
	viaReflect := reflect.ValueOf(sb).Elem().FieldByName("workers").FieldByName("maxParallelism").Int()
	if int64(*p) != viaReflect {
		return fmt.Errorf("accel: SetParallelism: field at offset %d reads %d, reflection %d", off, *p, viaReflect)
	}
	*p = n
	return nil
}

// parallelismOffset returns the offset of workers.maxParallelism in
// simplego.Backend, checking names and types.
func parallelismOffset() (uintptr, error) {
	bt := reflect.TypeFor[simplego.Backend]()
	w, ok := bt.FieldByName("workers")
	if !ok || w.Type.Kind() != reflect.Struct || w.Type.Name() != "workersPool" {
		return 0, fmt.Errorf("simplego.Backend has no field workers of type workersPool")
	}
	m, ok := w.Type.FieldByName("maxParallelism")
	if !ok || m.Type != reflect.TypeFor[int]() {
		return 0, fmt.Errorf("simplego's workersPool has no int field maxParallelism")
	}
	return w.Offset + m.Offset, nil
}
