package tsimcne

import (
	"errors"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// TestOnEpochWatchesWithoutChangingTraining checks Config.OnEpoch: called
// once per epoch in order; a callback that embeds images with the current
// weights (a live view) leaves training exactly as without it; an error
// stops Fit, and the run resumes after the epoch it was called for.
func TestOnEpochWatchesWithoutChangingTraining(t *testing.T) {
	ds := syntheticImages(96, 3)
	plain := resumeConfig(t.TempDir())
	ref, err := New(plain)
	if err != nil {
		t.Fatal(err)
	}
	if err := ref.Fit(ds); err != nil {
		t.Fatal(err)
	}
	want := weights(t, ref)

	cfg := resumeConfig(t.TempDir())
	var seen []Position
	var dims []int
	stop := errors.New("stop here")
	cfg.OnEpoch = func(m *Model, e EpochStats) error {
		seen = append(seen, Position{Stage: e.Stage, Epoch: e.Epoch})
		emb, err := m.Transform(ds.Head(20))
		if err != nil {
			return err
		}
		dims = append(dims, emb.Dim)
		if e.Stage == 2 && len(seen) == 3 {
			return stop
		}
		return nil
	}
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Fit(ds); !errors.Is(err, stop) {
		t.Fatalf("Fit with a failing OnEpoch: got %v, want the callback's error", err)
	}
	m, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if p := m.Position(); p != (Position{Stage: 2, Epoch: 1}) {
		t.Fatalf("resumed at %v, want stage 2 epoch 1 (after the stopped epoch)", p)
	}
	if err := m.Fit(ds); err != nil {
		t.Fatal(err)
	}
	wantSeen := []Position{{1, 0, 0}, {1, 1, 0}, {2, 0, 0}, {3, 0, 0}, {3, 1, 0}}
	if len(seen) != len(wantSeen) {
		t.Fatalf("OnEpoch saw %v, want %v", seen, wantSeen)
	}
	for i := range seen {
		if seen[i] != wantSeen[i] {
			t.Fatalf("OnEpoch saw %v, want %v", seen, wantSeen)
		}
	}
	if dims[0] != cfg.withDefaults().PretrainDim || dims[len(dims)-1] != 2 {
		t.Errorf("embedding widths during training %v, want the pre-training's then 2", dims)
	}
	for name, w := range want {
		v := m.ctx.InspectVariable(name[0], name[1])
		if v == nil {
			t.Fatalf("variable %v missing", name)
		}
		got := tensors.MustCopyFlatData[float32](v.MustValue())
		for j := range w {
			if got[j] != w[j] {
				t.Fatalf("variable %v[%d]: %v with the live view, %v without", name, j, got[j], w[j])
			}
		}
	}
}
