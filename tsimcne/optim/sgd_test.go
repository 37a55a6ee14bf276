package optim

import (
	"math"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/context/checkpoints"
	"github.com/gomlx/gomlx/pkg/ml/train"
	"github.com/gosimcne/gosimcne/tsimcne/backend"
)

// The test problem: a quadratic in two trainable variables and one frozen one,
//
//	L = ½ Σ_k a_k (w_k - t_k)² + c·(s - f_0)²,
//
// with w [3] in scope /model/dense, s a scalar in the root scope, f [2] frozen.
var (
	quadA    = []float64{1, 4, 0.5}
	quadT    = []float64{10, -2, 0.5} // a·(w-t) reaches 40: clipping at 4 is active at first
	quadC    = 3.0
	initW    = []float64{0.5, 1, -1}
	initS    = 2.0
	frozenF  = []float64{-1, 7}
	wScope   = []string{"model", "dense"}
	sName    = "s"
	wName    = "w"
	fName    = "frozen"
	fScope   = "model"
	testLR   = 0.05
	testClip = 4.0
)

// params is the state of the plain-Go reference: the trainable parameters
// flattened as [w0, w1, w2, s], and PyTorch's momentum buffers.
type params struct {
	x, buf  []float64
	hasBufs bool
}

func quadGrad(x []float64) []float64 {
	g := make([]float64, 4)
	for k := range 3 {
		g[k] = quadA[k] * (x[k] - quadT[k])
	}
	g[3] = 2 * quadC * (x[3] - frozenF[0])
	return g
}

func quadLoss(x []float64) float64 {
	var l float64
	for k := range 3 {
		l += 0.5 * quadA[k] * (x[k] - quadT[k]) * (x[k] - quadT[k])
	}
	return l + quadC*(x[3]-frozenF[0])*(x[3]-frozenF[0])
}

// torchStep is torch.optim.SGD.step (momentum μ, dampening 0, weight decay λ,
// no Nesterov), preceded by Lightning's clip_grad_value_ when clip > 0.
func torchStep(p *params, lr, mu, wd, clip float64) {
	g := quadGrad(p.x)
	for i := range g {
		if clip > 0 {
			g[i] = math.Max(-clip, math.Min(clip, g[i]))
		}
		g[i] += wd * p.x[i]
	}
	if mu > 0 {
		if !p.hasBufs {
			p.buf = append([]float64(nil), g...) // torch: buf = clone(d_p) on the first step
			p.hasBufs = true
		} else {
			for i := range g {
				p.buf[i] = mu*p.buf[i] + g[i]
			}
		}
		g = p.buf
	}
	for i := range p.x {
		p.x[i] -= lr * g[i]
	}
}

func newParams() *params {
	return &params{x: append(append([]float64(nil), initW...), initS)}
}

// newQuadContext creates the variables in a fresh context.
func newQuadContext() *context.Context {
	ctx := context.New()
	quadVars(ctx)
	return ctx
}

func quadVars(ctx *context.Context) (w, s, f *context.Variable) {
	ctx = ctx.Checked(false)
	wc := ctx
	for _, sc := range wScope {
		wc = wc.In(sc)
	}
	w = wc.VariableWithValue(wName, []float32{float32(initW[0]), float32(initW[1]), float32(initW[2])})
	s = ctx.VariableWithValue(sName, float32(initS))
	f = ctx.In(fScope).VariableWithValue(fName, []float32{float32(frozenF[0]), float32(frozenF[1])}).SetTrainable(false)
	return
}

func quadLossGraph(ctx *context.Context, g *Graph) *Node {
	w, s, f := quadVars(ctx)
	wv, sv, fv := w.ValueGraph(g), s.ValueGraph(g), f.ValueGraph(g)
	diff := Sub(wv, Const(g, []float32{float32(quadT[0]), float32(quadT[1]), float32(quadT[2])}))
	l := MulScalar(ReduceAllSum(Mul(Const(g, []float32{float32(quadA[0]), float32(quadA[1]), float32(quadA[2])}), Square(diff))), 0.5)
	sd := Sub(sv, Slice(fv, AxisElem(0)))
	return Add(l, MulScalar(ReduceAllSum(Square(sd)), quadC))
}

func newStepExec(t *testing.T, ctx *context.Context, opt *Optimizer) *context.Exec {
	t.Helper()
	e, err := context.NewExec(backend.MustDefault(), ctx, func(ctx *context.Context, g *Graph) *Node {
		loss := quadLossGraph(ctx, g)
		opt.UpdateGraph(ctx, g, loss)
		return loss
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// state reads [w0, w1, w2, s] from the context.
func state(t *testing.T, ctx *context.Context) []float64 {
	t.Helper()
	w := ctx.GetVariableByScopeAndName("/model/dense", wName).MustValue().Value().([]float32)
	s := ctx.GetVariableByScopeAndName("/", sName).MustValue().Value().(float32)
	return []float64{float64(w[0]), float64(w[1]), float64(w[2]), float64(s)}
}

func momenta(t *testing.T, ctx *context.Context, scope string) []float64 {
	t.Helper()
	mw := ctx.GetVariableByScopeAndName("/"+scope+"/model/dense", wName+MomentumSuffix)
	ms := ctx.GetVariableByScopeAndName("/"+scope, sName+MomentumSuffix)
	if mw == nil || ms == nil {
		t.Fatalf("momentum variables missing in scope %q", scope)
	}
	w := mw.MustValue().Value().([]float32)
	s := ms.MustValue().Value().(float32)
	return []float64{float64(w[0]), float64(w[1]), float64(w[2]), float64(s)}
}

func assertClose(t *testing.T, what string, got, want []float64) {
	t.Helper()
	for i := range want {
		if math.Abs(got[i]-want[i]) > 2e-5*(1+math.Abs(want[i])) {
			t.Errorf("%s[%d] = %.8g, want %.8g (got %v, want %v)", what, i, got[i], want[i], got, want)
			return
		}
	}
}

func TestSGDMatchesTorch(t *testing.T) {
	for _, c := range []struct {
		name          string
		mu, wd, clip  float64
		steps         int
		expectClipped bool
	}{
		{"paper", DefaultMomentum, DefaultWeightDecay, DefaultClipValue, 12, true},
		{"no-clip", 0.9, 5e-4, 0, 12, false},
		{"big-decay", 0.5, 0.1, 4, 8, true},
		{"plain", 0, 0, 0, 5, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := newQuadContext()
			opt := SGD().LearningRate(testLR).Momentum(c.mu).WeightDecay(c.wd).ClipByValue(c.clip).MustDone()
			e := newStepExec(t, ctx, opt)
			ref := newParams()
			noClip := newParams()
			for step := range c.steps {
				lossT := e.MustExec1()
				if got, want := float64(lossT.Value().(float32)), quadLoss(ref.x); math.Abs(got-want) > 1e-4*(1+want) {
					t.Fatalf("step %d: loss %g, want %g", step, got, want)
				}
				torchStep(ref, testLR, c.mu, c.wd, c.clip)
				torchStep(noClip, testLR, c.mu, c.wd, 0)
				assertClose(t, "params", state(t, ctx), ref.x)
				if c.mu > 0 {
					assertClose(t, "momentum", momenta(t, ctx, DefaultScope), ref.buf)
				}
			}
			// Clipping made a difference exactly when it should.
			var diff float64
			for i := range ref.x {
				diff = math.Max(diff, math.Abs(ref.x[i]-noClip.x[i]))
			}
			if c.expectClipped != (diff > 1e-3) {
				t.Errorf("clipping changed the trajectory by %g, expected a change: %v", diff, c.expectClipped)
			}
			// The frozen variable never moves and gets no momentum.
			f := ctx.GetVariableByScopeAndName("/"+fScope, fName).MustValue().Value().([]float32)
			if f[0] != float32(frozenF[0]) || f[1] != float32(frozenF[1]) {
				t.Errorf("frozen variable moved: %v", f)
			}
			if m := ctx.GetVariableByScopeAndName("/"+DefaultScope+"/"+fScope, fName+MomentumSuffix); m != nil {
				t.Errorf("frozen variable got a momentum buffer %s", m.ScopeAndName())
			}
			if c.mu == 0 {
				if m := ctx.GetVariableByScopeAndName("/"+DefaultScope, sName+MomentumSuffix); m != nil {
					t.Errorf("momentum 0 should keep no buffers, found %s", m.ScopeAndName())
				}
			}
			if gs := ctx.GetVariableByScopeAndName("/", "global_step").MustValue().Value().(int64); gs != int64(c.steps) {
				t.Errorf("global_step = %d, want %d", gs, c.steps)
			}
		})
	}
}

// TestLearningRateAndResetWithoutRecompiling changes the learning rate and
// resets the momenta between steps of one compiled graph.
func TestLearningRateAndResetWithoutRecompiling(t *testing.T) {
	ctx := newQuadContext()
	opt := SGD().LearningRate(testLR).MustDone()
	e := newStepExec(t, ctx, opt)
	ref := newParams()
	var firstGraph *Graph
	step := func(lr float64) {
		t.Helper()
		_, g, err := e.ExecWithGraph()
		if err != nil {
			t.Fatal(err)
		}
		if firstGraph == nil {
			firstGraph = g
		} else if g != firstGraph {
			t.Fatal("the training graph was rebuilt")
		}
		torchStep(ref, lr, DefaultMomentum, DefaultWeightDecay, DefaultClipValue)
		assertClose(t, "params", state(t, ctx), ref.x)
		assertClose(t, "momentum", momenta(t, ctx, DefaultScope), ref.buf)
	}
	step(testLR)
	step(testLR)
	for _, lr := range []float64{0.01, 0, 0.2, 0.003} {
		if err := opt.SetLearningRate(ctx, lr); err != nil {
			t.Fatal(err)
		}
		if got, err := opt.LearningRate(ctx); err != nil || math.Abs(got-lr) > 1e-7*lr {
			t.Fatalf("LearningRate() = %v, %v; want %v", got, err, lr)
		}
		before := state(t, ctx)
		step(lr)
		if lr == 0 {
			// Rate 0 (the reference's first warm-up epoch) moves nothing but fills the momenta.
			assertClose(t, "params at lr=0", state(t, ctx), before)
		}
	}
	// Package-level functions address the default scope.
	if err := SetLearningRate(ctx, 0.02); err != nil {
		t.Fatal(err)
	}
	if got, err := LearningRate(ctx); err != nil || math.Abs(got-0.02) > 1e-8 {
		t.Fatalf("LearningRate(ctx) = %v, %v", got, err)
	}
	step(0.02)

	// Reset: the next step starts with fresh momenta, as a new torch optimizer.
	if err := opt.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	ref.hasBufs = false
	step(0.02)
	step(0.02) // and the momentum is used again afterwards.

	if err := SetLearningRate(ctx, math.NaN()); err == nil {
		t.Error("SetLearningRate(NaN): want an error")
	}
	if err := SetLearningRate(ctx, -1); err == nil {
		t.Error("SetLearningRate(-1): want an error")
	}
}

func TestSetLearningRateBeforeFirstStep(t *testing.T) {
	ctx := newQuadContext()
	opt := SGD().Scope("stage2").MustDone() // default initial rate, overridden below
	if got, _ := opt.LearningRate(ctx); got != DefaultLearningRate {
		t.Errorf("initial LearningRate = %v, want %v", got, DefaultLearningRate)
	}
	if _, err := LearningRate(ctx); err == nil {
		t.Error("LearningRate of the unused default scope: want an error")
	}
	if err := opt.SetLearningRate(ctx, 0.125); err != nil {
		t.Fatal(err)
	}
	e := newStepExec(t, ctx, opt)
	ref := newParams()
	e.MustExec1()
	torchStep(ref, 0.125, DefaultMomentum, DefaultWeightDecay, DefaultClipValue)
	assertClose(t, "params", state(t, ctx), ref.x)
	assertClose(t, "momentum", momenta(t, ctx, "stage2"), ref.buf)
}

// TestCheckpointRestoresMomentum saves after a few steps, restores into a
// fresh context and checks that training continues exactly as without the
// interruption.
func TestCheckpointRestoresMomentum(t *testing.T) {
	dir := t.TempDir()
	ctx := newQuadContext()
	opt := SGD().LearningRate(testLR).MustDone()
	e := newStepExec(t, ctx, opt)
	ref := newParams()
	for range 3 {
		e.MustExec1()
		torchStep(ref, testLR, DefaultMomentum, DefaultWeightDecay, DefaultClipValue)
	}
	if err := opt.SetLearningRate(ctx, 0.03); err != nil {
		t.Fatal(err)
	}
	ckpt, err := checkpoints.Build(ctx).Dir(dir).Done()
	if err != nil {
		t.Fatal(err)
	}
	if err := ckpt.Save(); err != nil {
		t.Fatal(err)
	}

	ctx2 := context.New()
	if _, err := checkpoints.Build(ctx2).Dir(dir).Done(); err != nil {
		t.Fatal(err)
	}
	opt2 := SGD().LearningRate(999).MustDone() // the checkpoint's rate wins
	e2 := newStepExec(t, ctx2, opt2)
	for range 2 {
		e2.MustExec1()
		torchStep(ref, 0.03, DefaultMomentum, DefaultWeightDecay, DefaultClipValue)
		assertClose(t, "restored params", state(t, ctx2), ref.x)
		assertClose(t, "restored momentum", momenta(t, ctx2, DefaultScope), ref.buf)
	}
	f := ctx2.GetVariableByScopeAndName("/"+fScope, fName).MustValue().Value().([]float32)
	if f[0] != float32(frozenF[0]) {
		t.Errorf("frozen variable moved after restore: %v", f)
	}
}

func TestUpdateGraphWithGradientsAndClear(t *testing.T) {
	ctx := newQuadContext()
	opt := SGD().LearningRate(testLR).MustDone()
	e := context.MustNewExec(backend.MustDefault(), ctx, func(ctx *context.Context, g *Graph) *Node {
		loss := quadLossGraph(ctx, g)
		opt.UpdateGraphWithGradients(ctx, ctx.BuildTrainableVariablesGradientsGraph(loss), loss.DType())
		return loss
	})
	ref := newParams()
	for range 3 {
		e.MustExec1()
		torchStep(ref, testLR, DefaultMomentum, DefaultWeightDecay, DefaultClipValue)
	}
	assertClose(t, "params", state(t, ctx), ref.x)
	if err := opt.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	for v := range ctx.IterVariables() {
		if len(v.Scope()) >= len(opt.ScopePath()) && v.Scope()[:len(opt.ScopePath())] == opt.ScopePath() {
			t.Errorf("variable %s survived Clear", v.ScopeAndName())
		}
	}
	if state(t, ctx)[0] != float64(float32(ref.x[0])) && math.Abs(state(t, ctx)[0]-ref.x[0]) > 1e-5 {
		t.Error("Clear touched the model's variables")
	}
}

func TestConfigValidation(t *testing.T) {
	for name, c := range map[string]*Config{
		"momentum 1":     SGD().Momentum(1),
		"momentum < 0":   SGD().Momentum(-0.1),
		"weight decay":   SGD().WeightDecay(-1),
		"learning rate":  SGD().LearningRate(math.NaN()),
		"empty scope":    SGD().Scope(""),
		"clip value NaN": SGD().ClipByValue(math.NaN()),
	} {
		if _, err := c.Done(); err == nil {
			t.Errorf("%s: Done() should fail", name)
		}
	}
	if o, err := SGD().Done(); err != nil || o.String() != `SGD(momentum=0.9, weight_decay=0.0005, clip_value=4, scope="tsimcne_sgd")` {
		t.Errorf("default: %v, %v", o, err)
	}
}

// The optimizer supports train.Trainer.AccumulateGradients.
var _ train.OptimizeWithGradients = (*Optimizer)(nil)

// TestWithTrainer runs the optimizer under GoMLX's train.Trainer.
func TestWithTrainer(t *testing.T) {
	ctx := newQuadContext()
	opt := SGD().MustDone()
	modelFn := func(ctx *context.Context, _ any, inputs []*Node) []*Node {
		return []*Node{quadLossGraph(ctx, inputs[0].Graph())}
	}
	lossFn := func(_, predictions []*Node) *Node { return predictions[0] }
	// Set before NewTrainer, which deletes GoMLX's own learning-rate variable, not ours.
	if err := opt.SetLearningRate(ctx, testLR); err != nil {
		t.Fatal(err)
	}
	trainer := train.NewTrainer(backend.MustDefault(), ctx, modelFn, lossFn, opt, nil, nil)
	ref := newParams()
	input := []*tensors.Tensor{tensors.FromScalar(float32(0))}
	for range 4 {
		if _, err := trainer.TrainStep(nil, input, nil); err != nil {
			t.Fatal(err)
		}
		torchStep(ref, testLR, DefaultMomentum, DefaultWeightDecay, DefaultClipValue)
	}
	assertClose(t, "params under train.Trainer", state(t, ctx), ref.x)
}
