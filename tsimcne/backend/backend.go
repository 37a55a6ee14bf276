// Package backend chooses the GoMLX backend that gosimcne computes on.
//
// The default is GoMLX's pure-Go backend ("go", package simplego), which
// needs nothing but Go. XLA through PJRT (CPU or CUDA GPUs) is linked only
// when the program is built with the "xla" build tag, and selected with the
// GOMLX_BACKEND environment variable, e.g.
//
//	go build -tags xla -o bin/tsimcne ./cmd/tsimcne
//	GOMLX_BACKEND=xla:cuda bin/tsimcne train ...
//
// Without the tag the binaries build in seconds and never try to download a
// PJRT plugin; asking for "xla" then fails with an error that says how to
// rebuild.
//
// On the pure-Go backend, matrix products run on tsimcne/accel's GEMM
// (AVX-512/AVX2 assembly) and the heaviest other ops on its row-based
// executors, installed when a "go" backend is created (about 10x faster
// training steps), and the backend returned is wrapped in accel.Backend,
// which adds fused batch-norm and max-pool ops (see tsimcne/nn.FusedOps);
// set TSIMCNE_FAST_KERNELS=0 to use GoMLX's own kernels and ops.
//
// For a CUDA plugin, XLA_FLAGS gets --xla_gpu_cuda_data_dir set to the
// nvidia/ folder of go-xla's installation when it names none, working around
// a go-xla v0.1.4 bug that would set it to a folder of another machine.
// A plugin can be named by absolute path, e.g. the one of JAX's CUDA wheels:
// GOMLX_BACKEND=xla:<site-packages>/jax_plugins/xla_cuda13/xla_cuda_plugin.so.
package backend

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"

	"github.com/gosimcne/gosimcne/tsimcne/accel"
)

// EnvVar is the environment variable that selects the backend, shared with
// GoMLX: "go" (default), "go:<options>", "xla:cpu", "xla:cuda", ...
const EnvVar = backends.ConfigEnvVar

// DefaultConfig is the backend configuration used when EnvVar is unset.
//
// parallelism=-1 lets the pure-Go backend start a goroutine per ready op:
// it was the fastest setting measured on 2 cores and avoids a deadlock seen
// with the default worker pool on large graphs (see BENCHMARKS.md).
const DefaultConfig = simplego.BackendName + ":parallelism=-1"

// xlaLinked is set by xla.go when the program is built with -tags xla.
var xlaLinked bool

var (
	mu     sync.Mutex
	cached backends.Backend
)

// Config returns the backend configuration in effect: EnvVar if set, else
// DefaultConfig.
func Config() string {
	if c := strings.TrimSpace(os.Getenv(EnvVar)); c != "" {
		return c
	}
	return DefaultConfig
}

// New returns a new backend for the configuration in effect (see Config).
func New() (backends.Backend, error) {
	return NewWithConfig(Config())
}

// NewWithConfig returns a new backend for config ("name" or "name:options").
func NewWithConfig(config string) (backends.Backend, error) {
	name := config
	if i := strings.Index(config, ":"); i >= 0 {
		name = config[:i]
	}
	if name == "xla" && !xlaLinked {
		return nil, fmt.Errorf("backend %q: this binary was built without XLA; rebuild with `go build -tags xla -o bin/tsimcne ./cmd/tsimcne` "+
			"(and a PJRT plugin, see README \"GPU\"), or unset %s to use the pure-Go backend", config, EnvVar)
	}
	if name == "xla" {
		setCUDADataDir(config) // see there: a go-xla v0.1.4 bug
	}
	if name == simplego.BackendName {
		// Faster matrix products for the pure-Go backend (see tsimcne/accel);
		// installed once per process. Install logs why if it declines, and
		// simplego's own kernels are used: not an error.
		_ = accel.Install()
	}
	newBackend := backends.NewWithConfig
	if name == simplego.BackendName {
		newBackend = newGo
	}
	b, err := newBackend(config)
	if err != nil {
		return nil, fmt.Errorf("creating GoMLX backend %q: %w", config, err)
	}
	if name == simplego.BackendName {
		// Fused batch normalisation (accel.Backend); b itself when accel
		// is not installed.
		b = accel.WithFusedOps(b)
	}
	return b, nil
}

// newGo creates a pure-Go backend from config without the line simplego
// prints on os.Stdout for a "parallelism=N" option (it would land in
// notebook cells and in piped output): that option is taken out of the
// configuration and set with accel.SetParallelism. Where accel cannot
// (built with its noaccel tag, another GoMLX version), the option goes to
// simplego as given, and its line is printed.
func newGo(config string) (backends.Backend, error) {
	name, opts, _ := strings.Cut(config, ":")
	var keep []string
	parallelism, found := 0, false
	for _, o := range strings.Split(opts, ",") {
		if v, ok := strings.CutPrefix(o, "parallelism="); ok {
			if n, err := strconv.Atoi(v); err == nil {
				parallelism, found = n, true
				continue
			}
		}
		if o != "" {
			keep = append(keep, o)
		}
	}
	if !found {
		return backends.NewWithConfig(config)
	}
	b, err := backends.NewWithConfig(name + ":" + strings.Join(keep, ","))
	if err != nil {
		return nil, err
	}
	if accel.SetParallelism(b, parallelism) == nil {
		return b, nil
	}
	b.Finalize()
	return backends.NewWithConfig(config)
}

// Default returns a process-wide backend for the configuration in effect,
// created on first use and shared afterwards.
func Default() (backends.Backend, error) {
	mu.Lock()
	defer mu.Unlock()
	if cached != nil {
		return cached, nil
	}
	b, err := New()
	if err != nil {
		return nil, err
	}
	cached = b
	return b, nil
}

// MustDefault is Default for programs and notebooks: it panics on error.
func MustDefault() backends.Backend {
	b, err := Default()
	if err != nil {
		panic(err)
	}
	return b
}

// IsXLA reports whether b is an XLA backend (GoMLX's "xla", on a CPU or
// GPU plugin): it compiles each graph once, at length, and can shard.
func IsXLA(b backends.Backend) bool { return strings.HasPrefix(b.Name(), "xla") }

// XLALinked reports whether this binary was built with the XLA backend.
func XLALinked() bool { return xlaLinked }
