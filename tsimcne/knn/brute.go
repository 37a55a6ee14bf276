package knn

import (
	"cmp"
	"math"
	"slices"
	"sync"
)

// Blocking of the brute-force search. A task is a block of bruteQueryBlock
// queries; it walks the training points in blocks of bruteTrainBlock and the
// dimensions in chunks of bruteKChunk, so that one chunk of the query block
// (128 x 1024 float32 = 512 KiB) and of the train block (256 KiB) stay in L2
// while the 4x4 micro-kernel keeps four train rows (16 KiB) in L1 and streams
// query rows past them. Chosen by measuring CPU time on the 2-core AMD EPYC
// (Zen 4) development machine, 1024 x 10 000 points of 3072-D, one worker:
// 128/64/1024 ran at 70 GFLOP/s per core (kernel and everything around it),
// the first guess 256/64/512 at 57-60, query blocks of 1024 at 37-44; chunks
// of 1024 to 3072 and train blocks of 32 to 128 were within 5% of each other.
const (
	bruteQueryBlock = 128  // multiple of 4
	bruteTrainBlock = 64   // multiple of 4
	bruteKChunk     = 1024 // multiple of 16
)

// refineMargin is the number of extra candidates, beyond k, that the
// brute-force search keeps by float32 distance and re-ranks by exact float64
// distance.
func refineMargin(k int) int { return max(8, k/2) }

// candHeap is a bounded max-heap of (key, id) pairs ordered lexicographically,
// keeping the smallest pairs pushed. Its slices are windows into per-block
// arrays.
type candHeap struct {
	keys []float32
	ids  []int32
}

// less reports whether (ka, ia) < (kb, ib).
func pairLess(ka float32, ia int32, kb float32, ib int32) bool {
	return ka < kb || (ka == kb && ia < ib)
}

// push offers (key, id) to a heap of capacity cap(h.keys).
func (h *candHeap) push(key float32, id int32) {
	n := len(h.keys)
	if n < cap(h.keys) {
		h.keys = append(h.keys, key)
		h.ids = append(h.ids, id)
		// Sift up.
		for i := n; i > 0; {
			p := (i - 1) / 2
			if !pairLess(h.keys[p], h.ids[p], h.keys[i], h.ids[i]) {
				break
			}
			h.keys[p], h.keys[i] = h.keys[i], h.keys[p]
			h.ids[p], h.ids[i] = h.ids[i], h.ids[p]
			i = p
		}
		return
	}
	if !pairLess(key, id, h.keys[0], h.ids[0]) {
		return
	}
	h.keys[0], h.ids[0] = key, id
	// Sift down.
	for i := 0; ; {
		l := 2*i + 1
		if l >= n {
			break
		}
		c := l
		if r := l + 1; r < n && pairLess(h.keys[l], h.ids[l], h.keys[r], h.ids[r]) {
			c = r
		}
		if !pairLess(h.keys[i], h.ids[i], h.keys[c], h.ids[c]) {
			break
		}
		h.keys[i], h.keys[c] = h.keys[c], h.keys[i]
		h.ids[i], h.ids[c] = h.ids[c], h.ids[i]
		i = c
	}
}

// bruteSearch finds the k nearest train points of every query by computing
// all distances; see the package documentation. With self, train and query
// are the same set and query i skips train point i.
func bruteSearch(cfg Config, train, query *pointSet, k int, self bool) *NeighborList {
	dim := train.dim
	available := train.n
	if self {
		available--
	}
	nCand := min(k+refineMargin(k), available)
	mainDim := dim &^ 15 // handled by the kernel; the rest by a scalar loop
	zeros := make([]float32, dim)

	// The search keys are computed on "work" points: the points themselves,
	// or centred copies when a common offset would drown the distances in
	// the float32 rounding of |a|^2 + |b|^2 - 2a.b (see workSets).
	trainW, queryW, cosineKey := workSets(cfg, train, query, self)
	trainKeyNorm := make([]float32, train.n)
	for j := range train.n {
		trainKeyNorm[j] = keyNorm(trainW.sqNorm(j), cosineKey)
	}

	out := &NeighborList{N: query.n, K: k, Indices: make([]int, query.n*k), Distances: make([]float64, query.n*k)}
	nBlocks := (query.n + bruteQueryBlock - 1) / bruteQueryBlock
	parallelFor(nBlocks, cfg.Workers, 1, func(bLo, bHi int) {
		c := make([]float32, bruteQueryBlock*bruteTrainBlock)
		keys := make([]float32, bruteQueryBlock*nCand)
		ids := make([]int32, bruteQueryBlock*nCand)
		heaps := make([]candHeap, bruteQueryBlock)
		qRows := make([][]float32, bruteQueryBlock)
		qKeyNorm := make([]float32, bruteQueryBlock)
		tRows := make([][]float32, bruteTrainBlock)
		exact := make([]float64, nCand)
		order := make([]int, nCand)
		for b := bLo; b < bHi; b++ {
			q0 := b * bruteQueryBlock
			mq := min(bruteQueryBlock, query.n-q0)
			for i := range bruteQueryBlock {
				if i < mq {
					qRows[i] = queryW.row(q0 + i)
					qKeyNorm[i] = keyNorm(queryW.sqNorm(q0+i), cosineKey)
				} else {
					qRows[i] = zeros
				}
				heaps[i] = candHeap{keys: keys[i*nCand : i*nCand : (i+1)*nCand], ids: ids[i*nCand : i*nCand : (i+1)*nCand]}
			}
			for t0 := 0; t0 < train.n; t0 += bruteTrainBlock {
				nt := min(bruteTrainBlock, train.n-t0)
				for j := range bruteTrainBlock {
					if j < nt {
						tRows[j] = trainW.row(t0 + j)
					} else {
						tRows[j] = zeros
					}
				}
				clear(c)
				blockDots(c, qRows[:(mq+3)&^3], tRows[:(nt+3)&^3], mainDim, dim)
				for i := range mq {
					qi := int32(q0 + i)
					h := &heaps[i]
					row := c[i*bruteTrainBlock : i*bruteTrainBlock+nt]
					for j, dot := range row {
						tj := int32(t0 + j)
						var key float32
						if cosineKey {
							key = 1 - dot/(qKeyNorm[i]*trainKeyNorm[tj])
						} else {
							key = qKeyNorm[i] + trainKeyNorm[tj] - 2*dot
						}
						if len(h.keys) == nCand && (key > h.keys[0] || (key == h.keys[0] && tj > h.ids[0])) {
							continue // the common case: not among the candidates
						}
						if self && tj == qi {
							continue
						}
						h.push(key, tj)
					}
				}
			}
			// Re-rank the candidates by exact distance on the original
			// points, ties by index.
			for i := range mq {
				h := &heaps[i]
				qRow := query.row(q0 + i)
				qNorm := math.Sqrt(query.sqNorm(q0 + i))
				for j, t := range h.ids {
					if cfg.Metric == Cosine {
						exact[j] = sqDistUnit64(qRow, train.row(int(t)), qNorm, math.Sqrt(train.sqNorm(int(t))))
					} else {
						exact[j] = sqDist64(qRow, train.row(int(t)))
					}
					order[j] = j
				}
				ord := order[:len(h.ids)]
				slices.SortFunc(ord, func(a, b int) int {
					if c := cmp.Compare(exact[a], exact[b]); c != 0 {
						return c
					}
					return cmp.Compare(h.ids[a], h.ids[b])
				})
				base := (q0 + i) * k
				for r := range k {
					out.Indices[base+r] = int(h.ids[ord[r]])
					out.Distances[base+r] = finalDistance(cfg.Metric, exact[ord[r]])
				}
			}
		}
	})
	return out
}

// keyNorm is the per-point term of the float32 search key: the squared norm,
// or the norm with cosine keys.
func keyNorm(sqNorm float64, cosine bool) float32 {
	if cosine {
		return float32(math.Sqrt(sqNorm))
	}
	return float32(sqNorm)
}

// centreRatio: the brute-force search centres the points when the squared
// norm of their mean exceeds centreRatio times their mean squared distance to
// it.
const centreRatio = 4

// workSets returns the point sets on which the brute-force search computes
// its float32 keys, and whether the keys are cosine distances (else squared
// Euclidean distances).
//
// The expansion |a|^2 + |b|^2 - 2a.b loses to float32 rounding about
// 1e-7*(|a|^2+|b|^2), which swamps the distances when the points share a
// large offset (features around 1000 +- 0.01, say). Distances do not change
// when a common vector is subtracted, so when the mean m of the train points
// has |m|^2 > centreRatio * mean |a-m|^2 the search runs on centred float32
// copies (of train and query). With Cosine the points are scaled to unit
// length first and keys are the squared distances between unit vectors
// (2(1-cos), the same order), if the unit vectors need centring; otherwise
// keys are 1 - a.b/(|a||b|) on the points as they are. The exact re-ranking
// always uses the original points.
func workSets(cfg Config, train, query *pointSet, self bool) (trainW, queryW *pointSet, cosineKey bool) {
	cosine := cfg.Metric == Cosine
	mean := offsetToRemove(cfg, train, cosine)
	if mean == nil {
		return train, query, cosine
	}
	trainW = train.centredCopy(cfg, mean, cosine)
	queryW = trainW
	if !self {
		queryW = query.centredCopy(cfg, mean, cosine)
	}
	return trainW, queryW, false
}

// offsetToRemove returns the mean of the points of s (scaled to unit length
// with cosine) if its squared norm exceeds centreRatio times their mean
// squared distance to it, else nil.
func offsetToRemove(cfg Config, s *pointSet, cosine bool) []float64 {
	dim := s.dim
	sum := make([]float64, dim)
	var sumSq float64
	var mu sync.Mutex
	parallelFor(s.n, cfg.Workers, 1024, func(lo, hi int) {
		part := make([]float64, dim)
		var partSq float64
		for r := lo; r < hi; r++ {
			scale := 1.0
			if cosine {
				scale = 1 / math.Sqrt(s.sqNorm(r))
			}
			for d, x := range s.row(r) {
				part[d] += float64(x) * scale
			}
			partSq += s.sqNorm(r) * scale * scale
		}
		mu.Lock()
		for d, x := range part {
			sum[d] += x
		}
		sumSq += partSq
		mu.Unlock()
	})
	var meanSq float64
	for d := range sum {
		sum[d] /= float64(s.n)
		meanSq += sum[d] * sum[d]
	}
	spread := sumSq/float64(s.n) - meanSq // mean |a - m|^2
	if meanSq <= centreRatio*spread {
		return nil
	}
	return sum
}

// centredCopy returns a new set holding the points of s (scaled to unit
// length with cosine) minus mean, as float32, in the same order.
func (s *pointSet) centredCopy(cfg Config, mean []float64, cosine bool) *pointSet {
	dim := s.dim
	out := &pointSet{data: make([]float32, s.n*dim), n: s.n, dim: dim, sqNorms: make([]float64, s.n)}
	parallelFor(s.n, cfg.Workers, 1024, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			scale := 1.0
			if cosine {
				scale = 1 / math.Sqrt(s.sqNorm(r))
			}
			dst := out.data[r*dim : (r+1)*dim]
			for d, x := range s.row(r) {
				dst[d] = float32(float64(x)*scale - mean[d])
			}
			out.sqNorms[r] = sqNorm64(dst)
		}
	})
	return out
}

// blockDots adds to c (row stride bruteTrainBlock) the dot products of every
// query row with every train row: c[i*bruteTrainBlock+j] += q[i].t[j].
// len(q) and len(t) must be multiples of 4 (pad with zero rows). Dimensions
// [0, mainDim) go through the micro-kernel in chunks, [mainDim, dim) through a
// scalar loop.
func blockDots(c []float32, q, t [][]float32, mainDim, dim int) {
	const s = bruteTrainBlock
	for k0 := 0; k0 < mainDim; k0 += bruteKChunk {
		k1 := min(k0+bruteKChunk, mainDim)
		kl := k1 - k0
		for j := 0; j < len(t); j += 4 {
			b0, b1, b2, b3 := t[j][k0:k1], t[j+1][k0:k1], t[j+2][k0:k1], t[j+3][k0:k1]
			for i := 0; i < len(q); i += 4 {
				dot4x4(q[i][k0:k1], q[i+1][k0:k1], q[i+2][k0:k1], q[i+3][k0:k1], b0, b1, b2, b3, kl,
					c[i*s+j:], c[(i+1)*s+j:], c[(i+2)*s+j:], c[(i+3)*s+j:])
			}
		}
	}
	if mainDim == dim {
		return
	}
	for i, qr := range q {
		qr = qr[mainDim:dim]
		for j, tr := range t {
			tr = tr[mainDim:dim]
			var sum float32
			for d, x := range qr {
				sum += x * tr[d]
			}
			c[i*s+j] += sum
		}
	}
}
