// Command compare runs gosimcne's training step (bench/gostep) and
// PyTorch's on the same network, loss and optimizer (bench/torch/step.py)
// alternately, each in its own process, and prints a Markdown report:
// views per second, the ratio, peak memory, parameter counts, FLOP counts
// and a check that both sides compute the same losses and weight updates
// from the same weights and input.
//
// From the repository root:
//
//	go run ./bench/compare -quick
//	go run ./bench/compare -backbones resnet18 -batches 32,128 -reps 3
//	go run ./bench/compare -configs cnn4:32,cnn4:256 -torch-threads 2 -check=false
//
// (bench/compare.sh does the same.) It installs Debian's python3-torch with
// apt-get if /usr/bin/python3 cannot import torch (-install=false to only
// report), and by default runs PyTorch with OpenBLAS for its Linear layers
// (see -torch-blas). Nothing here runs under `go test`.
package main

import (
	"bufio"
	"bytes"
	stdctx "context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gosimcne/gosimcne/bench/internal/stepjson"
)

// quickConfigs is -quick: the paper's ResNet-18 at B=32, and the two small
// backbones at B=32 and 128.
const quickConfigs = "cnn4:32,cnn4:128,resnet18-quarter:32,resnet18-quarter:128,resnet18:32"

type options struct {
	configs      []config
	reps         int
	steps        int
	minSeconds   float64
	warmup       int
	torchThreads []torchVariant
	goThreads    int
	torchBLAS    string
	torchMalloc  string
	channelsLast bool
	check        bool
	checkBatch   int
	checkSteps   int
	checkLR      float64
	python       string
	install      bool
	jsonl        string
	timeout      time.Duration
}

// tunedMalloc is the environment of PyTorch's processes with -torch-malloc
// tuned. With glibc's defaults every tensor above the (adaptive, at most
// 32 MiB) mmap threshold is mmapped and munmapped again, and freed heap
// memory above 128 KiB is trimmed, so each step's activations come back as
// freshly zeroed pages: cnn4 at B=128 ran at 1264 views/s on 2 threads with
// the defaults, 1771 with these (B=512: 755 and 1540). The Go side reuses
// its buffers itself (pooled GEMM scratch, the runtime's heap).
var tunedMalloc = []string{
	"MALLOC_MMAP_THRESHOLD_=4294967296",  // no mmap below 4 GiB
	"MALLOC_TRIM_THRESHOLD_=68719476736", // never trim the heap
	"MALLOC_TOP_PAD_=1073741824",         // grow the heap 1 GiB at a time
}

type config struct {
	backbone string
	batch    int
}

func (c config) String() string { return fmt.Sprintf("%s B=%d", c.backbone, c.batch) }

// result is a JSON line of gostep or step.py.
type result = stepjson.Result

// checkResult is step.py --check's JSON line.
type checkResult struct {
	Backbone       string    `json:"backbone"`
	OK             bool      `json:"ok"`
	ParamsMatched  int       `json:"params_matched"`
	ParamsGo       int       `json:"params_go"`
	ParamsTorch    int       `json:"params_torch"`
	GoLosses       []float64 `json:"go_losses"`
	TorchLosses    []float64 `json:"torch_losses"`
	FirstRelDiff   float64   `json:"first_rel_diff"`
	MaxRelDiff     float64   `json:"max_rel_diff"`
	UpdateRelDiff  float64   `json:"update_rel_diff"`
	WorstParam     string    `json:"worst_param"`
	WorstParamDiff float64   `json:"worst_param_rel_diff"`
	Failures       []string  `json:"failures"`
}

func main() {
	opts, err := parseFlags()
	if err != nil {
		fmt.Fprintf(os.Stderr, "compare: %v\n", err)
		os.Exit(2)
	}
	if err := run(opts); err != nil {
		fmt.Fprintf(os.Stderr, "compare: %v\n", err)
		os.Exit(1)
	}
}

func parseFlags() (*options, error) {
	var (
		backbones    = flag.String("backbones", "cnn4,resnet18-quarter,resnet18", "comma-separated backbones (with -batches)")
		batches      = flag.String("batches", "32,128", "comma-separated batch sizes B, in views (with -backbones)")
		configs      = flag.String("configs", "", "explicit backbone:B list, e.g. resnet18:32,cnn4:128 (overrides -backbones/-batches)")
		quick        = flag.Bool("quick", false, "the quick subset: "+quickConfigs)
		reps         = flag.Int("reps", 2, "alternating rounds per configuration (Go, PyTorch, Go, PyTorch, ...); the table shows the best")
		steps        = flag.Int("steps", 3, "timed steps per run (at least)")
		minSeconds   = flag.Float64("min-seconds", 10, "keep timing steps in a run until this many seconds")
		warmup       = flag.Int("warmup", 1, "untimed steps per run (Go's first compiles the graph)")
		torchThreads = flag.String("torch-threads", defaultTorchVariants(), `PyTorch runs per round: thread counts (torch.set_num_threads), "N:passive" for N threads with OMP_WAIT_POLICY=PASSIVE (OpenMP threads sleep instead of spinning while they wait: robust on a loaded machine)`)
		goThreads    = flag.Int("go-threads", 0, "GOMAXPROCS of the Go side (0: all cores)")
		torchBLAS    = flag.String("torch-blas", "openblas", `BLAS under PyTorch's Linear layers: "openblas" (libopenblas0-openmp unpacked into the user cache, nothing installed system-wide) or "system" (Debian's default libblas3, the unoptimised reference BLAS unless another is installed)`)
		torchMalloc  = flag.String("torch-malloc", "tuned", `glibc malloc settings of the PyTorch processes: "tuned" (`+strings.Join(tunedMalloc, " ")+`: freed activations stay in the heap instead of going back to the kernel with munmap and coming back as zeroed pages at the next step; 1.4-2x faster at B >= 128 here) or "system" (glibc's defaults, as a plain `+"`python3`"+` gets)`)
		channelsLast = flag.Bool("channels-last", true, "run PyTorch in channels_last (NHWC) memory format, its faster layout here (oneDNN); false: NCHW")
		check        = flag.Bool("check", true, "first check, per backbone, that both sides give the same losses and weight updates from the same weights and input")
		checkBatch   = flag.Int("check-batch", 16, "B of the check")
		checkSteps   = flag.Int("check-steps", 2, "steps of the check")
		checkLR      = flag.Float64("check-lr", 0.01, "learning rate of the check")
		python       = flag.String("python", "/usr/bin/python3", "Python with Debian's python3-torch (not pyenv's)")
		install      = flag.Bool("install", true, "apt-get install python3-torch if torch is missing")
		jsonl        = flag.String("jsonl", "", "append every run's JSON line to this file")
		timeout      = flag.Duration("timeout", 30*time.Minute, "limit per run")
	)
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "Usage: go run ./bench/compare [flags]\n\n"+
			"Times gosimcne's training step against PyTorch's on the same network, alternately, and prints a Markdown report.\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", flag.Args())
	}
	o := &options{reps: *reps, steps: *steps, minSeconds: *minSeconds, warmup: *warmup, goThreads: *goThreads,
		torchBLAS: *torchBLAS, torchMalloc: *torchMalloc, channelsLast: *channelsLast, check: *check, checkBatch: *checkBatch,
		checkSteps: *checkSteps, checkLR: *checkLR, python: *python, install: *install, jsonl: *jsonl, timeout: *timeout}
	spec := *configs
	if *quick {
		spec = quickConfigs
	}
	var err error
	if spec != "" {
		o.configs, err = parseConfigs(spec)
	} else {
		o.configs, err = crossConfigs(*backbones, *batches)
	}
	if err != nil {
		return nil, err
	}
	if o.torchThreads, err = parseVariants(*torchThreads); err != nil {
		return nil, err
	}
	switch {
	case o.reps < 1 || o.steps < 1 || o.warmup < 0:
		return nil, fmt.Errorf("-reps and -steps must be >= 1 and -warmup >= 0")
	case o.torchBLAS != "openblas" && o.torchBLAS != "system":
		return nil, fmt.Errorf(`-torch-blas must be "openblas" or "system", got %q`, o.torchBLAS)
	case o.torchMalloc != "tuned" && o.torchMalloc != "system":
		return nil, fmt.Errorf(`-torch-malloc must be "tuned" or "system", got %q`, o.torchMalloc)
	case o.checkBatch < 2 || o.checkBatch%2 != 0 || o.checkSteps < 1:
		return nil, fmt.Errorf("-check-batch must be even and >= 2, -check-steps >= 1")
	}
	return o, nil
}

func parseInts(s, flagName string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%s: %q is not a positive integer", flagName, f)
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: empty list", flagName)
	}
	return out, nil
}

func parseConfigs(s string) ([]config, error) {
	var out []config
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		name, b, ok := strings.Cut(f, ":")
		if !ok {
			return nil, fmt.Errorf("-configs: %q is not backbone:B", f)
		}
		batch, err := strconv.Atoi(b)
		if err != nil || batch < 2 || batch%2 != 0 {
			return nil, fmt.Errorf("-configs: %q: B must be an even integer >= 2", f)
		}
		out = append(out, config{name, batch})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-configs: empty list")
	}
	return out, nil
}

func crossConfigs(backbones, batches string) ([]config, error) {
	bs, err := parseInts(batches, "-batches")
	if err != nil {
		return nil, err
	}
	var out []config
	for _, name := range strings.Split(backbones, ",") {
		if name = strings.TrimSpace(name); name == "" {
			continue
		}
		for _, b := range bs {
			if b%2 != 0 {
				return nil, fmt.Errorf("-batches: B must be even (two views per image), got %d", b)
			}
			out = append(out, config{name, b})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-backbones: empty list")
	}
	return out, nil
}

func run(o *options) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	stepPy := filepath.Join(root, "bench", "torch", "step.py")
	if _, err := os.Stat(stepPy); err != nil {
		return fmt.Errorf("PyTorch script: %w", err)
	}
	if err := ensureTorch(o); err != nil {
		return err
	}
	torchEnv := os.Environ()
	blasNote := "Debian's default libblas.so.3"
	if o.torchBLAS == "openblas" {
		dir, err := openBLASDir()
		if err != nil {
			logf("OpenBLAS unavailable (%v); PyTorch runs on the system BLAS", err)
		} else {
			torchEnv = append(torchEnv, "LD_LIBRARY_PATH="+joinNonEmpty(dir, os.Getenv("LD_LIBRARY_PATH")))
			blasNote = "OpenBLAS (libopenblas0-openmp) via LD_LIBRARY_PATH"
		}
	}
	mallocNote := "glibc malloc with its default settings"
	if o.torchMalloc == "tuned" {
		torchEnv = append(torchEnv, tunedMalloc...)
		mallocNote = "glibc malloc tuned with " + strings.Join(tunedMalloc, " ")
	}

	tmp, err := os.MkdirTemp("", "gosimcne-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	gostep := filepath.Join(tmp, "gostep")
	logf("building bench/gostep")
	build := exec.Command("go", "build", "-o", gostep, "./bench/gostep")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./bench/gostep: %w\n%s", err, out)
	}
	goEnv := os.Environ()
	if o.goThreads > 0 {
		goEnv = append(goEnv, fmt.Sprintf("GOMAXPROCS=%d", o.goThreads))
	}

	var jsonl io.Writer = io.Discard
	if o.jsonl != "" {
		f, err := os.OpenFile(o.jsonl, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		jsonl = f
	}

	started := time.Now()
	loadStart := loadAvg()

	// Check per backbone.
	checks := map[string]*checkResult{}
	if o.check {
		for _, name := range backboneNames(o.configs) {
			dir := filepath.Join(tmp, "check-"+name)
			logf("check %s: gostep -dump (B=%d, %d steps, lr %g), then step.py --check", name, o.checkBatch, o.checkSteps, o.checkLR)
			args := []string{"-backbone", name, "-batch", strconv.Itoa(o.checkBatch), "-steps", strconv.Itoa(o.checkSteps),
				"-warmup", "0", "-lr", strconv.FormatFloat(o.checkLR, 'g', -1, 64), "-dump", dir, "-no-flops"}
			if _, err := runJSON[result](o, goEnv, jsonl, gostep, args...); err != nil {
				return fmt.Errorf("check %s: %w", name, err)
			}
			c, err := runJSON[checkResult](o, torchEnv, jsonl, o.python, stepPy, "--check", dir)
			if c == nil {
				return fmt.Errorf("check %s: %w", name, err)
			}
			checks[name] = c
			logf("  ok=%v first loss rel. diff %.1e, max %.1e, update rel. diff %.1e %v", c.OK, c.FirstRelDiff, c.MaxRelDiff, c.UpdateRelDiff, c.Failures)
		}
	}

	// Timing, alternating.
	type cell struct {
		goRuns    []*result
		torchRuns map[torchVariant][]*result
	}
	cells := make([]cell, len(o.configs))
	for i, c := range o.configs {
		cells[i].torchRuns = map[torchVariant][]*result{}
		common := []string{"-steps", strconv.Itoa(o.steps), "-min-seconds", strconv.FormatFloat(o.minSeconds, 'g', -1, 64),
			"-warmup", strconv.Itoa(o.warmup), "-batch", strconv.Itoa(c.batch), "-backbone", c.backbone}
		for rep := range o.reps {
			logf("%s, round %d/%d: Go", c, rep+1, o.reps)
			r, err := runJSON[result](o, goEnv, jsonl, gostep, common...)
			if err != nil {
				return fmt.Errorf("%s: gostep: %w", c, err)
			}
			logf("  Go: %.2f views/s (%d steps, %.1f s), peak RSS %.0f MiB, load %s", r.ViewsPerSecond, r.Steps, r.Seconds, r.PeakRSSMiB, r.LoadAvgStart)
			cells[i].goRuns = append(cells[i].goRuns, r)
			for _, t := range o.torchThreads {
				args := append([]string{stepPy, "--threads", strconv.Itoa(t.threads)}, pyFlags(common)...)
				if o.channelsLast {
					args = append(args, "--channels-last")
				}
				env := torchEnv
				if t.passive {
					env = append(slices.Clone(torchEnv), "OMP_WAIT_POLICY=PASSIVE")
				}
				r, err := runJSON[result](o, env, jsonl, o.python, args...)
				if err != nil {
					return fmt.Errorf("%s: step.py: %w", c, err)
				}
				logf("  PyTorch, %s: %.2f views/s (%d steps, %.1f s), peak RSS %.0f MiB, load %s", threadsLabel(t), r.ViewsPerSecond, r.Steps, r.Seconds, r.PeakRSSMiB, r.LoadAvgStart)
				cells[i].torchRuns[t] = append(cells[i].torchRuns[t], r)
			}
		}
	}

	// Report.
	var rep strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&rep, format, args...) }
	first := cells[0].goRuns[0]
	var torchRT map[string]string
	if rs := cells[0].torchRuns[o.torchThreads[0]]; len(rs) > 0 {
		torchRT = rs[0].Runtime
	}
	w("Measured %s (%s to %s), `%s`.\n", started.Format("2 January 2006"), started.Format("15:04"), time.Now().Format("15:04"), commandLine())
	w("Machine: %s, %d cores, %s; load average (1/5/15 min) %s at the start, %s at the end.\n",
		cpuModel(), runtime.NumCPU(), memTotal(), loadStart, loadAvg())
	fast := first.Runtime["tsimcne_fast_kernels"]
	if fast == "" {
		fast = "unset"
	}
	w("Go side: %s, backend `%s` (%s), GOMAXPROCS %s, TSIMCNE_FAST_KERNELS %s, code at %s. ", first.Runtime["go"], first.Runtime["backend"],
		first.Runtime["backend_nm"], first.Runtime["gomaxprocs"], fast, gitDescribe(root))
	if torchRT != nil {
		w("PyTorch side: torch %s (Debian python3-torch, Python %s), convolutions through oneDNN (%s), Linear layers through %s, %s tensors, interop threads 1, %s.\n",
			torchRT["torch"], torchRT["python"], torchRT["onednn"], blasNote, torchRT["memory_format"], mallocNote)
	}
	w("Each run is a separate process: %d untimed step(s), then at least %d timed steps and %g s; %d alternating round(s) per configuration, the table shows the best round (the spread is in the log). B = views per step (B/2 images x 2 views). Peak RSS = getrusage ru_maxrss of the process, the largest over the rounds (and, for PyTorch, over its thread settings; it includes about %.0f MiB of imported libraries). \"passive\" = OMP_WAIT_POLICY=PASSIVE. The load column is the range of the 1-minute load average at the starts and ends of the runs.\n\n",
		o.warmup, o.steps, o.minSeconds, o.reps, torchStartRSS(cells[0].torchRuns))

	w("| backbone | B | Go views/s |")
	for _, t := range o.torchThreads {
		w(" PyTorch %s views/s |", threadsLabel(t))
	}
	for _, t := range o.torchThreads {
		w(" PyTorch %s / Go |", threadsLabel(t))
	}
	w(" Go peak RSS | PyTorch peak RSS | load (1 min) |\n|---|---|---|")
	for range 2 * len(o.torchThreads) {
		w("---|")
	}
	w("---|---|---|\n")
	for i, c := range o.configs {
		goBest := best(cells[i].goRuns)
		w("| %s | %d | %s |", c.backbone, c.batch, fmtRate(goBest.ViewsPerSecond))
		for _, t := range o.torchThreads {
			w(" %s |", fmtRate(best(cells[i].torchRuns[t]).ViewsPerSecond))
		}
		for _, t := range o.torchThreads {
			w(" %.1fx |", best(cells[i].torchRuns[t]).ViewsPerSecond/goBest.ViewsPerSecond)
		}
		var torchAll []*result
		for _, t := range o.torchThreads {
			torchAll = append(torchAll, cells[i].torchRuns[t]...)
		}
		w(" %s | %s | %s |\n", fmtMiB(maxRSS(cells[i].goRuns)), fmtMiB(maxRSS(torchAll)),
			loadRange(append(slices.Clone(cells[i].goRuns), torchAll...)))
	}

	w("\nWhere a step's time goes (the best round of each; medians; forward = the network and the loss in training mode without gradients, timed separately after the steps; backward = step minus forward, including the optimizer update):\n\n")
	w("| backbone | B | Go forward ms | Go backward+update ms |")
	for _, t := range o.torchThreads {
		w(" PyTorch %s forward / backward+update ms |", threadsLabel(t))
	}
	w("\n|---|---|---|---|")
	for range o.torchThreads {
		w("---|")
	}
	w("\n")
	for i, c := range o.configs {
		g := best(cells[i].goRuns)
		gf, gs := median(g.FwdSeconds), median(g.StepSeconds)
		w("| %s | %d | %s | %s |", c.backbone, c.batch, fmtMs(gf), fmtMs(gs-gf))
		for _, t := range o.torchThreads {
			r := best(cells[i].torchRuns[t])
			tf, ts := median(r.FwdSeconds), median(r.StepSeconds)
			w(" %s / %s |", fmtMs(tf), fmtMs(ts-tf))
		}
		w("\n")
	}

	w("\nSame network on both sides (parameter counts of the trainable tensors; FLOPs = 2 x multiply-adds of the matrix products/convolutions per view, forward, Go counted on its graph's DotGeneral nodes, PyTorch with forward hooks; Go's train count includes the gradients):\n\n")
	w("| backbone | backbone params Go / PyTorch | with head Go / PyTorch | fwd GFLOP/view Go / PyTorch | train GFLOP/view (Go graph) |")
	if o.check {
		w(" check (B=%d, %d steps, lr %g): tensors matched, loss rel. diff first / max, weight-update rel. diff |", o.checkBatch, o.checkSteps, o.checkLR)
	}
	w("\n|---|---|---|---|---|")
	if o.check {
		w("---|")
	}
	w("\n")
	seen := map[string]bool{}
	for i, c := range o.configs {
		if seen[c.backbone] {
			continue
		}
		seen[c.backbone] = true
		g := cells[i].goRuns[0]
		t := cells[i].torchRuns[o.torchThreads[0]][0]
		w("| %s | %s / %s | %s / %s | %.3f / %.3f | %.3f |", c.backbone, commas(g.ParamsBackbone), commas(t.ParamsBackbone),
			commas(g.ParamsTotal), commas(t.ParamsTotal), g.FwdGFLOPPerView, t.FwdGFLOPPerView, g.TrainGFLOPPerView)
		if o.check {
			if ck := checks[c.backbone]; ck != nil {
				status := "ok"
				if !ck.OK {
					status = "FAILED: " + strings.Join(ck.Failures, "; ")
				}
				w(" %s: %d/%d, %.1e / %.1e, %.1e |", status, ck.ParamsMatched, ck.ParamsGo, ck.FirstRelDiff, ck.MaxRelDiff, ck.UpdateRelDiff)
			} else {
				w(" - |")
			}
		}
		w("\n")
		if g.ParamsBackbone != t.ParamsBackbone || g.ParamsTotal != t.ParamsTotal {
			logf("WARNING: %s: parameter counts differ between Go and PyTorch", c.backbone)
		}
	}
	fmt.Print(rep.String())
	for _, ck := range checks {
		if !ck.OK {
			return fmt.Errorf("check failed for %s: %s", ck.Backbone, strings.Join(ck.Failures, "; "))
		}
	}
	return nil
}

// pyFlags turns gostep's single-dash flags into step.py's double-dash ones.
func pyFlags(goArgs []string) []string {
	out := make([]string, len(goArgs))
	for i, a := range goArgs {
		if strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && len(a) > 1 && (a[1] < '0' || a[1] > '9') {
			a = "-" + a
		}
		out[i] = a
	}
	return out
}

// runJSON runs a command and decodes the last line of its stdout that
// starts with '{'. For step.py --check a non-zero exit still returns the
// decoded line (with the error).
func runJSON[T any](o *options, env []string, log io.Writer, name string, args ...string) (*T, error) {
	ctx, cancel := stdctx.WithTimeout(stdctx.Background(), o.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	runErr := cmd.Run()
	var last string
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); strings.HasPrefix(line, "{") {
			last = line
		}
	}
	if last == "" {
		if runErr == nil {
			runErr = errors.New("no JSON line on stdout")
		}
		return nil, fmt.Errorf("%s %s: %w\n%s", filepath.Base(name), strings.Join(args, " "), runErr, tail(stderr.String(), 2000))
	}
	fmt.Fprintln(log, last)
	var v T
	if err := json.Unmarshal([]byte(last), &v); err != nil {
		return nil, fmt.Errorf("%s: decoding %q: %w", filepath.Base(name), tail(last, 300), err)
	}
	if runErr != nil {
		return &v, fmt.Errorf("%s %s: %w\n%s", filepath.Base(name), strings.Join(args, " "), runErr, tail(stderr.String(), 2000))
	}
	return &v, nil
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run from inside the gosimcne module (go env GOMOD is empty)")
	}
	return filepath.Dir(mod), nil
}

// ensureTorch checks that o.python imports torch, installing Debian's
// python3-torch if allowed.
func ensureTorch(o *options) error {
	probe := func() error {
		out, err := exec.Command(o.python, "-c", "import torch, numpy").CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s cannot import torch: %w\n%s", o.python, err, tail(string(out), 500))
		}
		return nil
	}
	err := probe()
	if err == nil {
		return nil
	}
	if !o.install {
		return fmt.Errorf("%w\ninstall it with: apt-get install -y python3-torch", err)
	}
	logf("installing python3-torch with apt-get (Debian's PyTorch for %s)", o.python)
	cmd := exec.Command("apt-get", "install", "-y", "python3-torch")
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("apt-get install -y python3-torch: %w\n%s", err, tail(string(out), 2000))
	}
	return probe()
}

// openBLASDir returns a folder holding OpenBLAS's libblas.so.3, unpacking
// Debian's libopenblas0-openmp into the user cache the first time (apt-get
// download + dpkg -x: nothing is installed, the system's BLAS alternative
// stays as it is). The OpenMP build follows torch.set_num_threads.
func openBLASDir() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	base := filepath.Join(cache, "gosimcne-bench", "openblas")
	find := func() string {
		m, _ := filepath.Glob(filepath.Join(base, "root", "usr", "lib", "*", "openblas-openmp", "libblas.so.3"))
		if len(m) == 0 {
			return ""
		}
		return filepath.Dir(m[0])
	}
	if d := find(); d != "" {
		return d, nil
	}
	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", err
	}
	logf("fetching libopenblas0-openmp into %s (apt-get download, dpkg -x)", base)
	dl := exec.Command("apt-get", "download", "libopenblas0-openmp")
	dl.Dir = base
	if out, err := dl.CombinedOutput(); err != nil {
		return "", fmt.Errorf("apt-get download libopenblas0-openmp: %w\n%s", err, tail(string(out), 1000))
	}
	debs, _ := filepath.Glob(filepath.Join(base, "libopenblas0-openmp_*.deb"))
	if len(debs) == 0 {
		return "", errors.New("apt-get download left no .deb")
	}
	if out, err := exec.Command("dpkg", "-x", debs[len(debs)-1], filepath.Join(base, "root")).CombinedOutput(); err != nil {
		return "", fmt.Errorf("dpkg -x: %w\n%s", err, out)
	}
	if d := find(); d != "" {
		return d, nil
	}
	return "", errors.New("no libblas.so.3 in the unpacked package")
}

func backboneNames(cs []config) []string {
	var out []string
	for _, c := range cs {
		if !slices.Contains(out, c.backbone) {
			out = append(out, c.backbone)
		}
	}
	return out
}

func best(rs []*result) *result {
	var b *result
	for _, r := range rs {
		if b == nil || r.ViewsPerSecond > b.ViewsPerSecond {
			b = r
		}
	}
	if b == nil {
		return &result{ViewsPerSecond: math.NaN()}
	}
	return b
}

func maxRSS(rs []*result) float64 {
	m := 0.0
	for _, r := range rs {
		m = max(m, r.PeakRSSMiB)
	}
	return m
}

func torchStartRSS(runs map[torchVariant][]*result) float64 {
	for _, rs := range runs {
		if len(rs) > 0 {
			return rs[0].StartRSSMiB
		}
	}
	return 0
}

// loadRange gives the range of the 1-minute load averages at the starts
// and ends of the runs.
func loadRange(rs []*result) string {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, r := range rs {
		for _, s := range []string{r.LoadAvgStart, r.LoadAvgEnd} {
			f := strings.Fields(s)
			if len(f) == 0 {
				continue
			}
			if v, err := strconv.ParseFloat(f[0], 64); err == nil {
				lo, hi = min(lo, v), max(hi, v)
			}
		}
	}
	if math.IsInf(lo, 1) {
		return "?"
	}
	return fmt.Sprintf("%.1f-%.1f", lo, hi)
}

// torchVariant is one PyTorch run per round: a thread count, and whether
// OpenMP's threads wait passively.
type torchVariant struct {
	threads int
	passive bool
}

func threadsLabel(t torchVariant) string {
	s := fmt.Sprintf("%d threads", t.threads)
	if t.threads == 1 {
		s = "1 thread"
	}
	if t.passive {
		s += " (passive)"
	}
	return s
}

// defaultTorchVariants is all cores, all cores with passive waiting, and 1
// thread.
func defaultTorchVariants() string {
	n := runtime.NumCPU()
	if n == 1 {
		return "1"
	}
	return fmt.Sprintf("%d,%d:passive,1", n, n)
}

func parseVariants(s string) ([]torchVariant, error) {
	var out []torchVariant
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		num, mode, hasMode := strings.Cut(f, ":")
		n, err := strconv.Atoi(num)
		if err != nil || n < 1 || (hasMode && mode != "passive") {
			return nil, fmt.Errorf(`-torch-threads: %q is not N or N:passive (N >= 1)`, f)
		}
		v := torchVariant{n, hasMode}
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-torch-threads: empty list")
	}
	return out, nil
}

// median returns the median of xs, NaN if empty.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	ys := slices.Clone(xs)
	slices.Sort(ys)
	n := len(ys)
	if n%2 == 1 {
		return ys[n/2]
	}
	return (ys[n/2-1] + ys[n/2]) / 2
}

// fmtMs formats seconds as milliseconds ("-" for NaN).
func fmtMs(sec float64) string {
	if math.IsNaN(sec) {
		return "-"
	}
	return fmt.Sprintf("%.0f", 1000*sec)
}

func fmtRate(v float64) string {
	switch {
	case math.IsNaN(v):
		return "-"
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func fmtMiB(m float64) string {
	if m >= 1024 {
		return fmt.Sprintf("%.1f GiB", m/1024)
	}
	return fmt.Sprintf("%.0f MiB", m)
}

func commas(n int) string {
	s := strconv.Itoa(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func cpuModel() string {
	if out, err := exec.Command("lscpu").Output(); err == nil {
		for _, line := range strings.Split(string(out), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "Model name" {
				return strings.TrimSpace(v)
			}
		}
	}
	return "unknown CPU"
}

func memTotal() string {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "? memory"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			if f := strings.Fields(rest); len(f) > 0 {
				if kb, err := strconv.ParseFloat(f[0], 64); err == nil {
					return fmt.Sprintf("%.0f GB", kb*1024/1e9)
				}
			}
		}
	}
	return "? memory"
}

func commandLine() string {
	args := []string{"go run ./bench/compare"}
	args = append(args, os.Args[1:]...)
	return strings.Join(args, " ")
}

// gitDescribe names the checked-out commit, and whether the tree has
// changes (the Go side is built from the working tree).
func gitDescribe(root string) string {
	cmd := exec.Command("git", "rev-parse", "--short", "HEAD")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return "an unknown commit"
	}
	desc := "commit " + strings.TrimSpace(string(out))
	st := exec.Command("git", "status", "--porcelain")
	st.Dir = root
	if out, err := st.Output(); err == nil && len(bytes.TrimSpace(out)) > 0 {
		desc += " plus uncommitted and untracked changes"
	}
	return desc
}

func joinNonEmpty(a, b string) string {
	if b == "" {
		return a
	}
	return a + ":" + b
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}
