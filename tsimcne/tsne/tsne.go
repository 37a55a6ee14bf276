// Package tsne computes t-SNE maps (van der Maaten & Hinton 2008) of a set of
// points, in the manner of openTSNE (Poličar et al.) and FIt-SNE (Linderman
// et al. 2019): the map the t-SimCNE notebooks compare their own maps with
// (t-SNE of raw CIFAR-10 pixels, of backbone features).
//
// Points are flat row-major []float32 with an explicit count and dimension,
// as in the knn package: point i is points[i*dim : (i+1)*dim]. The map comes
// back the same way, n points of 2 coordinates.
//
//	y, err := tsne.Embed(points, n, dim, tsne.WithSeed(1))
//
// # Steps
//
//  1. PCA: inputs with more than Config.PCADim (50) dimensions are projected
//     on their top 50 principal components first, as FIt-SNE and most
//     t-SNE pipelines do: exactly (from the covariance matrix) up to 100
//     dimensions, else by a randomized PCA (Halko, Martinsson & Tropp 2011:
//     a random projection, four power iterations, a small SVD).
//  2. Neighbours: the k = 3*perplexity exact nearest neighbours of every
//     point (Euclidean), from the knn package's parallel brute-force search
//     (a k-d tree for inputs of at most 3 dimensions).
//  3. Affinities: for every point a Gaussian over its neighbours whose
//     perplexity is calibrated by bisection on its precision; the
//     conditional probabilities are symmetrised, p_ij = (p_j|i + p_i|j)/2N,
//     and kept as a sparse matrix.
//  4. Initialisation: the first two principal components, scaled so that the
//     first has standard deviation 1e-4, plus a seeded jitter of 1% of that
//     (openTSNE's "pca" initialisation); or Gaussian noise of standard
//     deviation 1e-4 (InitRandom); or a map given by the caller.
//  5. Gradient descent with momentum and per-coordinate gains (Jacobs 1988,
//     as in every t-SNE since the original): Config.EarlyIterations (250)
//     with the attraction exaggerated Config.EarlyExaggeration (12) times and
//     momentum 0.5, then Config.Iterations (500) at exaggeration 1 and
//     momentum 0.8, learning rate max(200, n/12) (Belkina et al. 2019,
//     FIt-SNE's default), the map re-centred after every step.
//
// # Gradient
//
// The attraction is summed over the non-zero p_ij. The repulsion, a sum over
// all pairs, is computed either exactly (O(n^2); RepulsionExact) or by
// FIt-SNE's interpolation (RepulsionFFT): the points' charges are spread onto
// a regular grid by Lagrange interpolation (3 nodes per box of width at most
// 1, at least 50 boxes per side), the kernel is applied on the grid as a
// convolution with FFTs, and the result is interpolated back, in O(n + G log
// G) for a grid of G nodes. The default RepulsionAuto takes the exact sum up
// to 2000 points, where it is also the faster, and FFT above.
//
// As in bhtsne, FIt-SNE and openTSNE, the "gradient" that the optimiser
// follows is a quarter of the true gradient of the KL divergence,
// sum_j (p_ij - q_ij) w_ij (y_i - y_j) with w_ij = 1/(1+|y_i-y_j|^2); the
// learning rates above are tuned for that convention.
//
// # Determinism
//
// Every random draw comes from Config.Seed, and every parallel sum is taken
// over fixed chunks and added in a fixed order, so that one seed gives the
// same map bit for bit on every run and for any number of workers (on the
// same machine and Go version: the floating-point operations are the same,
// but Go may fuse multiply-adds differently on other architectures).
package tsne

import (
	"context"
	"fmt"
	"io"
	"math"
	"runtime"
	"time"
)

// Repulsion selects how the repulsive part of the gradient is computed.
type Repulsion int

const (
	// RepulsionAuto uses RepulsionExact for at most exactMaxN (2000)
	// points and RepulsionFFT above.
	RepulsionAuto Repulsion = iota
	// RepulsionFFT is FIt-SNE's interpolation on a grid with FFT
	// convolutions: O(n) per iteration plus the grid's FFTs.
	RepulsionFFT
	// RepulsionExact sums over all pairs: O(n^2) per iteration.
	RepulsionExact
)

// exactMaxN is the largest n for which RepulsionAuto uses the exact sum.
// Measured on the 2-core development machine (one gradient, both cores):
// the exact sum takes 0.3 ms at 500 points, 1 ms at 1000 and 4 ms at 2000,
// the FFT on its smallest grid (50 boxes, 150 nodes and FFTs of 300 per
// side) 8-9 ms whatever the number of points; the two cross near 3000.
const exactMaxN = 2000

// String returns "auto", "fft" or "exact".
func (r Repulsion) String() string {
	switch r {
	case RepulsionAuto:
		return "auto"
	case RepulsionFFT:
		return "fft"
	case RepulsionExact:
		return "exact"
	}
	return fmt.Sprintf("Repulsion(%d)", int(r))
}

// Initialization selects the starting map.
type Initialization int

const (
	// InitPCA starts from the first two principal components of the input,
	// scaled so that the first has standard deviation 1e-4, with a seeded
	// jitter of 1% of that (openTSNE's default).
	InitPCA Initialization = iota
	// InitRandom starts from Gaussian noise of standard deviation 1e-4.
	InitRandom
)

// String returns "pca" or "random".
func (i Initialization) String() string {
	switch i {
	case InitPCA:
		return "pca"
	case InitRandom:
		return "random"
	}
	return fmt.Sprintf("Initialization(%d)", int(i))
}

// Progress reports the state of the optimisation to Config.OnProgress.
type Progress struct {
	// Iteration is the number of gradient steps done, of Iterations in all
	// (EarlyIterations + Iterations of the Config).
	Iteration, Iterations int
	// Exaggeration is the exaggeration of the attraction in this phase.
	Exaggeration float64
	// KL is the KL divergence of the current map (against the true, not
	// the exaggerated, affinities).
	KL float64
	// GradNorm is the norm of the gradient of the last step (a quarter of
	// the KL's, see the package documentation).
	GradNorm float64
	// Elapsed is the time since the optimisation started.
	Elapsed time.Duration
}

// Config holds the settings of a t-SNE run. DefaultConfig returns the
// defaults; the options of Embed set single fields over them.
type Config struct {
	// Perplexity is the effective number of neighbours of each point's
	// Gaussian (default 30). Each point gets k = 3*Perplexity neighbours.
	// When the data have fewer than 3*Perplexity+1 points, the perplexity
	// is lowered to (n-1)/3 and Result.Notes says so (openTSNE does the
	// same).
	Perplexity float64
	// EarlyExaggeration multiplies the affinities in the first
	// EarlyIterations steps (default 12).
	EarlyExaggeration float64
	// EarlyIterations is the number of steps with early exaggeration
	// (default 250).
	EarlyIterations int
	// Iterations is the number of steps after early exaggeration (default
	// 500, as openTSNE; FIt-SNE's 750 in all is the same).
	Iterations int
	// Exaggeration multiplies the affinities after the early phase (default
	// 1, plain t-SNE; values above 1 give more compact clusters).
	Exaggeration float64
	// LearningRate is the step size; 0 (the default) means
	// max(200, n/EarlyExaggeration), i.e. max(200, n/12) (Belkina et al.
	// 2019; FIt-SNE's default). Note that openTSNE >= 1.0 uses
	// n/exaggeration per phase instead, i.e. n after the early phase, with
	// momentum 0.8 throughout.
	LearningRate float64
	// Momentum is the momentum of the early phase (default 0.5) and
	// FinalMomentum that of the rest (default 0.8).
	Momentum, FinalMomentum float64
	// MinGain is the least per-coordinate gain (default 0.01).
	MinGain float64
	// MaxStepNorm caps the length of each point's step (default 5, as
	// openTSNE >= 1.0; it keeps a stray point from flying off and blowing
	// up the FFT grid). 0 means no cap.
	MaxStepNorm float64
	// PCADim: inputs with more dimensions are reduced to their top PCADim
	// principal components before the neighbour search (default 50); 0 or
	// less keeps the input as it is.
	PCADim int
	// Init selects the starting map (default InitPCA); InitialEmbedding, if
	// set, overrides it.
	Init Initialization
	// InitialEmbedding is a starting map of n*2 coordinates, used as is
	// (not rescaled).
	InitialEmbedding []float32
	// Repulsion selects the repulsive-force method (default RepulsionAuto).
	Repulsion Repulsion
	// InterpolationPoints is the number of interpolation nodes per box and
	// axis of RepulsionFFT (default 3, FIt-SNE's and openTSNE's).
	InterpolationPoints int
	// MinIntervals is the least number of boxes per axis of RepulsionFFT's
	// grid (default 50).
	MinIntervals int
	// IntervalWidth is the largest width of a box of RepulsionFFT's grid,
	// in map units (default 1: FIt-SNE's intervals_per_integer,
	// openTSNE's ints_in_interval). The grid has max(MinIntervals,
	// span/IntervalWidth) boxes per axis, at most maxIntervals (1000).
	IntervalWidth float64
	// Seed seeds the randomized PCA, the jitter of the PCA initialisation
	// and the random initialisation (default 0).
	Seed uint64
	// Workers is the number of goroutines (default runtime.GOMAXPROCS(0)).
	// It does not change the result.
	Workers int
	// Log, if not nil, receives one line per stage and every ReportEvery
	// iterations.
	Log io.Writer
	// OnProgress, if not nil, is called every ReportEvery iterations and
	// after the last one.
	OnProgress func(Progress)
	// ReportEvery is the number of iterations between reports (default 50).
	// The KL divergence is computed only for reports.
	ReportEvery int
}

// DefaultConfig returns the default settings.
func DefaultConfig() Config {
	return Config{
		Perplexity:          30,
		EarlyExaggeration:   12,
		EarlyIterations:     250,
		Iterations:          500,
		Exaggeration:        1,
		Momentum:            0.5,
		FinalMomentum:       0.8,
		MinGain:             0.01,
		MaxStepNorm:         5,
		PCADim:              50,
		InterpolationPoints: 3,
		MinIntervals:        50,
		IntervalWidth:       1,
		ReportEvery:         50,
	}
}

// Option changes a Config.
type Option func(*Config)

// WithConfig replaces the whole Config (options after it still apply);
// start from DefaultConfig, since zero fields are not defaults.
func WithConfig(c Config) Option { return func(cfg *Config) { *cfg = c } }

// WithPerplexity sets the perplexity (default 30).
func WithPerplexity(p float64) Option { return func(c *Config) { c.Perplexity = p } }

// WithIterations sets the number of steps after early exaggeration (default
// 500).
func WithIterations(n int) Option { return func(c *Config) { c.Iterations = n } }

// WithEarlyExaggeration sets the early exaggeration and the number of steps
// it lasts (default 12 for 250 steps).
func WithEarlyExaggeration(exaggeration float64, iterations int) Option {
	return func(c *Config) { c.EarlyExaggeration, c.EarlyIterations = exaggeration, iterations }
}

// WithExaggeration sets the exaggeration after the early phase (default 1).
func WithExaggeration(e float64) Option { return func(c *Config) { c.Exaggeration = e } }

// WithLearningRate sets the learning rate; 0 means max(200, n/12).
func WithLearningRate(lr float64) Option { return func(c *Config) { c.LearningRate = lr } }

// WithPCADim sets the number of principal components kept of
// high-dimensional inputs (default 50; 0 or less: no PCA).
func WithPCADim(d int) Option { return func(c *Config) { c.PCADim = d } }

// WithInit selects the initialisation (default InitPCA).
func WithInit(i Initialization) Option { return func(c *Config) { c.Init = i } }

// WithInitialEmbedding starts from the given map of n*2 coordinates.
func WithInitialEmbedding(y []float32) Option { return func(c *Config) { c.InitialEmbedding = y } }

// WithRepulsion selects the repulsion method (default RepulsionAuto).
func WithRepulsion(r Repulsion) Option { return func(c *Config) { c.Repulsion = r } }

// WithSeed sets the seed (default 0).
func WithSeed(seed uint64) Option { return func(c *Config) { c.Seed = seed } }

// WithWorkers sets the number of goroutines; n <= 0 means
// runtime.GOMAXPROCS(0).
func WithWorkers(n int) Option { return func(c *Config) { c.Workers = n } }

// WithLog writes one line per stage and every ReportEvery iterations to w.
func WithLog(w io.Writer) Option { return func(c *Config) { c.Log = w } }

// WithProgress calls f every ReportEvery iterations and after the last.
func WithProgress(f func(Progress)) Option { return func(c *Config) { c.OnProgress = f } }

// Timings says how long each stage of a run took.
type Timings struct {
	// PCA, Neighbors, Affinities, Init and Optimize are the stages; Total
	// is the whole run.
	PCA, Neighbors, Affinities, Init, Optimize, Total time.Duration
}

// Result is the outcome of EmbedContext.
type Result struct {
	// Embedding holds the map: N points of 2 coordinates, row-major.
	Embedding []float32
	// N is the number of points.
	N int
	// KL is the KL divergence of the final map.
	KL float64
	// Perplexity is the perplexity used (lower than asked for small n) and
	// K the number of neighbours of each point.
	Perplexity float64
	K          int
	// LearningRate is the learning rate used.
	LearningRate float64
	// InputDim is the dimension of the input and SearchDim that of the
	// points whose neighbours were searched (the PCA's, or InputDim).
	InputDim, SearchDim int
	// Repulsion is the method used (never RepulsionAuto).
	Repulsion Repulsion
	// Iterations is the number of gradient steps done.
	Iterations int
	// Times are the durations of the stages.
	Times Timings
	// Notes lists adjustments made to the settings (a lowered perplexity,
	// a fallback initialisation).
	Notes []string
}

// Embed computes the t-SNE map of n points of dimension dim, given row-major
// in points (n*dim values), and returns it as n*2 row-major coordinates. The
// options set fields of DefaultConfig. See EmbedContext for the errors.
func Embed(points []float32, n, dim int, opts ...Option) ([]float32, error) {
	res, err := EmbedContext(context.Background(), points, n, dim, opts...)
	if err != nil {
		return nil, err
	}
	return res.Embedding, nil
}

// EmbedContext is Embed with a context, which cancels the run between
// stages and between iterations (the error then wraps ctx.Err()), and with
// the whole Result.
//
// It returns an error for n < 4, dim < 1, len(points) != n*dim, a
// non-finite coordinate (naming the point), and settings out of range
// (perplexity <= 0, negative iteration counts, exaggerations <= 0, momentum
// outside [0, 1), an InitialEmbedding of the wrong length or with non-finite
// values).
func EmbedContext(ctx context.Context, points []float32, n, dim int, opts ...Option) (*Result, error) {
	start := time.Now()
	cfg := DefaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if err := validate(&cfg, points, n, dim); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("tsne: cancelled before the start: %w", err)
	}
	res := &Result{N: n, InputDim: dim, Perplexity: cfg.Perplexity}
	logf := func(format string, args ...any) {
		if cfg.Log != nil {
			fmt.Fprintf(cfg.Log, "tsne: "+format+"\n", args...)
		}
	}
	note := func(format string, args ...any) {
		s := fmt.Sprintf(format, args...)
		res.Notes = append(res.Notes, s)
		logf("note: %s", s)
	}

	// Perplexity and neighbours.
	if 3*res.Perplexity > float64(n-1) {
		old := res.Perplexity
		res.Perplexity = float64(n-1) / 3
		note("perplexity %g needs at least %d points; lowered to %.4g for %d points", old, int(math.Ceil(3*old))+1, res.Perplexity, n)
	}
	res.K = min(n-1, int(3*res.Perplexity))
	if res.K < 1 {
		res.K = 1
	}

	// Stage 1: PCA.
	t := time.Now()
	search, searchDim := points, dim
	var pcaScores []float32 // n x pcaDim, when computed
	pcaDim := 0
	if cfg.PCADim > 0 && dim > cfg.PCADim {
		var err error
		pcaScores, err = pca(points, n, dim, cfg.PCADim, cfg.Seed, cfg.Workers)
		if err != nil {
			return nil, fmt.Errorf("tsne: PCA of %d points of dim %d to %d: %w", n, dim, cfg.PCADim, err)
		}
		pcaDim = min(cfg.PCADim, dim, n) // fewer points than components: n
		search, searchDim = pcaScores, pcaDim
		logf("PCA %d -> %d dimensions: %v", dim, pcaDim, time.Since(t).Round(time.Millisecond))
	}
	res.SearchDim = searchDim
	res.Times.PCA = time.Since(t)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("tsne: cancelled after PCA: %w", err)
	}

	// Stage 2: neighbours.
	t = time.Now()
	nl, err := neighbors(search, n, searchDim, res.K, cfg.Workers)
	if err != nil {
		return nil, fmt.Errorf("tsne: nearest neighbours (k=%d) of %d points of dim %d: %w", res.K, n, searchDim, err)
	}
	res.Times.Neighbors = time.Since(t)
	logf("%d nearest neighbours of %d points (dim %d): %v", res.K, n, searchDim, res.Times.Neighbors.Round(time.Millisecond))
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("tsne: cancelled after the neighbour search: %w", err)
	}

	// Stage 3: affinities.
	t = time.Now()
	P := affinities(nl, res.Perplexity, cfg.Workers)
	res.Times.Affinities = time.Since(t)
	logf("affinities, perplexity %.4g: %d non-zero: %v", res.Perplexity, len(P.vals), res.Times.Affinities.Round(time.Millisecond))

	// Stage 4: initialisation.
	t = time.Now()
	y, err := initialize(&cfg, points, n, dim, pcaScores, pcaDim, note)
	if err != nil {
		return nil, err
	}
	res.Times.Init = time.Since(t)

	// Stage 5: gradient descent.
	t = time.Now()
	res.LearningRate = cfg.LearningRate
	if res.LearningRate == 0 {
		res.LearningRate = max(200, float64(n)/cfg.EarlyExaggeration)
	}
	res.Repulsion = cfg.Repulsion
	if res.Repulsion == RepulsionAuto {
		res.Repulsion = RepulsionFFT
		if n <= exactMaxN {
			res.Repulsion = RepulsionExact
		}
	}
	logf("optimising: %d + %d iterations, learning rate %.4g, repulsion %v", cfg.EarlyIterations, cfg.Iterations, res.LearningRate, res.Repulsion)
	opt := newOptimizer(&cfg, P, y, res.Repulsion)
	kl, iters, err := opt.run(ctx, res.LearningRate, logf)
	res.Iterations = iters
	if err != nil {
		return nil, err
	}
	res.KL = kl
	res.Times.Optimize = time.Since(t)
	res.Embedding = make([]float32, 2*n)
	for i, v := range opt.y {
		res.Embedding[i] = float32(v)
	}
	res.Times.Total = time.Since(start)
	logf("done: KL %.4f, %v in all", res.KL, res.Times.Total.Round(time.Millisecond))
	return res, nil
}

// validate checks the input and the settings and fills in Workers.
func validate(cfg *Config, points []float32, n, dim int) error {
	if n < 4 {
		return fmt.Errorf("tsne: %d points; t-SNE needs at least 4", n)
	}
	if dim < 1 {
		return fmt.Errorf("tsne: dimension %d; must be at least 1", dim)
	}
	if n > math.MaxInt32 || len(points)/dim != n || len(points)%dim != 0 {
		return fmt.Errorf("tsne: %d values for %d points of dimension %d (want %d)", len(points), n, dim, n*dim)
	}
	for i, v := range points {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("tsne: point %d has a non-finite coordinate %d (%v)", i/dim, i%dim, v)
		}
	}
	switch {
	case !(cfg.Perplexity > 0) || math.IsInf(cfg.Perplexity, 0):
		return fmt.Errorf("tsne: perplexity %v; must be positive and finite", cfg.Perplexity)
	case !(cfg.EarlyExaggeration > 0) || !(cfg.Exaggeration > 0):
		return fmt.Errorf("tsne: exaggerations %v and %v; must be positive", cfg.EarlyExaggeration, cfg.Exaggeration)
	case cfg.EarlyIterations < 0 || cfg.Iterations < 0:
		return fmt.Errorf("tsne: iterations %d and %d; must not be negative", cfg.EarlyIterations, cfg.Iterations)
	case !(cfg.LearningRate >= 0) || math.IsInf(cfg.LearningRate, 0):
		return fmt.Errorf("tsne: learning rate %v; must be >= 0 (0: automatic) and finite", cfg.LearningRate)
	case !(cfg.Momentum >= 0 && cfg.Momentum < 1) || !(cfg.FinalMomentum >= 0 && cfg.FinalMomentum < 1):
		return fmt.Errorf("tsne: momenta %v and %v; must be in [0, 1)", cfg.Momentum, cfg.FinalMomentum)
	case !(cfg.MinGain >= 0) || !(cfg.MaxStepNorm >= 0):
		return fmt.Errorf("tsne: min gain %v, max step norm %v; must not be negative", cfg.MinGain, cfg.MaxStepNorm)
	case cfg.Repulsion < RepulsionAuto || cfg.Repulsion > RepulsionExact:
		return fmt.Errorf("tsne: unknown repulsion method %v", cfg.Repulsion)
	case cfg.Init < InitPCA || cfg.Init > InitRandom:
		return fmt.Errorf("tsne: unknown initialisation %v", cfg.Init)
	case cfg.InterpolationPoints < 1 || cfg.InterpolationPoints > 10:
		return fmt.Errorf("tsne: %d interpolation points; must be in [1, 10]", cfg.InterpolationPoints)
	case cfg.MinIntervals < 1 || cfg.MinIntervals > maxIntervals:
		return fmt.Errorf("tsne: min intervals %d; must be in [1, %d]", cfg.MinIntervals, maxIntervals)
	case !(cfg.IntervalWidth > 0) || math.IsInf(cfg.IntervalWidth, 0):
		return fmt.Errorf("tsne: interval width %v; must be positive and finite", cfg.IntervalWidth)
	}
	if cfg.InitialEmbedding != nil {
		if len(cfg.InitialEmbedding) != 2*n {
			return fmt.Errorf("tsne: initial embedding of %d values for %d points (want %d)", len(cfg.InitialEmbedding), n, 2*n)
		}
		for i, v := range cfg.InitialEmbedding {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("tsne: initial embedding: point %d has a non-finite coordinate (%v)", i/2, v)
			}
		}
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if cfg.ReportEvery <= 0 {
		cfg.ReportEvery = 50
	}
	return nil
}

// errCancelled wraps a context's error with where the run stopped.
func errCancelled(err error, iteration int) error {
	return fmt.Errorf("tsne: cancelled at iteration %d: %w", iteration, err)
}
