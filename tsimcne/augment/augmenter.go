package augment

import (
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/gosimcne/gosimcne/tsimcne/data"
)

// Augmenter makes augmented views of the images of a data.Dataset with a
// fixed Config. It is safe for concurrent use.
type Augmenter struct {
	cfg          Config
	mean, invStd [3]float32
	pool         sync.Pool // *scratch, one per worker in flight
}

// scratch is the per-worker state: the random stream and buffers.
type scratch struct {
	pcg    *rand.PCG
	rng    *rand.Rand
	rot    []uint8
	xs, ys []tap
	params Params
}

// New returns an Augmenter for cfg, or an error if cfg is invalid.
func New(cfg Config) (*Augmenter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	a := &Augmenter{cfg: cfg}
	if cfg.Normalize {
		for c := range 3 {
			a.mean[c] = cfg.Mean[c]
			a.invStd[c] = 1 / cfg.Std[c]
		}
	}
	a.pool.New = func() any {
		pcg := rand.NewPCG(0, 0)
		return &scratch{pcg: pcg, rng: rand.New(pcg)}
	}
	return a, nil
}

// Config returns the configuration of a.
func (a *Augmenter) Config() Config { return a.cfg }

// OutputShape returns the height and width of the views (and plain images)
// a makes from ds: Size x Size, or the input's size when Size is 0.
func (a *Augmenter) OutputShape(ds *data.Dataset) (height, width int) {
	if a.cfg.Size > 0 {
		return a.cfg.Size, a.cfg.Size
	}
	return ds.Height, ds.Width
}

// ViewLen returns the number of float32 values of one view of an image of
// ds: height*width*3 of OutputShape.
func (a *Augmenter) ViewLen(ds *data.Dataset) int {
	h, w := a.OutputShape(ds)
	return h * w * 3
}

// checkInput validates ds and indices (nil indices are valid: all images).
func checkInput(ds *data.Dataset, indices []int) error {
	if ds == nil {
		return fmt.Errorf("augment: dataset is nil")
	}
	if ds.Channels != 3 {
		return fmt.Errorf("augment: dataset %q has %d channels, want 3 (RGB)", ds.Name, ds.Channels)
	}
	if ds.Height <= 0 || ds.Width <= 0 || ds.N < 0 {
		return fmt.Errorf("augment: dataset %q has invalid shape N=%d H=%d W=%d", ds.Name, ds.N, ds.Height, ds.Width)
	}
	if len(ds.Images) < ds.N*ds.ImageSize() {
		return fmt.Errorf("augment: dataset %q has %d pixel bytes, want N*H*W*3 = %d", ds.Name, len(ds.Images), ds.N*ds.ImageSize())
	}
	for pos, i := range indices {
		if i < 0 || i >= ds.N {
			return fmt.Errorf("augment: index %d (position %d in the batch) out of range [0, %d) of dataset %q", i, pos, ds.N, ds.Name)
		}
	}
	return nil
}

// Views returns two independently augmented views of each image
// ds.Image(indices[k]), as float32 NHWC buffers of shape
// [len(indices), H, W, 3] with (H, W) = a.OutputShape(ds): view1[k] and
// view2[k] are the two views of image indices[k].
//
// The output depends only on a's Config (Seed included), batchSeed, the
// images and indices: not on the number of workers. Give each batch of a run
// its own batchSeed (e.g. the global step number) so that views differ from
// batch to batch and epoch to epoch.
func (a *Augmenter) Views(ds *data.Dataset, indices []int, batchSeed uint64) (view1, view2 []float32, err error) {
	if err := checkInput(ds, indices); err != nil {
		return nil, nil, err
	}
	n := len(indices) * a.ViewLen(ds)
	view1, view2 = make([]float32, n), make([]float32, n)
	if err := a.ViewsInto(ds, indices, batchSeed, view1, view2); err != nil {
		return nil, nil, err
	}
	return view1, view2, nil
}

// ViewsInto is Views writing into caller-provided buffers, each of length
// len(indices)*a.ViewLen(ds). To get the [2B, H, W, 3] layout of a
// contrastive batch (all first views, then all second views) without a copy,
// pass the two halves of one buffer: buf[:n] and buf[n:].
func (a *Augmenter) ViewsInto(ds *data.Dataset, indices []int, batchSeed uint64, view1, view2 []float32) error {
	if err := checkInput(ds, indices); err != nil {
		return err
	}
	vl := a.ViewLen(ds)
	if n := len(indices) * vl; len(view1) != n || len(view2) != n {
		return fmt.Errorf("augment: view buffers have %d and %d values, want %d (%d images of %d)", len(view1), len(view2), n, len(indices), vl)
	}
	oh, ow := a.OutputShape(ds)
	a.parallel(2*len(indices), func(s *scratch, task int) {
		pos, view := task>>1, task&1
		dst := view1
		if view == 1 {
			dst = view2
		}
		a.sampleView(s, ds, indices, batchSeed, pos, view, &s.params)
		a.render(s, &s.params, ds.Image(indices[pos]), ds.Height, ds.Width, dst[pos*vl:(pos+1)*vl], oh, ow)
	})
	return nil
}

// ViewParams returns the random choices Views makes for the same arguments:
// p1[k] and p2[k] describe view1[k] and view2[k].
func (a *Augmenter) ViewParams(ds *data.Dataset, indices []int, batchSeed uint64) (p1, p2 []Params, err error) {
	if err := checkInput(ds, indices); err != nil {
		return nil, nil, err
	}
	p1, p2 = make([]Params, len(indices)), make([]Params, len(indices))
	s := a.pool.Get().(*scratch)
	defer a.pool.Put(s)
	for pos := range indices {
		a.sampleView(s, ds, indices, batchSeed, pos, 0, &p1[pos])
		a.sampleView(s, ds, indices, batchSeed, pos, 1, &p2[pos])
	}
	return p1, p2, nil
}

// sampleView seeds s's stream for one view and draws its parameters.
func (a *Augmenter) sampleView(s *scratch, ds *data.Dataset, indices []int, batchSeed uint64, pos, view int, p *Params) {
	s.pcg.Seed(streamSeeds(a.cfg.Seed, batchSeed, pos, indices[pos], view))
	a.cfg.sample(s.rng, ds.Height, ds.Width, p)
}

// render makes one view of the h x w RGB image src with parameters p into
// dst (oh x ow x 3).
func (a *Augmenter) render(s *scratch, p *Params, src []uint8, h, w int, dst []float32, oh, ow int) {
	if p.Angle != 0 {
		if cap(s.rot) < len(src) {
			s.rot = make([]uint8, len(src))
		}
		s.rot = s.rot[:len(src)]
		rotateNearest(src, h, w, p.Angle, s.rot)
		src = s.rot
	}
	if cap(s.xs) < ow {
		s.xs = make([]tap, ow)
	}
	if cap(s.ys) < oh {
		s.ys = make([]tap, oh)
	}
	resizeCrop(src, w, p.Top, p.Left, p.CropH, p.CropW, p.Flip, dst, oh, ow, s.xs[:ow], s.ys[:oh])
	if p.Jitter {
		for _, op := range p.Order {
			switch op {
			case OpBrightness:
				if p.Brightness != 1 {
					adjustBrightness(dst, p.Brightness)
				}
			case OpContrast:
				if p.Contrast != 1 {
					adjustContrast(dst, p.Contrast)
				}
			case OpSaturation:
				if p.Saturation != 1 {
					adjustSaturation(dst, p.Saturation)
				}
			case OpHue:
				if p.Hue != 0 {
					adjustHue(dst, p.Hue)
				}
			}
		}
	}
	if p.Gray {
		toGray(dst)
	}
	if a.cfg.Normalize {
		normalize(dst, &a.mean, &a.invStd)
	}
}

// Plain returns the images ds.Image(indices[k]) with no augmentation, for
// embedding: float32 [len(indices), H, W, 3] in [0, 1] with (H, W) =
// a.OutputShape(ds) (bilinear resize if Size differs from the input), then
// normalised if the Config says so. nil indices mean all images in order.
func (a *Augmenter) Plain(ds *data.Dataset, indices []int) ([]float32, error) {
	if err := checkInput(ds, indices); err != nil {
		return nil, err
	}
	n := ds.N
	if indices != nil {
		n = len(indices)
	}
	dst := make([]float32, n*a.ViewLen(ds))
	if err := a.PlainInto(ds, indices, dst); err != nil {
		return nil, err
	}
	return dst, nil
}

// PlainInto is Plain writing into dst, of length len(indices)*a.ViewLen(ds)
// (ds.N*a.ViewLen(ds) for nil indices).
func (a *Augmenter) PlainInto(ds *data.Dataset, indices []int, dst []float32) error {
	if err := checkInput(ds, indices); err != nil {
		return err
	}
	n := ds.N
	if indices != nil {
		n = len(indices)
	}
	vl := a.ViewLen(ds)
	if len(dst) != n*vl {
		return fmt.Errorf("augment: output buffer has %d values, want %d (%d images of %d)", len(dst), n*vl, n, vl)
	}
	oh, ow := a.OutputShape(ds)
	a.parallel(n, func(s *scratch, k int) {
		i := k
		if indices != nil {
			i = indices[k]
		}
		p := Params{CropH: ds.Height, CropW: ds.Width}
		a.render(s, &p, ds.Image(i), ds.Height, ds.Width, dst[k*vl:(k+1)*vl], oh, ow)
	})
	return nil
}

// ToFloat returns the images ds.Image(indices[k]) (all images for nil
// indices) converted to float32 x/255 in [0, 1], NHWC [n, Height, Width, 3],
// with no resize, augmentation or normalisation.
func ToFloat(ds *data.Dataset, indices []int) ([]float32, error) {
	if err := checkInput(ds, indices); err != nil {
		return nil, err
	}
	size := ds.ImageSize()
	if indices == nil {
		out := make([]float32, ds.N*size)
		for i, v := range ds.Images[:len(out)] {
			out[i] = u8ToF32[v]
		}
		return out, nil
	}
	out := make([]float32, len(indices)*size)
	for k, i := range indices {
		d := out[k*size : (k+1)*size]
		for j, v := range ds.Image(i) {
			d[j] = u8ToF32[v]
		}
	}
	return out, nil
}

// tasksPerGrab is how many tasks a worker takes at a time: enough to make
// the atomic counter cheap, few enough to balance the load at the end.
const tasksPerGrab = 4

// parallel runs fn(s, t) for t in [0, n) on the configured number of
// goroutines, each with its own scratch.
func (a *Augmenter) parallel(n int, fn func(s *scratch, task int)) {
	workers := a.cfg.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, (n+tasksPerGrab-1)/tasksPerGrab)
	if workers <= 1 {
		s := a.pool.Get().(*scratch)
		for t := range n {
			fn(s, t)
		}
		a.pool.Put(s)
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			s := a.pool.Get().(*scratch)
			defer a.pool.Put(s)
			for {
				start := int(next.Add(tasksPerGrab)) - tasksPerGrab
				if start >= n {
					return
				}
				for t := start; t < min(start+tasksPerGrab, n); t++ {
					fn(s, t)
				}
			}
		})
	}
	wg.Wait()
}

// ViewImage returns view k of a batch of views made by Views (float32
// NHWC, h×w, 3 channels, values in [0, 1] without Normalize) as an image,
// to look at what the augmentations did. Values outside [0, 1] are clipped.
func ViewImage(views []float32, k, h, w int) (*image.RGBA, error) {
	n := h * w * 3
	if k < 0 || h <= 0 || w <= 0 || (k+1)*n > len(views) {
		return nil, fmt.Errorf("augment: view %d of %dx%d does not fit %d values", k, h, w, len(views))
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	v := views[k*n : (k+1)*n]
	for p := range h * w {
		for c := range 3 {
			img.Pix[4*p+c] = uint8(math.Round(255 * math.Min(1, math.Max(0, float64(v[3*p+c])))))
		}
		img.Pix[4*p+3] = 255
	}
	return img, nil
}
