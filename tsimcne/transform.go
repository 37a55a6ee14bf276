package tsimcne

import (
	"fmt"

	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/gosimcne/gosimcne/tsimcne/augment"
	"github.com/gosimcne/gosimcne/tsimcne/data"
	"github.com/gosimcne/gosimcne/tsimcne/embedding"
	"github.com/gosimcne/gosimcne/tsimcne/model"
)

// Transform embeds every image of ds with the trained network, without
// augmentation: the result is the map, [N, OutDim] (or [N, PretrainDim] when
// only stage 1 has been trained; see HeadDim), with ds's labels and class
// names attached.
//
// Unlike the Python reference, Transform works on a model that has not been
// trained yet (its weights are then random), which is handy to show a map
// before training.
func (m *Model) Transform(ds *data.Dataset) (*embedding.Embedding, error) {
	out, _, err := m.embed(ds, false)
	return out, err
}

// TransformWithFeatures is Transform that also returns the backbone
// features, [N, FeatureDim] (512 for ResNet-18), the representation the
// paper also evaluates.
func (m *Model) TransformWithFeatures(ds *data.Dataset) (out, features *embedding.Embedding, err error) {
	return m.embed(ds, true)
}

// FitTransform trains the model on ds (Fit) and returns ds's map
// (Transform).
func (m *Model) FitTransform(ds *data.Dataset) (*embedding.Embedding, error) {
	if err := m.Fit(ds); err != nil {
		return nil, err
	}
	return m.Transform(ds)
}

// embedExecutor returns the (cached) inference graph executor for the
// current head.
func (m *Model) embedExecutor() (*context.Exec, error) {
	dim := m.HeadDim()
	if e, ok := m.embedExec[dim]; ok {
		return e, nil
	}
	stage := 3
	annealed := m.cfg.Annealed()
	if annealed || dim != m.cfg.OutDim {
		stage = 1
	}
	mcfg := m.cfg.modelConfig(stage, m.inputSize)
	mcfg.FreezeBackbone = false
	e, err := context.NewExec(m.backend, m.ctx.Reuse(), func(ctx *context.Context, images *graph.Node) (out, features *graph.Node) {
		ctx.SetTraining(images.Graph(), false)
		out, features = model.Build(ctx, mcfg, images)
		if annealed && dim < mcfg.OutDim {
			// The annealed schedule's map: the first dim outputs.
			out = graph.Slice(out, graph.AxisRange(), graph.AxisRange(0, dim))
		}
		return out, features
	})
	if err != nil {
		return nil, fmt.Errorf("building the embedding graph: %w", err)
	}
	m.embedExec[dim] = e
	return e, nil
}

// embed runs the inference graph over ds in batches of embedBatchSize; the
// last batch is padded to the full size, so one compiled graph serves all
// batches (inference batch norm treats images independently).
func (m *Model) embed(ds *data.Dataset, withFeatures bool) (out, features *embedding.Embedding, err error) {
	if err := m.checkImages(ds, "Transform"); err != nil {
		return nil, nil, err
	}
	augCfg := augment.Config{Size: m.cfg.Augment.Size, Normalize: m.cfg.Augment.Normalize,
		Mean: m.cfg.Augment.Mean, Std: m.cfg.Augment.Std}
	plain, err := augment.New(augCfg)
	if err != nil {
		return nil, nil, fmt.Errorf("Transform: %w", err)
	}
	exec, err := m.embedExecutor()
	if err != nil {
		return nil, nil, err
	}
	h, w := plain.OutputShape(ds)
	bs := min(m.cfg.embedBatchSize(h, w), ds.N)
	vl := plain.ViewLen(ds)
	buf := make([]float32, bs*vl)
	idx := make([]int, 0, bs)
	var outPts, featPts []float32
	outDim, featDim := 0, 0
	pages := data.NewPageReleaser(ds, true) // reads in order: bounded memory for a mapped file
	for start := 0; start < ds.N; start += bs {
		n := min(bs, ds.N-start)
		idx = idx[:0]
		for i := 0; i < n; i++ {
			idx = append(idx, start+i)
		}
		clear(buf[n*vl:])
		if err := plain.PlainInto(ds, idx, buf[:n*vl]); err != nil {
			return nil, nil, fmt.Errorf("Transform: %w", err)
		}
		if err := pages.Read(n, start+n-1); err != nil {
			return nil, nil, fmt.Errorf("Transform: %w", err)
		}
		input := tensors.FromFlatDataAndDimensions(buf, bs, h, w, 3)
		res, err := exec.Exec(input)
		input.MustFinalizeAll()
		if err != nil {
			return nil, nil, fmt.Errorf("Transform: running the network: %w", err)
		}
		o := tensors.MustCopyFlatData[float32](res[0])
		outDim = len(o) / bs
		outPts = append(outPts, o[:n*outDim]...)
		if withFeatures {
			f := tensors.MustCopyFlatData[float32](res[1])
			featDim = len(f) / bs
			featPts = append(featPts, f[:n*featDim]...)
		}
		for _, t := range res {
			t.MustFinalizeAll()
		}
	}
	out = &embedding.Embedding{Points: outPts, N: ds.N, Dim: outDim, Labels: ds.Labels, ClassNames: ds.ClassNames}
	if err := out.Validate(); err != nil {
		return nil, nil, fmt.Errorf("Transform: the network gave an invalid map: %w", err)
	}
	if err := out.CheckNotCollapsed(); err != nil {
		return nil, nil, fmt.Errorf("Transform: the map of %s is useless (damaged weights or a diverged run?): %w", ds.Name, err)
	}
	if withFeatures {
		features = &embedding.Embedding{Points: featPts, N: ds.N, Dim: featDim, Labels: ds.Labels, ClassNames: ds.ClassNames}
	}
	return out, features, nil
}
