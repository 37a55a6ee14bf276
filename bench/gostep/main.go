// Command gostep times gosimcne's training step on random data and prints
// one JSON line, the Go half of the PyTorch comparison in bench/ (see
// bench/README.md; bench/torch/step.py prints the same fields).
//
// The step is the one Fit trains with (tsimcne/fit.go): train.Trainer over
// model.Build, loss.LossFn(kernels.Cauchy{}) and optim.SGD with momentum
// 0.9, weight decay 5e-4 and gradients clipped by value at 4, on the backend
// tsimcne/backend selects (GOMLX_BACKEND, default "go:parallelism=-1"). B is
// the number of views per step (B/2 images x 2 views, the rows through the
// network).
//
//	go run ./bench/gostep -backbone cnn4 -batch 32 -steps 5
//
// With -dump DIR it also writes the input, the initial trainable weights and
// the losses of the steps to DIR (manifest.json plus raw little-endian
// float32 files), for step.py --check to replay in PyTorch.
package main

import (
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/train"

	"github.com/gosimcne/gosimcne/bench/internal/stepjson"
	"github.com/gosimcne/gosimcne/kernels"
	"github.com/gosimcne/gosimcne/tsimcne/backend"
	"github.com/gosimcne/gosimcne/tsimcne/loss"
	"github.com/gosimcne/gosimcne/tsimcne/model"
	"github.com/gosimcne/gosimcne/tsimcne/nn"
	"github.com/gosimcne/gosimcne/tsimcne/optim"
)

// Result is the JSON line gostep prints.
type Result = stepjson.Result

func main() {
	var (
		backboneName = flag.String("backbone", model.DefaultBackbone, "registered backbone: "+strings.Join(model.Backbones(), ", "))
		batch        = flag.Int("batch", 32, "views per step B (even: B/2 images x 2 views)")
		imageSize    = flag.Int("size", 32, "image height and width")
		hidden       = flag.Int("hidden", model.DefaultHiddenDim, "width of the head's hidden layer")
		outDim       = flag.Int("out", model.DefaultOutDim, "output width (128: stage 1)")
		steps        = flag.Int("steps", 3, "timed steps (at least)")
		minSeconds   = flag.Float64("min-seconds", 0, "keep timing steps until this many seconds have passed (at most -max-steps)")
		maxSteps     = flag.Int("max-steps", 1000, "upper bound on the timed steps when -min-seconds is set")
		warmup       = flag.Int("warmup", 1, "untimed steps first (the first compiles the graph)")
		lr           = flag.Float64("lr", 0.01, "learning rate")
		seed         = flag.Uint64("seed", 1, "seed of the weights and the random input")
		dumpDir      = flag.String("dump", "", "if set, write input, initial weights and losses here for bench/torch/step.py --check")
		noFLOPs      = flag.Bool("no-flops", false, "skip counting the graph's FLOPs")
		recompute    = flag.Bool("recompute-gathers", true, "gather convolution patches again in the backward pass instead of keeping them (nn.RecomputeGathers)")
		fused        = flag.Bool("fused-ops", true, "use the backend's batch-norm and max-pool ops where it has them (nn.FusedOps)")
		cpuProfile   = flag.String("cpuprofile", "", "if set, write a Go CPU profile of the timed steps to this file (go tool pprof)")
		memProfile   = flag.String("memprofile", "", "if set, write a Go heap profile (with the allocations of the whole run: pprof -sample_index=alloc_space) to this file")
	)
	flag.Parse()
	nn.RecomputeGathers(*recompute)
	nn.FusedOps(*fused)
	if *memProfile != "" {
		defer writeHeapProfile(*memProfile)
	}
	if err := run(*backboneName, *batch, *imageSize, *hidden, *outDim, *steps, *minSeconds, *maxSteps, *warmup,
		*lr, *seed, *dumpDir, *cpuProfile, !*noFLOPs); err != nil {
		fmt.Fprintf(os.Stderr, "gostep: %v\n", err)
		os.Exit(1)
	}
}

// writeHeapProfile writes the heap profile to path (main's deferred call:
// after the run).
func writeHeapProfile(path string) {
	f, err := os.Create(path)
	if err == nil {
		err = pprof.WriteHeapProfile(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "gostep: -memprofile: %v\n", err)
	}
}

func run(backboneName string, batch, imageSize, hidden, outDim, steps int, minSeconds float64, maxSteps, warmup int,
	lr float64, seed uint64, dumpDir, cpuProfile string, countFLOPs bool) error {
	if batch < 2 || batch%2 != 0 {
		return fmt.Errorf("-batch must be even and >= 2 (two views per image), got %d", batch)
	}
	if steps < 1 || warmup < 0 {
		return fmt.Errorf("-steps must be >= 1 and -warmup >= 0, got %d and %d", steps, warmup)
	}
	res := Result{
		Impl: "gosimcne", Backbone: backboneName, Batch: batch, ImageSize: imageSize, HiddenDim: hidden,
		OutDim: outDim, Threads: runtime.GOMAXPROCS(0), Warmup: warmup,
		StartRSSMiB: maxRSSMiB(), LoadAvgStart: loadAvg(),
	}
	be, err := backend.Default()
	if err != nil {
		return err
	}
	res.Runtime = map[string]string{
		"go":         runtime.Version(),
		"backend":    backend.Config(),
		"backend_nm": be.Name(),
		"gomaxprocs": strconv.Itoa(runtime.GOMAXPROCS(0)),
		"gogc":       os.Getenv("GOGC"),
		// tsimcne/backend installs tsimcne/accel's kernels on the "go"
		// backend unless this is "0".
		"tsimcne_fast_kernels": os.Getenv("TSIMCNE_FAST_KERNELS"),
		"recompute_gathers":    strconv.FormatBool(nn.RecomputingGathers()),
		"fused_ops":            strconv.FormatBool(nn.FusingOps()),
	}
	if desc := be.Description(); desc != "" {
		res.Runtime["backend_desc"] = desc
	}

	cfg := model.DefaultConfig()
	cfg.Backbone = backboneName
	cfg.HiddenDim = hidden
	cfg.OutDim = outDim
	cfg.InputSize = imageSize
	if err := cfg.Validate(); err != nil {
		return err
	}

	ctx := context.New()
	if err := ctx.SetRNGStateFromSeed(int64(seed)); err != nil {
		return err
	}
	images := randomImages(seed, batch, imageSize)

	// Create and initialise the variables with a forward pass, so that the
	// initial weights can be counted (and dumped) before any update.
	initExec, err := context.NewExec(be, ctx, func(ctx *context.Context, x *graph.Node) *graph.Node {
		out, _ := model.Build(ctx, cfg, x)
		return out
	})
	if err != nil {
		return fmt.Errorf("building the forward graph: %w", err)
	}
	if _, err := initExec.Exec(images); err != nil {
		return fmt.Errorf("initialising the variables: %w", err)
	}
	res.ParamsBackbone, res.ParamsTotal = countParams(ctx)

	var dumped *manifest
	if dumpDir != "" {
		if dumped, err = dumpInitial(dumpDir, ctx, images, res, lr); err != nil {
			return err
		}
	}
	if countFLOPs {
		fwd, tr, err := graphFLOPs(be, ctx, cfg, images.Shape())
		if err != nil {
			return err
		}
		res.FwdGFLOPPerView = fwd / float64(batch) / 1e9
		res.TrainGFLOPPerView = tr / float64(batch) / 1e9
	}

	// The training step as tsimcne.Model.trainStage builds it.
	opt, err := optim.SGD().Momentum(optim.DefaultMomentum).WeightDecay(optim.DefaultWeightDecay).
		ClipByValue(optim.DefaultClipValue).LearningRate(lr).Done()
	if err != nil {
		return err
	}
	modelFn := func(ctx *context.Context, _ any, inputs []*graph.Node) []*graph.Node {
		out, _ := model.Build(ctx, cfg, inputs[0])
		return []*graph.Node{out}
	}
	trainer := train.NewTrainer(be, ctx, modelFn, loss.LossFn(kernels.Cauchy{}), opt, nil, nil)
	inputs := []*tensors.Tensor{images}
	var losses []float64
	step := func() (time.Duration, error) {
		start := time.Now()
		metrics, err := trainer.TrainStep(nil, inputs, nil)
		if err != nil {
			return 0, err
		}
		l, err := scalar(metrics[0])
		if err != nil {
			return 0, err
		}
		elapsed := time.Since(start)
		if math.IsNaN(l) || math.IsInf(l, 0) {
			return 0, fmt.Errorf("non-finite loss %v at step %d", l, len(losses))
		}
		losses = append(losses, l)
		return elapsed, nil
	}

	for range warmup {
		d, err := step()
		if err != nil {
			return fmt.Errorf("warm-up step: %w", err)
		}
		res.WarmupSeconds = append(res.WarmupSeconds, d.Seconds())
	}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return fmt.Errorf("-cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("-cpuprofile: %w", err)
		}
	}
	var total time.Duration
	for n := 0; n < steps || (total.Seconds() < minSeconds && n < maxSteps); n++ {
		d, err := step()
		if err != nil {
			return fmt.Errorf("timed step: %w", err)
		}
		total += d
		res.StepSeconds = append(res.StepSeconds, d.Seconds())
	}
	if cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	res.Steps = len(res.StepSeconds)
	res.Seconds = total.Seconds()
	res.ViewsPerSecond = float64(batch*res.Steps) / res.Seconds
	res.LossFirst, res.LossLast = losses[0], losses[len(losses)-1]
	res.PeakRSSMiB = maxRSSMiB() // before the forward-only graph, which needs less
	if dumpDir == "" {           // the forward passes update the batch-norm statistics: not while dumping
		if res.FwdSeconds, err = timeForward(be, ctx, cfg, images, max(steps, 3)); err != nil {
			return err
		}
	}
	res.LoadAvgEnd = loadAvg()

	if dumped != nil {
		dumped.Losses = losses
		if dumped.FinalParams, err = dumpParams(dumpDir, "f", ctx); err != nil {
			return err
		}
		if err := dumped.write(dumpDir); err != nil {
			return err
		}
	}
	line, err := json.Marshal(res)
	if err != nil {
		return err
	}
	fmt.Println(string(line))
	return nil
}

// timeForward times n forward passes of the network and the loss in
// training mode (no gradients), after one untimed pass that compiles.
func timeForward(be backends.Backend, ctx *context.Context, cfg model.Config, images *tensors.Tensor, n int) ([]float64, error) {
	exec, err := context.NewExec(be, ctx.Reuse(), func(ctx *context.Context, x *graph.Node) *graph.Node {
		ctx.SetTraining(x.Graph(), true)
		out, _ := model.Build(ctx, cfg, x)
		return loss.InfoNCE(kernels.Cauchy{}, out)
	})
	if err != nil {
		return nil, fmt.Errorf("building the forward-only graph: %w", err)
	}
	var times []float64
	for i := range n + 1 {
		start := time.Now()
		out, err := exec.Exec(images)
		if err != nil {
			return nil, fmt.Errorf("forward pass: %w", err)
		}
		if _, err := scalar(out[0]); err != nil {
			return nil, err
		}
		if i > 0 {
			times = append(times, time.Since(start).Seconds())
		}
	}
	return times, nil
}

// randomImages returns [n, size, size, 3] uniform [0,1) values.
func randomImages(seed uint64, n, size int) *tensors.Tensor {
	rng := rand.New(rand.NewPCG(seed, 2))
	data := make([]float32, n*size*size*3)
	for i := range data {
		data[i] = rng.Float32()
	}
	return tensors.FromFlatDataAndDimensions(data, n, size, size, 3)
}

// countParams counts the elements of the trainable variables: those under
// model.BackboneScope, and all of them (the optimizer has created none yet;
// its variables are not trainable anyway).
func countParams(ctx *context.Context) (backboneParams, total int) {
	prefix := context.ScopeSeparator + model.BackboneScope
	for v := range ctx.IterVariables() {
		if !v.Trainable {
			continue
		}
		n := v.Shape().Size()
		total += n
		if v.Scope() == prefix || strings.HasPrefix(v.Scope(), prefix+context.ScopeSeparator) {
			backboneParams += n
		}
	}
	return backboneParams, total
}

// graphFLOPs builds (without compiling or running) the training-mode
// forward graph and its gradients, and sums 2*M*N*K over its DotGeneral
// nodes: after the forward pass and after the gradients. It counts what our
// graph multiplies (convolutions are im2col products in tsimcne/nn), not an
// analytical formula; products that other ops compute would be missed.
func graphFLOPs(be backends.Backend, ctx *context.Context, cfg model.Config, imagesShape shapes.Shape) (fwd, trainTotal float64, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("counting FLOPs: %v", r)
		}
	}()
	g := graph.NewGraph(be, "flop_count")
	defer g.Finalize()
	x := graph.Parameter(g, "images", imagesShape)
	ctx = ctx.Checked(false)
	ctx.SetTraining(g, true)
	out, _ := model.Build(ctx, cfg, x)
	l := loss.InfoNCE(kernels.Cauchy{}, out)
	fwd, err = dotFLOPs(g)
	if err != nil {
		return 0, 0, err
	}
	_ = ctx.BuildTrainableVariablesGradientsGraph(l)
	trainTotal, err = dotFLOPs(g)
	return fwd, trainTotal, err
}

// contractingRe reads the contracting axes of the left operand from a
// DotGeneral node's description.
var contractingRe = regexp.MustCompile(`lhsContractingAxes=\[([0-9 ]*)\]`)

// dotFLOPs sums 2 * size(output) * contraction over the DotGeneral nodes of
// g. GoMLX has no accessor for a DotGeneral's axes; its node description
// (Node.String) lists them, so they are read from there.
func dotFLOPs(g *graph.Graph) (float64, error) {
	var total float64
	for _, n := range g.Nodes() {
		if n == nil || n.Type() != graph.NodeTypeDotGeneral {
			continue
		}
		m := contractingRe.FindStringSubmatch(n.String())
		if m == nil || len(n.Inputs()) < 1 {
			return 0, fmt.Errorf("cannot read the axes of %s", n)
		}
		lhs := n.Inputs()[0].Shape()
		k := 1
		for _, f := range strings.Fields(m[1]) {
			axis, err := strconv.Atoi(f)
			if err != nil || axis >= lhs.Rank() {
				return 0, fmt.Errorf("bad contracting axis %q in %s", f, n)
			}
			k *= lhs.Dimensions[axis]
		}
		total += 2 * float64(n.Shape().Size()) * float64(k)
	}
	return total, nil
}

func scalar(t *tensors.Tensor) (float64, error) {
	switch v := t.Value().(type) {
	case float32:
		return float64(v), nil
	case float64:
		return v, nil
	}
	return 0, fmt.Errorf("loss metric is %s, want a float scalar", t.Shape())
}

// maxRSSMiB is getrusage(RUSAGE_SELF).ru_maxrss (KiB on Linux) in MiB: the
// same measure step.py reports through Python's resource module.
func maxRSSMiB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Maxrss) / 1024
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// manifest describes a dump for bench/torch/step.py --check.
type manifest struct {
	Backbone  string      `json:"backbone"`
	HiddenDim int         `json:"hidden_dim"`
	OutDim    int         `json:"out_dim"`
	Batch     int         `json:"batch"`
	LR        float64     `json:"lr"`
	Momentum  float64     `json:"momentum"`
	WD        float64     `json:"weight_decay"`
	Clip      float64     `json:"clip_value"`
	Input     arrayFile   `json:"input"`
	Params    []arrayFile `json:"params"`
	// FinalParams are the trainable variables after the steps.
	FinalParams []arrayFile `json:"final_params"`
	// Losses are the losses of the steps run (before each update).
	Losses []float64 `json:"losses"`
}

// arrayFile is one array: raw little-endian float32, row-major, in GoMLX's
// layout (NHWC input, [k,k,in,out] convolution kernels, [in,out] dense
// weights).
type arrayFile struct {
	Name  string `json:"name"`
	Shape []int  `json:"shape"`
	File  string `json:"file"`
}

func (m *manifest) write(dir string) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "manifest.json"), b, 0o644)
}

// dumpInitial writes the input and the trainable variables to dir.
func dumpInitial(dir string, ctx *context.Context, images *tensors.Tensor, res Result, lr float64) (*manifest, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("-dump: %w", err)
	}
	m := &manifest{Backbone: res.Backbone, HiddenDim: res.HiddenDim, OutDim: res.OutDim, Batch: res.Batch,
		LR: lr, Momentum: optim.DefaultMomentum, WD: optim.DefaultWeightDecay, Clip: optim.DefaultClipValue}
	var err error
	if m.Input, err = writeArray(dir, "input", "input.bin", images); err != nil {
		return nil, err
	}
	if m.Params, err = dumpParams(dir, "p", ctx); err != nil {
		return nil, err
	}
	return m, nil
}

// dumpParams writes the trainable variables, sorted by name, to files
// prefix0000.bin, prefix0001.bin, ...
func dumpParams(dir, prefix string, ctx *context.Context) ([]arrayFile, error) {
	var vars []*context.Variable
	for v := range ctx.IterVariables() {
		if v.Trainable {
			vars = append(vars, v)
		}
	}
	sort.Slice(vars, func(i, j int) bool { return vars[i].ScopeAndName() < vars[j].ScopeAndName() })
	var out []arrayFile
	for i, v := range vars {
		t, err := v.Value()
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", v.ScopeAndName(), err)
		}
		a, err := writeArray(dir, v.ScopeAndName(), fmt.Sprintf("%s%04d.bin", prefix, i), t)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

func writeArray(dir, name, file string, t *tensors.Tensor) (arrayFile, error) {
	if t.DType() != dtypes.Float32 {
		return arrayFile{}, fmt.Errorf("%s is %s, want float32", name, t.DType())
	}
	data, err := tensors.CopyFlatData[float32](t)
	if err != nil {
		return arrayFile{}, fmt.Errorf("reading %s: %w", name, err)
	}
	buf := make([]byte, 4*len(data))
	for i, x := range data {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(x))
	}
	if err := os.WriteFile(filepath.Join(dir, file), buf, 0o644); err != nil {
		return arrayFile{}, fmt.Errorf("writing %s: %w", name, err)
	}
	return arrayFile{Name: name, Shape: t.Shape().Dimensions, File: file}, nil
}
