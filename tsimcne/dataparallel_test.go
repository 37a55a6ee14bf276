package tsimcne

import (
	"math"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/gosimcne/gosimcne/tsimcne/augment"
	"github.com/gosimcne/gosimcne/tsimcne/backend"
)

func TestDevicesConfig(t *testing.T) {
	c := tinyConfig()
	c.BatchSize = 32
	for _, tc := range []struct {
		devices int
		err     string
	}{{0, ""}, {1, ""}, {4, ""}, {-1, "devices must be >= 0"}, {3, "does not split over 3 devices"}} {
		c.Devices = tc.devices
		err := c.Validate()
		if (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("Devices %d: error %v, want %q", tc.devices, err, tc.err)
		}
	}
}

// TestDevicesNeedShardingBackend: on a backend without sharded execution
// (the pure-Go one), asking for devices fails at New with a message that
// says what to use instead.
func TestDevicesNeedShardingBackend(t *testing.T) {
	b, err := backend.Default()
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(b.Name(), "xla") {
		t.Skip("the backend is XLA, which shards")
	}
	c := tinyConfig()
	c.Devices = 1
	_, err = New(c)
	if err == nil || !strings.Contains(err.Error(), "no sharded execution") || !strings.Contains(err.Error(), "xla") {
		t.Fatalf("New with Devices=1 on %s: %v, want an error naming XLA", b.Name(), err)
	}
}

// TestShardedStreamSplitsBatches checks the data side of data-parallel
// training, which needs no backend: each device gets a contiguous block of
// the batch's views, the blocks together are the plain stream's batch, and
// an epoch's last batch is kept only when its views split evenly.
func TestShardedStreamSplitsBatches(t *testing.T) {
	ds := syntheticImages(20, 2)
	cfg := tinyConfig().withDefaults()
	cfg.BatchSize = 8
	cfg.Prefetch = PrefetchOff
	aug, err := augment.New(cfg.Augment)
	if err != nil {
		t.Fatal(err)
	}
	plain := newViewStream(ds, aug, cfg, 1, Position{Stage: 1})
	if plain.batchesPerEpoch != 3 {
		t.Fatalf("plain stream: %d batches per epoch, want 3 (8, 8, 4)", plain.batchesPerEpoch)
	}
	for _, tc := range []struct{ devices, batches int }{{1, 3}, {2, 3}, {8, 3}} {
		// 20 images in batches of 8: the last batch of 4 images has 8 views.
		cfg.Devices = tc.devices
		m := &Model{}
		mesh, err := m.deviceMesh(tc.devices)
		if err != nil {
			t.Fatal(err)
		}
		if again, err := m.deviceMesh(tc.devices); err != nil || again != mesh {
			t.Fatalf("the model's second mesh is another one (%v): stages must share it", err)
		}
		s, err := newShardedStream(newViewStream(ds, aug, cfg, 1, Position{Stage: 1}), mesh)
		if err != nil {
			t.Fatal(err)
		}
		if s.batchesPerEpoch != tc.batches {
			t.Errorf("%d devices: %d batches per epoch, want %d", tc.devices, s.batchesPerEpoch, tc.batches)
		}
		ref := newViewStream(ds, aug, cfg, 1, Position{Stage: 1})
		for b := range 3 {
			_, in, _, err := ref.Yield()
			if err != nil {
				t.Fatal(err)
			}
			want := tensors.MustCopyFlatData[float32](in[0])
			_, dts, _, err := s.DistributedYield()
			if err != nil {
				t.Fatal(err)
			}
			shards := dts[0].Shards()
			if len(shards) != tc.devices {
				t.Fatalf("%d devices: %d shards", tc.devices, len(shards))
			}
			var got []float32
			for i, sh := range shards {
				if d := sh.Shape().Dimensions; d[0] != in[0].Shape().Dimensions[0]/tc.devices {
					t.Fatalf("%d devices, batch %d: shard %d has shape %v of views %v", tc.devices, b, i, d, in[0].Shape())
				}
				got = append(got, tensors.MustCopyFlatData[float32](sh)...)
			}
			if len(got) != len(want) {
				t.Fatalf("%d devices, batch %d: shards hold %d values, the batch %d", tc.devices, b, len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("%d devices, batch %d: value %d of the shards %v, of the batch %v", tc.devices, b, i, got[i], want[i])
				}
			}
			dts[0].FinalizeAll()
		}
	}
	// 21 images: the last batch has 5 images, 10 views, which do not split
	// over 4 devices: it is dropped.
	cfg.Devices = 4
	if s := newViewStream(syntheticImages(21, 2), aug, cfg, 1, Position{Stage: 1}); s.batchesPerEpoch != 2 {
		t.Errorf("21 images, batch 8, 4 devices: %d batches per epoch, want 2", s.batchesPerEpoch)
	}
}

// TestDataParallelStepMatchesPlain trains all three stages on the sharded
// path, then one step of the same global batch from the same weights on
// the plain path and sharded over the backend's devices (a one-device mesh
// where it has one), and checks that the loss and the updated weights
// agree (at learning rate 1, with the momentum buffer empty, the update is
// the gradient plus weight decay).
// It needs a backend with sharded execution (XLA); the pure-Go backend has
// none, so it is skipped there.
func TestDataParallelStepMatchesPlain(t *testing.T) {
	b, err := backend.Default()
	if err != nil {
		t.Fatal(err)
	}
	if err := checkDevices(b, 1); err != nil {
		t.Skipf("no sharded execution on this backend (%v); run with GOMLX_BACKEND=xla:cpu or xla:cuda and -tags xla", err)
	}
	n := b.NumDevices()
	for 32%n != 0 {
		n--
	}
	ds := syntheticImages(32, 2)
	run := func(devices int) (float64, map[[2]string][]float32) {
		c := tinyConfig()
		c.BatchSize = 32
		c.Epochs, c.WarmupEpochs = [3]int{1, 0, 0}, [3]int{}
		c.LearningRate = 1 / c.StageLRFactors[0]
		c.Devices = devices
		m, err := New(c)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Fit(ds); err != nil {
			t.Fatalf("%d devices: %v", devices, err)
		}
		return m.History()[0].Loss, weights(t, m)
	}
	// All three stages on the sharded path (each stage compiles its step
	// on the model's one mesh), then the map from the single-device
	// embedding.
	c := tinyConfig()
	c.BatchSize, c.Epochs, c.Devices = 32, [3]int{1, 1, 1}, n
	m, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Fit(ds); err != nil {
		t.Fatalf("three stages over %d devices: %v", n, err)
	}
	if _, err := m.Transform(ds); err != nil {
		t.Fatalf("the map after sharded training: %v", err)
	}

	loss0, w0 := run(0)
	for _, devices := range []int{1, n} {
		loss, w := run(devices)
		if math.Abs(loss-loss0) > 1e-5*math.Abs(loss0) {
			t.Errorf("%d devices: loss %.7g, plain %.7g", devices, loss, loss0)
		}
		for name, want := range w0 {
			got := w[name]
			if len(got) != len(want) {
				t.Fatalf("%d devices: variable %v has %d values, plain %d", devices, name, len(got), len(want))
			}
			for j := range want {
				if d := math.Abs(float64(got[j] - want[j])); d > 1e-4*(1+math.Abs(float64(want[j]))) {
					t.Fatalf("%d devices: %v[%d] = %v after the step, plain %v", devices, name, j, got[j], want[j])
				}
			}
		}
	}
}
