package augment

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gosimcne/gosimcne/tsimcne/data"
)

func mustNew(t testing.TB, cfg Config) *Augmenter {
	t.Helper()
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// exactFloat returns the images x/255 computed independently of the package.
func exactFloat(ds *data.Dataset, indices []int) []float32 {
	var out []float32
	for _, i := range indices {
		for _, v := range ds.Image(i) {
			out = append(out, float32(v)/255)
		}
	}
	return out
}

func TestIdentityBitForBit(t *testing.T) {
	ds := randomDataset(20, 32, 32, 1)
	indices := []int{3, 0, 19, 7, 7, 12}
	want := exactFloat(ds, indices)

	noOp := DefaultConfig()
	noOp.Scale = [2]float64{1, 1} // full-image crops on square images.
	noOp.FlipP, noOp.JitterP, noOp.GrayP = 0, 0, 0
	for name, cfg := range map[string]Config{"IdentityConfig": IdentityConfig(), "zero probabilities, scale 1": noOp} {
		cfg.Workers = 3
		a := mustNew(t, cfg)
		v1, v2, err := a.Views(ds, indices, 99)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(v1, want) || !slices.Equal(v2, want) {
			t.Errorf("%s: views are not x/255 bit for bit", name)
		}
		plain, err := a.Plain(ds, indices)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(plain, want) {
			t.Errorf("%s: Plain is not x/255 bit for bit", name)
		}
	}
	f, err := ToFloat(ds, indices)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f, want) {
		t.Errorf("ToFloat is not x/255 bit for bit")
	}
	all, err := ToFloat(ds, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(all, exactFloat(ds, seq(ds.N))) {
		t.Errorf("ToFloat(ds, nil) is not all images x/255")
	}
}

func TestReproducibleAcrossWorkers(t *testing.T) {
	ds := smoothDataset(64, 32, 32, 2)
	indices := seq(64)
	slices.Reverse(indices)
	cfg := DefaultConfig()
	cfg.Seed = 7
	var ref1, ref2 []float32
	for _, workers := range []int{1, 4, 2, 0} {
		cfg.Workers = workers
		a := mustNew(t, cfg)
		v1, v2, err := a.Views(ds, indices, 5)
		if err != nil {
			t.Fatal(err)
		}
		if ref1 == nil {
			ref1, ref2 = v1, v2
			continue
		}
		if !slices.Equal(v1, ref1) || !slices.Equal(v2, ref2) {
			t.Errorf("workers=%d: views differ from workers=1", workers)
		}
		// A second call with the same arguments gives the same views.
		w1, w2, _ := a.Views(ds, indices, 5)
		if !slices.Equal(w1, v1) || !slices.Equal(w2, v2) {
			t.Errorf("workers=%d: second call differs", workers)
		}
	}

	// Another base seed or batch seed changes every view; the two views of
	// an image differ from each other.
	a := mustNew(t, cfg)
	other, _, _ := mustNew(t, func() Config { c := cfg; c.Seed = 8; return c }()).Views(ds, indices, 5)
	nextBatch, _, _ := a.Views(ds, indices, 6)
	vl := a.ViewLen(ds)
	for k := range indices {
		sl := func(v []float32) []float32 { return v[k*vl : (k+1)*vl] }
		if slices.Equal(sl(ref1), sl(ref2)) {
			t.Errorf("image %d: the two views are equal", k)
		}
		if slices.Equal(sl(ref1), sl(other)) {
			t.Errorf("image %d: Seed 7 and 8 give the same view", k)
		}
		if slices.Equal(sl(ref1), sl(nextBatch)) {
			t.Errorf("image %d: batch seeds 5 and 6 give the same view", k)
		}
	}
}

func TestViewsMatchParams(t *testing.T) {
	// Colourful images, so that a view is grey exactly when it was turned grey.
	ds := randomDataset(500, 16, 16, 4)
	cfg := DefaultConfig()
	a := mustNew(t, cfg)
	indices := seq(ds.N)
	v1, v2, err := a.Views(ds, indices, 1)
	if err != nil {
		t.Fatal(err)
	}
	p1, p2, err := a.ViewParams(ds, indices, 1)
	if err != nil {
		t.Fatal(err)
	}
	vl := a.ViewLen(ds)
	grays := 0
	for k := range indices {
		for view, vp := range []struct {
			v []float32
			p Params
		}{{v1, p1[k]}, {v2, p2[k]}} {
			img := vp.v[k*vl : (k+1)*vl]
			grey := true
			for i := 0; i < len(img); i += 3 {
				if img[i] != img[i+1] || img[i] != img[i+2] {
					grey = false
				}
			}
			if grey != vp.p.Gray {
				t.Fatalf("image %d view %d: grey %v but Params.Gray %v", k, view, grey, vp.p.Gray)
			}
			if grey {
				grays++
			}
			for i, x := range img {
				if !(x >= 0 && x <= 1) {
					t.Fatalf("image %d view %d: value %d = %v outside [0, 1]", k, view, i, x)
				}
			}
		}
	}
	// 1000 views, grey p = 0.2: 5 standard errors = 0.063.
	checkRate(t, "rendered grey views", grays, 2*ds.N, 0.2)
}

func TestFlipOnly(t *testing.T) {
	ds := randomDataset(400, 8, 8, 5)
	a := mustNew(t, Config{FlipP: 0.5})
	indices := seq(ds.N)
	v1, _, err := a.Views(ds, indices, 3)
	if err != nil {
		t.Fatal(err)
	}
	p1, _, _ := a.ViewParams(ds, indices, 3)
	plain := exactFloat(ds, indices)
	vl := a.ViewLen(ds)
	flips := 0
	for k := range indices {
		img, orig := v1[k*vl:(k+1)*vl], plain[k*vl:(k+1)*vl]
		mirrored := true
		for y := range 8 {
			for x := range 8 {
				for c := range 3 {
					if img[(y*8+x)*3+c] != orig[(y*8+7-x)*3+c] {
						mirrored = false
					}
				}
			}
		}
		if mirrored != p1[k].Flip || (!mirrored && !slices.Equal(img, orig)) {
			t.Fatalf("image %d: mirrored %v, Params.Flip %v", k, mirrored, p1[k].Flip)
		}
		if mirrored {
			flips++
		}
	}
	checkRate(t, "rendered flips", flips, ds.N, 0.5)
}

func TestJitterOnly(t *testing.T) {
	ds := smoothDataset(400, 8, 8, 6)
	cfg := DefaultConfig()
	cfg.Scale, cfg.FlipP, cfg.GrayP = [2]float64{}, 0, 0
	a := mustNew(t, cfg)
	indices := seq(ds.N)
	v1, _, _ := a.Views(ds, indices, 3)
	p1, _, _ := a.ViewParams(ds, indices, 3)
	plain := exactFloat(ds, indices)
	vl := a.ViewLen(ds)
	changed := 0
	for k := range indices {
		diff := !slices.Equal(v1[k*vl:(k+1)*vl], plain[k*vl:(k+1)*vl])
		if diff != p1[k].Jitter {
			t.Fatalf("image %d: changed %v, Params.Jitter %v", k, diff, p1[k].Jitter)
		}
		if diff {
			changed++
		}
	}
	checkRate(t, "rendered jitter", changed, ds.N, 0.8)
}

func TestSizeAndNormalisation(t *testing.T) {
	ds := randomDataset(5, 32, 32, 8)
	cfg := DefaultConfig().WithCIFARNormalization()
	cfg.Size = 16
	a := mustNew(t, cfg)
	if h, w := a.OutputShape(ds); h != 16 || w != 16 || a.ViewLen(ds) != 16*16*3 {
		t.Fatalf("OutputShape = %d x %d, ViewLen %d, want 16 x 16, 768", h, w, a.ViewLen(ds))
	}
	v1, v2, err := a.Views(ds, []int{0, 4}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(v1) != 2*768 || len(v2) != 2*768 {
		t.Fatalf("views of %d and %d values, want %d", len(v1), len(v2), 2*768)
	}
	// Plain: 2x downsampling (mean of 2x2 blocks), then (x - mean)/std.
	plain, err := a.Plain(ds, []int{4})
	if err != nil {
		t.Fatal(err)
	}
	img := ds.Image(4)
	mean := []float64{CIFARMeanR, CIFARMeanG, CIFARMeanB}
	std := []float64{CIFARStdR, CIFARStdG, CIFARStdB}
	for y := range 16 {
		for x := range 16 {
			for c := range 3 {
				s := 0.0
				for _, d := range [][2]int{{0, 0}, {0, 1}, {1, 0}, {1, 1}} {
					s += float64(img[((2*y+d[0])*32+2*x+d[1])*3+c]) / 255 / 4
				}
				want := (s - float64(float32(mean[c]))) / float64(float32(std[c]))
				if got := float64(plain[(y*16+x)*3+c]); math.Abs(got-want) > 1e-5 {
					t.Fatalf("plain (%d,%d,%d) = %v, want %v", y, x, c, got, want)
				}
			}
		}
	}
}

func TestNonSquareAndRotation(t *testing.T) {
	ds := randomDataset(10, 20, 30, 9)
	cfg := MedicalConfig()
	a := mustNew(t, cfg)
	if h, w := a.OutputShape(ds); h != 20 || w != 30 {
		t.Fatalf("OutputShape = %dx%d, want the input's 20x30", h, w)
	}
	v1, v2, err := a.Views(ds, seq(10), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(v1) != 10*20*30*3 || len(v2) != len(v1) {
		t.Fatalf("got %d values, want %d", len(v1), 10*20*30*3)
	}
	// Rotated views have corners filled with black more often than not;
	// at least some view must contain exact zeros in all three channels.
	zeros := 0
	for i := 0; i < len(v1); i += 3 {
		if v1[i] == 0 && v1[i+1] == 0 && v1[i+2] == 0 {
			zeros++
		}
	}
	if zeros == 0 {
		t.Errorf("no black (filled) pixel in 10 rotated views")
	}
}

func TestErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"negative size", func(c *Config) { c.Size = -1 }, "Size"},
		{"scale reversed", func(c *Config) { c.Scale = [2]float64{1, 0.2} }, "Scale"},
		{"scale NaN", func(c *Config) { c.Scale[0] = math.NaN() }, "Scale"},
		{"ratio zero", func(c *Config) { c.Ratio = [2]float64{0, 1} }, "Ratio"},
		{"flip p", func(c *Config) { c.FlipP = 1.5 }, "FlipP"},
		{"gray p", func(c *Config) { c.GrayP = -0.1 }, "GrayP"},
		{"jitter p", func(c *Config) { c.JitterP = math.NaN() }, "JitterP"},
		{"brightness", func(c *Config) { c.Brightness = -1 }, "Brightness"},
		{"hue", func(c *Config) { c.Hue = 0.6 }, "Hue"},
		{"rotation", func(c *Config) { c.Rotation = math.Inf(1) }, "Rotation"},
		{"std", func(c *Config) { c.Normalize = true }, "Std"},
		{"workers", func(c *Config) { c.Workers = -2 }, "Workers"},
	} {
		cfg := DefaultConfig()
		c.edit(&cfg)
		if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: New error = %v, want one naming %s", c.name, err, c.want)
		}
	}

	a := mustNew(t, DefaultConfig())
	ds := randomDataset(4, 8, 8, 1)
	grey := &data.Dataset{Name: "grey", N: 1, Height: 8, Width: 8, Channels: 1, Images: make([]uint8, 64)}
	short := &data.Dataset{Name: "short", N: 2, Height: 8, Width: 8, Channels: 3, Images: make([]uint8, 100)}
	for _, c := range []struct {
		name    string
		ds      *data.Dataset
		indices []int
		want    string
	}{
		{"nil", nil, []int{0}, "nil"},
		{"grey", grey, []int{0}, "channels"},
		{"short", short, []int{0}, "pixel bytes"},
		{"index", ds, []int{0, 4}, "index 4 (position 1"},
		{"negative index", ds, []int{-1}, "index -1"},
	} {
		if _, _, err := a.Views(c.ds, c.indices, 0); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Views error = %v, want one with %q", c.name, err, c.want)
		}
		if _, err := a.Plain(c.ds, c.indices); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Plain error = %v, want one with %q", c.name, err, c.want)
		}
		if _, err := ToFloat(c.ds, c.indices); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: ToFloat error = %v, want one with %q", c.name, err, c.want)
		}
	}
	buf := make([]float32, 8*8*3)
	if err := a.ViewsInto(ds, []int{0, 1}, 0, buf, buf); err == nil || !strings.Contains(err.Error(), "buffers") {
		t.Errorf("ViewsInto with short buffers: error = %v", err)
	}
	if err := a.PlainInto(ds, nil, buf); err == nil || !strings.Contains(err.Error(), "buffer") {
		t.Errorf("PlainInto with a short buffer: error = %v", err)
	}
	// An empty batch is no error.
	if v1, v2, err := a.Views(ds, nil, 0); err != nil || len(v1) != 0 || len(v2) != 0 {
		t.Errorf("empty batch: %d, %d values, error %v", len(v1), len(v2), err)
	}
}

func TestViewsIntoOneBuffer(t *testing.T) {
	// The two halves of one [2B, H, W, 3] buffer, as the loss wants them.
	ds := smoothDataset(6, 8, 8, 3)
	a := mustNew(t, DefaultConfig())
	indices := []int{5, 1, 2}
	n := len(indices) * a.ViewLen(ds)
	buf := make([]float32, 2*n)
	if err := a.ViewsInto(ds, indices, 11, buf[:n], buf[n:]); err != nil {
		t.Fatal(err)
	}
	v1, v2, _ := a.Views(ds, indices, 11)
	if !slices.Equal(buf[:n], v1) || !slices.Equal(buf[n:], v2) {
		t.Errorf("ViewsInto halves differ from Views")
	}
}

func TestCIFARReal(t *testing.T) {
	ds := loadCIFARTest(t)
	if testing.Short() {
		ds = ds.Head(2000)
	}
	// Plain images with the CIFAR normalisation have per-channel mean ~0 and
	// sd ~1 (the constants are the training set's; the test set's differ by
	// less than 0.01 in mean and 0.005 in sd, i.e. 0.04 after scaling).
	a := mustNew(t, DefaultConfig().WithCIFARNormalization())
	plain, err := a.Plain(ds, nil)
	if err != nil {
		t.Fatal(err)
	}
	var sum, sq [3]float64
	for i, v := range plain {
		sum[i%3] += float64(v)
		sq[i%3] += float64(v) * float64(v)
	}
	n := float64(len(plain) / 3)
	for c := range 3 {
		m := sum[c] / n
		sd := math.Sqrt(sq[c]/n - m*m)
		if math.Abs(m) > 0.06 || math.Abs(sd-1) > 0.06 {
			t.Errorf("channel %d of normalised CIFAR: mean %.3f sd %.3f, want about 0 and 1", c, m, sd)
		}
	}
	// Augmented views of real images: finite, and (before normalisation) in
	// [0, 1]; grey views with the right rate.
	b := mustNew(t, DefaultConfig())
	idx := seq(min(ds.N, 2000))
	v1, v2, err := b.Views(ds, idx, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range [][]float32{v1, v2} {
		for i, x := range v {
			if !(x >= 0 && x <= 1) {
				t.Fatalf("value %d = %v outside [0, 1]", i, x)
			}
		}
	}
}

// loadCIFARTest reads cifar-10-batches-bin/test_batch.bin from the test data
// folder: $TSIMCNE_DATA (relative to the current folder or the module root),
// else ../shared/data next to the module root. It skips the test when the
// file is absent. (Read here rather than through package data to keep this
// package's tests independent of that package's loaders.)
func loadCIFARTest(t *testing.T) *data.Dataset {
	t.Helper()
	wd, _ := os.Getwd()
	root := wd
	for root != filepath.Dir(root) {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			break
		}
		root = filepath.Dir(root)
	}
	var dirs []string
	if d := os.Getenv("TSIMCNE_DATA"); d != "" {
		dirs = append(dirs, d, filepath.Join(wd, d), filepath.Join(root, d))
	} else {
		dirs = append(dirs, filepath.Join(root, "..", "shared", "data"))
	}
	for _, d := range dirs {
		path := filepath.Join(d, "cifar-10-batches-bin", "test_batch.bin")
		raw, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		ds, err := parseCIFAR10(raw, path)
		if err != nil {
			t.Fatal(err)
		}
		return ds
	}
	t.Skipf("CIFAR-10 test_batch.bin not found in %v (set TSIMCNE_DATA to the data folder)", dirs)
	return nil
}

// parseCIFAR10 decodes CIFAR-10 binary records (label byte, then 1024 red,
// 1024 green, 1024 blue bytes) into an NHWC Dataset.
func parseCIFAR10(raw []byte, path string) (*data.Dataset, error) {
	const rec = 1 + 3072
	if len(raw)%rec != 0 {
		return nil, fmt.Errorf("%s: %d bytes, not a whole number of %d-byte records", path, len(raw), rec)
	}
	n := len(raw) / rec
	ds := &data.Dataset{Name: "cifar10/test", N: n, Height: 32, Width: 32, Channels: 3, Images: make([]uint8, n*3072), Labels: make([]int, n)}
	for i := range n {
		r := raw[i*rec : (i+1)*rec]
		ds.Labels[i] = int(r[0])
		img := ds.Image(i)
		for p := range 1024 {
			img[3*p], img[3*p+1], img[3*p+2] = r[1+p], r[1+1024+p], r[1+2048+p]
		}
	}
	return ds, nil
}
