package model

import (
	"fmt"
	"os"
	"strconv"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/gosimcne/gosimcne/internal/memstat"
	"github.com/gosimcne/gosimcne/kernels"
	"github.com/gosimcne/gosimcne/tsimcne/loss"
)

// Benchmarks of one training step and of inference per backbone, on 32x32
// images. The batch is B views (B/2 images x 2 views, the rows that go
// through the network); views/s is reported as a custom metric. Set
// TSIMCNE_BENCH_BATCH to change B (default 32) and TSIMCNE_BENCH_BACKBONES
// to a comma-separated list to restrict the backbones, e.g.
//
//	go test ./tsimcne/model -run '^$' -bench 'TrainStep' -benchtime 3x
//	TSIMCNE_BENCH_BATCH=128 TSIMCNE_BENCH_BACKBONES=resnet18 go test ./tsimcne/model -run '^$' -bench . -benchtime 2x

func benchBatch() int {
	if s := os.Getenv("TSIMCNE_BENCH_BATCH"); s != "" {
		if b, err := strconv.Atoi(s); err == nil && b > 0 && b%2 == 0 {
			return b
		}
	}
	return 32
}

func benchBackbones() []string {
	if s := os.Getenv("TSIMCNE_BENCH_BACKBONES"); s != "" {
		var out []string
		start := 0
		for i := 0; i <= len(s); i++ {
			if i == len(s) || s[i] == ',' {
				if i > start {
					out = append(out, s[start:i])
				}
				start = i + 1
			}
		}
		return out
	}
	return Backbones()
}

// infoNCE is the real Cauchy InfoNCE loss of t-SimCNE on the head output.
func infoNCE(out, _ *Node) *Node { return loss.InfoNCE(kernels.Cauchy{}, out) }

// BenchmarkTrainStep times a stage-1 (or stage-3) training step: everything trains.
func BenchmarkTrainStep(b *testing.B) { benchmarkTrainStep(b, 1) }

// BenchmarkTrainStepFrozen times a stage-2 training step: only the 2-D
// output layer trains, so the backward pass stops at the head.
func BenchmarkTrainStepFrozen(b *testing.B) { benchmarkTrainStep(b, 2) }

func benchmarkTrainStep(b *testing.B, stage int) {
	be := testBackend(b)
	batch := benchBatch()
	images := randomImages(1, batch, 32)
	for _, name := range benchBackbones() {
		b.Run(fmt.Sprintf("%s/B=%d", name, batch), func(b *testing.B) {
			ctx := context.New()
			cfg, err := Stage(stage, name, 2)
			if err != nil {
				b.Fatal(err)
			}
			step := newTrainStep(b, be, ctx, cfg, 0.01, infoNCE)
			step.MustExec(images) // Compile and initialise outside the timing.
			b.ResetTimer()
			for range b.N {
				step.MustExec(images)
			}
			b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "views/s")
			if hwm := memstat.PeakRSSMiB(); hwm > 0 {
				b.ReportMetric(hwm, "peakRSS_MiB")
			}
		})
	}
}

func BenchmarkInference(b *testing.B) {
	be := testBackend(b)
	batch := benchBatch()
	images := randomImages(1, batch, 32)
	for _, name := range benchBackbones() {
		b.Run(fmt.Sprintf("%s/B=%d", name, batch), func(b *testing.B) {
			ctx := context.New()
			cfg := DefaultConfig()
			cfg.Backbone = name
			infer := newInference(b, be, ctx, cfg)
			infer.MustExec(images)
			b.ResetTimer()
			for range b.N {
				infer.MustExec(images)
			}
			b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "views/s")
		})
	}
}
