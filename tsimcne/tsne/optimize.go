package tsne

import (
	"context"
	"fmt"
	"math"
	"time"
)

// optimizer holds the state of the gradient descent.
type optimizer struct {
	cfg       *Config
	P         *csr
	n         int
	y         []float64 // the map, n x 2
	update    []float64 // the last step, n x 2
	gains     []float64
	grad, rep []float64
	repulsion Repulsion
	fft       *fftRepulsion
	entropy   float64 // sum p log p
}

// newOptimizer starts from the map y (n x 2, owned by the optimizer).
func newOptimizer(cfg *Config, P *csr, y []float64, repulsion Repulsion) *optimizer {
	n := P.n
	o := &optimizer{
		cfg: cfg, P: P, n: n, y: y, repulsion: repulsion,
		update:  make([]float64, 2*n),
		gains:   make([]float64, 2*n),
		grad:    make([]float64, 2*n),
		rep:     make([]float64, 2*n),
		entropy: entropyTerm(P),
	}
	for i := range o.gains {
		o.gains[i] = 1
	}
	if repulsion == RepulsionFFT {
		o.fft = newFFTRepulsion(cfg.InterpolationPoints, cfg.MinIntervals, cfg.IntervalWidth, cfg.Workers)
	}
	return o
}

// gradient sets o.grad to the gradient (a quarter of the KL's, see the
// package documentation) at exaggeration ex, and returns the KL divergence
// of the current map when wantKL (else NaN).
func (o *optimizer) gradient(ex float64, wantKL bool) float64 {
	logW := attractive(o.P, o.y, ex, o.grad, o.cfg.Workers, wantKL)
	var z float64
	if o.repulsion == RepulsionExact {
		z = exactRepulsion(o.y, o.n, o.rep, o.cfg.Workers)
	} else {
		z = o.fft.compute(o.y, o.n, o.rep)
	}
	inv := 1 / z
	for i, r := range o.rep {
		o.grad[i] -= r * inv
	}
	if !wantKL {
		return math.NaN()
	}
	return klDivergence(o.entropy, logW, z)
}

// step applies one step of gradient descent with momentum and gains (the
// delta-bar-delta rule of bhtsne and FIt-SNE: a gain grows by 0.2 where the
// gradient's sign differs from the last step's, shrinks by a factor 0.8
// where it agrees, and stays at least MinGain), caps each point's step at
// MaxStepNorm, and re-centres the map.
func (o *optimizer) step(lr, momentum float64) {
	g, u, gains, y := o.grad, o.update, o.gains, o.y
	for i := range g {
		if sign(g[i]) != sign(u[i]) { // as np.sign: 0 differs from +-1
			gains[i] += 0.2
		} else {
			gains[i] *= 0.8
		}
		gains[i] = max(gains[i], o.cfg.MinGain)
		u[i] = momentum*u[i] - lr*gains[i]*g[i]
	}
	if maxStep := o.cfg.MaxStepNorm; maxStep > 0 {
		for i := range o.n {
			s := math.Hypot(u[2*i], u[2*i+1])
			if s > maxStep {
				u[2*i] *= maxStep / s
				u[2*i+1] *= maxStep / s
			}
		}
	}
	var mx, my float64
	for i := range o.n {
		y[2*i] += u[2*i]
		y[2*i+1] += u[2*i+1]
		mx += y[2*i]
		my += y[2*i+1]
	}
	mx /= float64(o.n)
	my /= float64(o.n)
	for i := range o.n {
		y[2*i] -= mx
		y[2*i+1] -= my
	}
}

// sign returns -1, 0 or 1.
func sign(v float64) int {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

// run does the early-exaggeration phase and the rest, and returns the KL
// divergence of the final map and the number of steps done.
func (o *optimizer) run(ctx context.Context, lr float64, logf func(string, ...any)) (float64, int, error) {
	cfg := o.cfg
	total := cfg.EarlyIterations + cfg.Iterations
	start := time.Now()
	last := start
	for it := range total {
		if err := ctx.Err(); err != nil {
			return 0, it, errCancelled(err, it)
		}
		ex, mom := cfg.EarlyExaggeration, cfg.Momentum
		if it >= cfg.EarlyIterations {
			ex, mom = cfg.Exaggeration, cfg.FinalMomentum
		}
		report := (it+1)%cfg.ReportEvery == 0 && it+1 < total
		kl := o.gradient(ex, report)
		if report {
			pr := Progress{Iteration: it + 1, Iterations: total, Exaggeration: ex, KL: kl, GradNorm: norm(o.grad), Elapsed: time.Since(start)}
			logf("iteration %d/%d: KL %.4f, exaggeration %g, |grad| %.3g, %v (%v per iteration)%s",
				pr.Iteration, total, kl, ex, pr.GradNorm, pr.Elapsed.Round(time.Millisecond),
				(time.Since(last) / time.Duration(cfg.ReportEvery)).Round(10*time.Microsecond), o.gridNote())
			last = time.Now()
			if cfg.OnProgress != nil {
				cfg.OnProgress(pr)
			}
			if math.IsNaN(kl) || math.IsInf(kl, 0) {
				return kl, it, fmt.Errorf("tsne: the optimisation diverged at iteration %d (KL %v); try a lower learning rate", it+1, kl)
			}
		}
		o.step(lr, mom)
	}
	ex := cfg.Exaggeration
	if cfg.Iterations == 0 {
		ex = cfg.EarlyExaggeration
	}
	kl := o.gradient(ex, true)
	if cfg.OnProgress != nil {
		cfg.OnProgress(Progress{Iteration: total, Iterations: total, Exaggeration: ex, KL: kl, GradNorm: norm(o.grad), Elapsed: time.Since(start)})
	}
	if math.IsNaN(kl) || math.IsInf(kl, 0) {
		return kl, total, fmt.Errorf("tsne: the optimisation diverged (KL %v); try a lower learning rate", kl)
	}
	return kl, total, nil
}

// gridNote describes the FFT grid for the log.
func (o *optimizer) gridNote() string {
	if o.fft == nil {
		return ""
	}
	return fmt.Sprintf(", grid %d boxes, FFT %d", o.fft.nBoxes, o.fft.m)
}

// norm returns the Euclidean norm of v.
func norm(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x * x
	}
	return math.Sqrt(s)
}
