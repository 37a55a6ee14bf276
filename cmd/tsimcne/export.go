package main

import (
	"flag"
	"os"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
)

func exportCommand() *command {
	return &command{
		name:     "export",
		synopsis: "write a trained run's network to one compact model file (16-bit weights)",
		usage:    "tsimcne export -run DIR -out FILE [-dtype float16|bfloat16|float32]",
		help: `Writes the network of a trained run (backbone, head and batch-norm statistics,
without the optimizer state that checkpoints keep for resuming) to one file,
with the weights stored as 16-bit floats by default: about a third of a
checkpoint. ` + "`tsimcne embed -run FILE`" + ` and the Go API (tsimcne.Load) read it. The
format is documented with tsimcne.ExportHeader: a line "gosimcne-model 1", a
JSON header (settings, variable names and shapes, checksum) and the raw
little-endian values.`,
		examples: `  tsimcne export -run runs/cifar10-cpu -out cifar10-cpu.gsm
  tsimcne embed -run cifar10-cpu.gsm -dataset cifar10 -split test -out test.csv`,
		flags: func(fs *flag.FlagSet) { new(exportOptions).define(fs) },
		run:   runExport,
	}
}

type exportOptions struct {
	run, out string
	dtype    *choiceValue
}

func (o *exportOptions) define(fs *flag.FlagSet) {
	o.dtype = newChoice("float16", "float16", "bfloat16", "float32")
	fs.StringVar(&o.run, "run", "", "trained run `folder` (train's -out) or checkpoint folder")
	fs.StringVar(&o.out, "out", "", "model `file` to write")
	fs.Var(o.dtype, "dtype", "storage `type` of the weights: float16, bfloat16 or float32")
}

func runExport(e *env, args []string) error {
	var o exportOptions
	fset := flag.NewFlagSet("export", flag.ContinueOnError)
	o.define(fset)
	if err := parseFlags(fset, e, args); err != nil {
		return err
	}
	switch {
	case o.run == "":
		return usagef("-run is required")
	case o.out == "":
		return usagef("-out is required")
	}
	m, err := loadModel(e, o.run)
	if err != nil {
		return err
	}
	dt := map[string]dtypes.DType{"float16": dtypes.Float16, "bfloat16": dtypes.BFloat16, "float32": dtypes.Float32}[o.dtype.v]
	if err := m.Export(o.out, dt); err != nil {
		return err
	}
	st, err := os.Stat(o.out)
	if err != nil {
		return err
	}
	e.printf("Wrote %s (%s, weights in %s)\n", o.out, humanSize(st.Size()), o.dtype.v)
	return nil
}
