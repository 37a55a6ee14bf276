// Package optim holds the optimizer of t-SimCNE and its learning-rate
// schedule.
//
// The optimizer is SGD with momentum and weight decay with PyTorch's
// semantics (torch.optim.SGD, dampening 0, no Nesterov), as used by the
// Python reference (berenslab/t-simcne v0.3.12):
//
//	g ← clip(∇w, -c, c)     (optional clipping by value; the reference uses c = 4)
//	g ← g + λ·w             (weight decay λ = 5e-4 on every trainable variable)
//	v ← μ·v + g             (momentum μ = 0.9; v starts at 0, so the first v is g)
//	w ← w - lr·v
//
// It implements GoMLX's optimizers.Interface (and train.OptimizeWithGradients
// for gradient accumulation), so it plugs into train.NewTrainer. GoMLX's own
// SGD has no momentum and divides the rate by √step by default, hence this
// package.
//
// The learning rate lives in a context variable, so it can be changed
// between training steps (once per epoch, by Schedule) with SetLearningRate
// without recompiling the training graph. The momentum buffers are context
// variables too, so checkpoints (pkg/ml/context/checkpoints) save and
// restore them. The reference uses a fresh optimizer for each training
// stage: call Optimizer.Reset between stages (the next step starts with
// zero momentum, without recompiling), or give each stage its own Scope.
package optim

import (
	"fmt"

	"github.com/gomlx/exceptions"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // GoMLX's own convention for graph code.
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/context/initializers"
	"github.com/gomlx/gomlx/pkg/ml/train/optimizers"
)

const (
	// DefaultScope is the context scope (an absolute path below the root)
	// that holds the optimizer's learning rate and momentum buffers.
	DefaultScope = "tsimcne_sgd"

	// LearningRateVarName is the name of the learning-rate variable in the
	// optimizer's scope.
	LearningRateVarName = "learning_rate"

	// KeepMomentumVarName is the name of the scalar variable in the
	// optimizer's scope that multiplies the old momentum: 1 normally, 0 for
	// the first step after Reset.
	KeepMomentumVarName = "keep_momentum"

	// MomentumSuffix is appended to a trainable variable's name to name its
	// momentum buffer, which lives in the optimizer's scope followed by the
	// variable's own scope.
	MomentumSuffix = "_momentum"

	// DefaultLearningRate is the initial learning rate when none is set:
	// the paper's rule 0.03·B/256 at the reference's default batch size 512.
	DefaultLearningRate = 0.06

	// DefaultMomentum is the paper's momentum.
	DefaultMomentum = 0.9

	// DefaultWeightDecay is the paper's weight decay, applied to every
	// trainable variable (batch-norm scales and biases included).
	DefaultWeightDecay = 5e-4

	// DefaultClipValue is the reference's gradient clipping by value
	// (PyTorch Lightning's gradient_clip_val=4, algorithm "value").
	DefaultClipValue = 4.0
)

// Config configures the optimizer; create it with SGD, adjust it with its
// methods and finish with Done.
type Config struct {
	scope        string
	learningRate float64
	momentum     float64
	weightDecay  float64
	clipValue    float64
}

// SGD returns the configuration of the paper's optimizer: momentum 0.9,
// weight decay 5e-4, gradients clipped by value at 4, initial learning rate
// DefaultLearningRate, scope DefaultScope.
//
// Example:
//
//	opt, err := optim.SGD().LearningRate(optim.BaseLearningRate(batchSize)).Done()
//	...
//	trainer := train.NewTrainer(backend, ctx, modelFn, loss.LossFn(kernels.Cauchy{}), opt, nil, nil)
//	for epoch := range schedule.Epochs {
//		if err := opt.SetLearningRate(ctx, schedule.LearningRate(epoch)); err != nil { ... }
//		... train one epoch ...
//	}
//	opt.Reset(ctx) // before the next stage
func SGD() *Config {
	return &Config{
		scope:        DefaultScope,
		learningRate: DefaultLearningRate,
		momentum:     DefaultMomentum,
		weightDecay:  DefaultWeightDecay,
		clipValue:    DefaultClipValue,
	}
}

// Scope sets the context scope for the learning rate and momentum buffers
// (default DefaultScope). Use one scope per optimizer on a shared context,
// e.g. one per training stage.
func (c *Config) Scope(name string) *Config {
	c.scope = name
	return c
}

// LearningRate sets the initial learning rate, used when the learning-rate
// variable does not exist yet (not set with SetLearningRate, not loaded from
// a checkpoint). Default DefaultLearningRate.
func (c *Config) LearningRate(lr float64) *Config {
	c.learningRate = lr
	return c
}

// Momentum sets the momentum μ in [0, 1); 0 is plain SGD and keeps no
// buffers. Default DefaultMomentum.
func (c *Config) Momentum(mu float64) *Config {
	c.momentum = mu
	return c
}

// WeightDecay sets the L2 weight decay λ >= 0 added to every gradient
// (λ·w, PyTorch's coupled weight decay). Default DefaultWeightDecay.
func (c *Config) WeightDecay(lambda float64) *Config {
	c.weightDecay = lambda
	return c
}

// ClipByValue clips every gradient element to [-c, c] before the weight
// decay is added, as the reference does; c <= 0 disables clipping.
// Default DefaultClipValue.
func (c *Config) ClipByValue(clip float64) *Config {
	c.clipValue = clip
	return c
}

// Done validates the configuration and returns the optimizer.
func (c *Config) Done() (*Optimizer, error) {
	switch {
	case c.scope == "":
		return nil, fmt.Errorf("optim: empty scope")
	case !(c.momentum >= 0 && c.momentum < 1):
		return nil, fmt.Errorf("optim: momentum must be in [0, 1), got %v", c.momentum)
	case !(c.weightDecay >= 0):
		return nil, fmt.Errorf("optim: weight decay must be >= 0, got %v", c.weightDecay)
	case !(c.learningRate >= 0):
		return nil, fmt.Errorf("optim: learning rate must be >= 0, got %v", c.learningRate)
	case c.clipValue != c.clipValue: // NaN
		return nil, fmt.Errorf("optim: clip value is NaN")
	}
	cfg := *c
	return &Optimizer{cfg: cfg}, nil
}

// MustDone is Done for programs and notebooks: it panics on error.
func (c *Config) MustDone() *Optimizer {
	o, err := c.Done()
	if err != nil {
		panic(err)
	}
	return o
}

// Optimizer is SGD with momentum, weight decay and optional clipping (see
// the package documentation). It implements optimizers.Interface and
// train.OptimizeWithGradients.
type Optimizer struct {
	cfg Config
}

var _ optimizers.Interface = (*Optimizer)(nil)

// ScopePath returns the absolute scope of the optimizer's variables, e.g. "/tsimcne_sgd".
func (o *Optimizer) ScopePath() string { return context.ScopeSeparator + o.cfg.scope }

// String describes the configuration.
func (o *Optimizer) String() string {
	return fmt.Sprintf("SGD(momentum=%g, weight_decay=%g, clip_value=%g, scope=%q)",
		o.cfg.momentum, o.cfg.weightDecay, o.cfg.clipValue, o.cfg.scope)
}

// UpdateGraph implements optimizers.Interface: it builds the gradients of
// the scalar loss with respect to every trainable variable used by the
// graph, and the update of those variables and their momenta. It also
// increments the global step. It is a graph building function and panics
// (GoMLX style) on error.
func (o *Optimizer) UpdateGraph(ctx *context.Context, g *Graph, loss *Node) {
	if loss == nil || !loss.Shape().IsScalar() {
		exceptions.Panicf("optim: the loss must be a scalar, got %v", loss)
	}
	vars := trainableInUse(ctx, g)
	if len(vars) == 0 {
		exceptions.Panicf("optim: no trainable variables are used by the graph: nothing to optimize")
	}
	values := make([]*Node, len(vars))
	for i, v := range vars {
		values[i] = v.ValueGraph(g)
	}
	grads := Gradient(loss, values...)
	o.update(ctx, g, vars, grads, loss.DType())
}

// UpdateGraphWithGradients implements train.OptimizeWithGradients: like
// UpdateGraph, with the gradients given, in the order of the trainable
// variables in use by the graph (as Context.BuildTrainableVariablesGradientsGraph
// returns them).
func (o *Optimizer) UpdateGraphWithGradients(ctx *context.Context, grads []*Node, lossDType dtypes.DType) {
	if len(grads) == 0 {
		exceptions.Panicf("optim: no gradients given: nothing to optimize")
	}
	g := grads[0].Graph()
	vars := trainableInUse(ctx, g)
	if len(vars) != len(grads) {
		exceptions.Panicf("optim: %d gradients for %d trainable variables in use by the graph", len(grads), len(vars))
	}
	o.update(ctx, g, vars, grads, lossDType)
}

// trainableInUse lists the trainable variables used by g, in the order of
// Context.BuildTrainableVariablesGradientsGraph. It is collected before any
// optimizer variable is created, so that the list is not disturbed by them.
func trainableInUse(ctx *context.Context, g *Graph) []*context.Variable {
	var vars []*context.Variable
	for v := range ctx.IterVariables() {
		if v.Trainable && v.InUseByGraph(g) {
			vars = append(vars, v)
		}
	}
	return vars
}

func (o *Optimizer) update(ctx *context.Context, g *Graph, vars []*context.Variable, grads []*Node, lossDType dtypes.DType) {
	lr := o.learningRateVar(ctx, lossDType).ValueGraph(g)
	_ = optimizers.IncrementGlobalStepGraph(ctx, g, lossDType)

	var keep *Node
	if o.cfg.momentum > 0 {
		keepVar := o.keepMomentumVar(ctx)
		keep = keepVar.ValueGraph(g)
		keepVar.SetValueGraph(OnesLike(keep))
	}

	for i, v := range vars {
		grad := grads[i]
		if grad == nil {
			exceptions.Panicf("optim: no gradient for variable %q", v.ScopeAndName())
		}
		dtype := v.DType()
		if !dtype.IsFloat() {
			exceptions.Panicf("optim: trainable variable %q has non-float dtype %s", v.ScopeAndName(), dtype)
		}
		if grad.DType() != dtype {
			grad = ConvertDType(grad, dtype)
		}
		optimizers.TraceNaNInGradients(ctx, v, grad)
		if o.cfg.clipValue > 0 {
			grad = ClipScalar(grad, -o.cfg.clipValue, o.cfg.clipValue)
		}
		w := v.ValueGraph(g)
		if o.cfg.weightDecay > 0 {
			grad = Add(grad, MulScalar(w, o.cfg.weightDecay))
		}
		step := grad
		if o.cfg.momentum > 0 {
			mVar := o.momentumVar(ctx, v)
			coef := MulScalar(ConvertDType(keep, dtype), o.cfg.momentum) // μ, or 0 right after Reset.
			step = Add(Mul(coef, mVar.ValueGraph(g)), grad)
			mVar.SetValueGraph(step)
		}
		updated := Sub(w, Mul(ConvertDType(lr, dtype), step))
		updated = optimizers.ClipNaNsInUpdates(ctx, w, updated)
		v.SetValueGraph(updated)
	}
}

// learningRateVar returns the learning-rate variable, creating it with the
// configured initial value, in the loss dtype (as GoMLX's optimizers do),
// if needed.
func (o *Optimizer) learningRateVar(ctx *context.Context, dtype dtypes.DType) *context.Variable {
	if !dtype.IsFloat() {
		dtype = dtypes.Float32
	}
	return ctx.InAbsPath(o.ScopePath()).Checked(false).
		VariableWithValue(LearningRateVarName, castScalar(o.cfg.learningRate, dtype)).SetTrainable(false)
}

func (o *Optimizer) keepMomentumVar(ctx *context.Context) *context.Variable {
	return ctx.InAbsPath(o.ScopePath()).Checked(false).
		VariableWithValue(KeepMomentumVarName, float32(1)).SetTrainable(false)
}

// momentumVar returns (creating it zero-filled if needed) the momentum
// buffer of the trainable variable v.
func (o *Optimizer) momentumVar(ctx *context.Context, v *context.Variable) *context.Variable {
	scope := o.ScopePath() + v.Scope()
	if v.Scope() == context.RootScope {
		scope = o.ScopePath()
	}
	return ctx.InAbsPath(scope).Checked(false).WithInitializer(initializers.Zero).
		VariableWithShape(v.Name()+MomentumSuffix, v.Shape()).SetTrainable(false)
}

// SetLearningRate sets the learning rate used by the following training
// steps. It only changes a variable's value: a compiled training graph is
// reused, not rebuilt. It may be called before the first step (the
// variable is then created, float32).
func (o *Optimizer) SetLearningRate(ctx *context.Context, lr float64) error {
	return setScalar(ctx, o.ScopePath(), LearningRateVarName, lr)
}

// LearningRate returns the current learning rate, or the configured initial
// one if the variable does not exist yet.
func (o *Optimizer) LearningRate(ctx *context.Context) (float64, error) {
	v := ctx.GetVariableByScopeAndName(o.ScopePath(), LearningRateVarName)
	if v == nil {
		return o.cfg.learningRate, nil
	}
	return scalarValue(v)
}

// Reset makes the optimizer start afresh, as a newly created PyTorch SGD:
// the next training step ignores the momentum accumulated so far (its
// buffers are overwritten with that step's gradient). It only sets a
// scalar variable, so it needs no recompilation and is robust to momentum
// buffers that a checkpoint loads lazily. The learning rate is kept.
func (o *Optimizer) Reset(ctx *context.Context) error {
	if o.cfg.momentum == 0 {
		return nil
	}
	return setScalar(ctx, o.ScopePath(), KeepMomentumVarName, 0)
}

// Clear implements optimizers.Interface: it deletes all the optimizer's
// variables (learning rate, momenta) from the context, e.g. to save a
// model for inference only. Graphs built before must not be run again.
func (o *Optimizer) Clear(ctx *context.Context) error {
	if err := ctx.InAbsPath(o.ScopePath()).DeleteVariablesInScope(); err != nil {
		return fmt.Errorf("optim: clearing scope %q: %w", o.ScopePath(), err)
	}
	return nil
}

// SetLearningRate sets the learning rate of an optimizer with DefaultScope.
// See Optimizer.SetLearningRate.
func SetLearningRate(ctx *context.Context, lr float64) error {
	return setScalar(ctx, context.ScopeSeparator+DefaultScope, LearningRateVarName, lr)
}

// LearningRate returns the learning rate of an optimizer with DefaultScope,
// or an error if it was never set nor used.
func LearningRate(ctx *context.Context) (float64, error) {
	v := ctx.GetVariableByScopeAndName(context.ScopeSeparator+DefaultScope, LearningRateVarName)
	if v == nil {
		return 0, fmt.Errorf("optim: no learning rate variable in scope %q", context.ScopeSeparator+DefaultScope)
	}
	return scalarValue(v)
}

// setScalar sets (creating it as a float32 if missing) the scalar variable
// scope/name to value, keeping an existing variable's dtype so that
// compiled graphs stay valid.
func setScalar(ctx *context.Context, scope, name string, value float64) error {
	if value != value || value < 0 {
		return fmt.Errorf("optim: invalid value %v for %s/%s", value, scope, name)
	}
	v := ctx.GetVariableByScopeAndName(scope, name)
	if v == nil {
		ctx.InAbsPath(scope).Checked(false).VariableWithValue(name, float32(value)).SetTrainable(false)
		return nil
	}
	if !v.Shape().IsScalar() || !v.DType().IsFloat() {
		return fmt.Errorf("optim: variable %s is %s, want a float scalar", v.ScopeAndName(), v.Shape())
	}
	t := tensors.FromAnyValue(castScalar(value, v.DType()))
	if err := v.SetValue(t); err != nil {
		return fmt.Errorf("optim: setting %s: %w", v.ScopeAndName(), err)
	}
	return nil
}

func castScalar(value float64, dtype dtypes.DType) any {
	switch dtype {
	case dtypes.Float64:
		return value
	case dtypes.Float32:
		return float32(value)
	default:
		return shapes.CastAsDType(value, dtype) // the rarer half-precision dtypes
	}
}

func scalarValue(v *context.Variable) (float64, error) {
	t, err := v.Value()
	if err != nil {
		return 0, fmt.Errorf("optim: reading %s: %w", v.ScopeAndName(), err)
	}
	if t == nil {
		return 0, fmt.Errorf("optim: %s has no value yet", v.ScopeAndName())
	}
	switch x := t.Value().(type) {
	case float32:
		return float64(x), nil
	case float64:
		return x, nil
	default:
		return 0, fmt.Errorf("optim: %s holds %T, want a float scalar", v.ScopeAndName(), x)
	}
}
