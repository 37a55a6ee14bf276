package tsne

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Initialisation scale: openTSNE's rescale (target standard deviation 1e-4
// of the first coordinate) and jitter (1% of that).
const (
	initStd    = 1e-4
	initJitter = 0.01
)

// initialize returns the starting map, n x 2 row-major float64. pcaScores,
// if not nil, holds the input's top pcaDim principal components (n x pcaDim),
// whose first two are the PCA initialisation; otherwise those are computed
// here.
func initialize(cfg *Config, points []float32, n, dim int, pcaScores []float32, pcaDim int, note func(string, ...any)) ([]float64, error) {
	y := make([]float64, 2*n)
	if cfg.InitialEmbedding != nil {
		for i, v := range cfg.InitialEmbedding {
			y[i] = float64(v)
		}
		return y, nil
	}
	r := rand.New(rand.NewPCG(cfg.Seed, 0x1417))
	if cfg.Init == InitPCA {
		if pcaScores == nil {
			var err error
			pcaScores, err = pca(points, n, dim, 2, cfg.Seed, cfg.Workers)
			if err != nil {
				return nil, fmt.Errorf("tsne: PCA initialisation: %w", err)
			}
			pcaDim = min(2, dim)
		}
		for i := range n {
			y[2*i] = float64(pcaScores[i*pcaDim])
			if pcaDim > 1 {
				y[2*i+1] = float64(pcaScores[i*pcaDim+1])
			}
		}
		sd := stdDev(y, n)
		if sd > 0 && !math.IsInf(sd, 0) {
			scale := initStd / sd
			for i := range y {
				y[i] = y[i]*scale + r.NormFloat64()*initStd*initJitter
			}
			return y, nil
		}
		note("the points have no variance along their first principal component; random initialisation instead of PCA")
	}
	for i := range y {
		y[i] = r.NormFloat64() * initStd
	}
	return y, nil
}

// stdDev returns the standard deviation of the first coordinates of the n
// points of y (n x 2).
func stdDev(y []float64, n int) float64 {
	mean := 0.0
	for i := range n {
		mean += y[2*i]
	}
	mean /= float64(n)
	v := 0.0
	for i := range n {
		d := y[2*i] - mean
		v += d * d
	}
	return math.Sqrt(v / float64(n))
}
