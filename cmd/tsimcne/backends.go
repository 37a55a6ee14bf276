package main

import (
	"flag"
	"os"
	"sort"
	"strings"

	"github.com/gomlx/gomlx/backends"

	"github.com/gosimcne/gosimcne/tsimcne/backend"
)

func backendsCommand() *command {
	return &command{
		name:     "backends",
		synopsis: "show the compute backend in use and how to select XLA (CPU or GPU)",
		usage:    "tsimcne backends",
		help: `Shows the GoMLX backend that train and embed compute on, the backends linked
into this binary, and how to switch.

The default is GoMLX's pure-Go backend ("go"), which needs nothing but Go.
XLA (through a PJRT plugin, for CPUs or NVIDIA GPUs) is linked only into
binaries built with the "xla" build tag, and selected with $` + backend.EnvVar + `:

  go install -tags xla ./cmd/tsimcne    # in the repository (go build clashes with
                                        # its tsimcne/ folder unless given -o)
  ` + backend.EnvVar + `=xla:cuda tsimcne train -preset paper

GoMLX downloads the CUDA plugin on first use. Offline, name a plugin file by
its absolute path, e.g. the one JAX's CUDA wheels install:

  ` + backend.EnvVar + `=xla:<site-packages>/jax_plugins/xla_cuda13/xla_cuda_plugin.so

The pure-Go backend takes options too, e.g. ` + backend.EnvVar + `=go:parallelism=-1
(the default here) or go:ops_sequential.`,
		run: runBackends,
	}
}

func runBackends(e *env, args []string) error {
	fset := flag.NewFlagSet("backends", flag.ContinueOnError)
	if err := parseFlags(fset, e, args); err != nil {
		return err
	}
	cfg := backend.Config()
	source := "default; set $" + backend.EnvVar + " to change"
	if v := strings.TrimSpace(os.Getenv(backend.EnvVar)); v != "" {
		source = "from $" + backend.EnvVar
	}
	e.printf("Backend configuration: %s (%s)\n", cfg, source)
	linked := backends.List()
	sort.Strings(linked)
	e.printf("Linked into this binary: %s\n", strings.Join(linked, ", "))
	b, err := backend.Default()
	if err != nil {
		return err
	}
	e.printf("In use: %s: %s, %d device(s)\n", b.Name(), b.Description(), b.NumDevices())
	if backend.XLALinked() {
		e.printf("XLA is linked: %s=xla:cuda for an NVIDIA GPU, xla:cpu for the CPU (needs the PJRT plugin).\n", backend.EnvVar)
	} else {
		e.printf("XLA is not linked. For a GPU: go install -tags xla ./cmd/tsimcne, then %s=xla:cuda.\n", backend.EnvVar)
	}
	return nil
}
