package runs

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/gosimcne/gosimcne/tsimcne"
	"github.com/gosimcne/gosimcne/tsimcne/embedding"
)

// Result is what a trained model makes of a run's images: the maps of the
// kNN reference and query images and their kNN evaluation.
type Result struct {
	// TrainMap is the map of Images.Train, TestMap that of Images.Test
	// (nil when there is none).
	TrainMap, TestMap *embedding.Embedding
	// KNN is the kNN evaluation of the map (and of the backbone features);
	// nil without test images.
	KNN *tsimcne.Evaluation
	// KNNSuperclass is the map's kNN accuracy on CIFAR-100's 20
	// superclasses (SuperclassAccuracy); nil for other images or a map
	// that is not 2-D.
	KNNSuperclass *float64
}

// Evaluate embeds the images of a run with the trained model m and, when
// there are test images, computes the kNN accuracy with k neighbours, in
// the backbone features too if features.
func Evaluate(m *tsimcne.Model, im *Images, k int, features bool) (*Result, error) {
	r := &Result{}
	var err error
	if im.Test == nil {
		if r.TrainMap, err = m.Transform(im.Train); err != nil {
			return nil, err
		}
		return r, nil
	}
	if r.KNN, r.TrainMap, r.TestMap, err = m.Evaluate(im.Train, im.Test, k, features); err != nil {
		return nil, err
	}
	if r.TrainMap.Dim == 2 {
		if r.KNNSuperclass, err = SuperclassAccuracy(r.TrainMap, r.TestMap, im.Train, im.Test, k); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Map returns the points of TrainMap followed by those of TestMap (when
// there is one): the map of Images.Both.
func (r *Result) Map() (*embedding.Embedding, error) {
	if r.TestMap == nil {
		return r.TrainMap, nil
	}
	return concatMaps(r.TrainMap, r.TestMap)
}

// ReadMap reads the map of the run folder dir as Result.Map returns it:
// the points of embedding_train.csv followed by those of
// embedding_test.csv, when there is one.
func ReadMap(dir string) (*embedding.Embedding, error) {
	train, err := embedding.Load(filepath.Join(dir, TrainEmbedding+".csv"))
	if err != nil {
		return nil, err
	}
	test, err := embedding.Load(filepath.Join(dir, TestEmbedding+".csv"))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return train, nil
	case err != nil:
		return nil, err
	}
	return concatMaps(train, test)
}

// concatMaps returns the points of a followed by those of b.
func concatMaps(a, b *embedding.Embedding) (*embedding.Embedding, error) {
	if a.Dim != b.Dim {
		return nil, fmt.Errorf("maps of dimension %d and %d", a.Dim, b.Dim)
	}
	out := &embedding.Embedding{N: a.N + b.N, Dim: a.Dim, ClassNames: a.ClassNames,
		Points: append(append([]float32(nil), a.Points...), b.Points...)}
	if len(b.ClassNames) > len(out.ClassNames) {
		out.ClassNames = b.ClassNames
	}
	if a.Labels != nil && b.Labels != nil {
		out.Labels = append(append([]int(nil), a.Labels...), b.Labels...)
	}
	return out, out.Validate()
}

// Timing is the wall time of the parts of a training run.
type Timing struct {
	// DataSeconds is loading the images.
	DataSeconds float64 `json:"data_seconds"`
	// TrainSeconds is this session's training; TrainSecondsAllSessions
	// sums the epochs of history.json (every session of the run) and
	// their checkpoints (WriteOutputs fills it in).
	TrainSeconds            float64 `json:"train_seconds"`
	TrainSecondsAllSessions float64 `json:"train_seconds_all_sessions"`
	// EvalSeconds covers embedding the train and test images and the kNN
	// evaluations.
	EvalSeconds float64 `json:"eval_seconds"`
	// PicturesSeconds is drawing the pictures.
	PicturesSeconds float64 `json:"pictures_seconds"`
}

// Metrics is metrics.json: the evaluation of a run with what it ran on.
type Metrics struct {
	// Dataset and Preset are those of the run (Info).
	Dataset string `json:"dataset"`
	Preset  string `json:"preset"`
	// Data describes the images.
	Data DataInfo `json:"data"`
	// KNN is the kNN evaluation of the map (and of the backbone features).
	KNN *tsimcne.Evaluation `json:"knn,omitempty"`
	// KNNSuperclass is the map's kNN accuracy on CIFAR-100's 20
	// superclasses.
	KNNSuperclass *float64 `json:"knn_accuracy_map_superclass,omitempty"`
	// Timing, Machine and Config say how long it took, where and with
	// which settings; History is the per-epoch history of every session.
	Timing  Timing               `json:"timing"`
	Machine Machine              `json:"machine"`
	Config  tsimcne.Config       `json:"config"`
	History []tsimcne.EpochStats `json:"history"`
	// Created is when the metrics were written.
	Created time.Time `json:"created"`
}

// DataInfo describes the images of a run in metrics.json.
type DataInfo struct {
	// Spec is the data selection (Info.Data), Mode the evaluation mode
	// used (Images.Mode).
	Spec Data   `json:"spec"`
	Mode string `json:"eval_mode"`
	// Fit, Train and Test name the images trained on and the kNN
	// reference and query images; NFit, NTrain and NTest count them.
	Fit    string `json:"fit"`
	NFit   int    `json:"n_fit"`
	Train  string `json:"train"`
	NTrain int    `json:"n_train"`
	Test   string `json:"test,omitempty"`
	NTest  int    `json:"n_test,omitempty"`
	// DataDir is the data folder the images were read from.
	DataDir string `json:"data_dir,omitempty"`
}

// Write writes met as metrics.json in the run folder dir.
func (met Metrics) Write(dir string) error {
	return tsimcne.WriteJSON(filepath.Join(dir, MetricsFile), met)
}

// ReadMetrics reads the metrics.json of the run folder dir; a missing file
// gives an error wrapping fs.ErrNotExist.
func ReadMetrics(dir string) (Metrics, error) {
	var met Metrics
	err := tsimcne.ReadJSON(filepath.Join(dir, MetricsFile), &met)
	return met, err
}

// WriteOutputs writes to the run folder dir what the trained model m made of
// the run's images (r, from Evaluate): the maps as embedding_train and
// embedding_test (.npy and .csv), holdout.json in holdout mode, and
// metrics.json. history is the run's per-epoch history (Model.History).
// It returns the metrics written, with t's TrainSecondsAllSessions filled
// in from history.
func WriteOutputs(dir string, info Info, im *Images, r *Result, m *tsimcne.Model, history []tsimcne.EpochStats, t Timing) (Metrics, error) {
	if err := r.writeEmbeddings(dir); err != nil {
		return Metrics{}, err
	}
	if im.Mode == EvalHoldout {
		if err := writeHoldout(dir, info.Data.Seed, im); err != nil {
			return Metrics{}, err
		}
	}
	t.TrainSecondsAllSessions = 0
	for _, st := range history {
		t.TrainSecondsAllSessions += st.Seconds + st.CheckpointSeconds
	}
	met := Metrics{Dataset: info.Data.Dataset, Preset: info.Preset, KNN: r.KNN, KNNSuperclass: r.KNNSuperclass,
		Timing: t, Machine: CurrentMachine(m), Config: m.Config(), History: history,
		Created: time.Now().UTC().Round(time.Second),
		Data: DataInfo{Spec: info.Data, Mode: im.Mode, Fit: im.Fit.Name, NFit: im.Fit.N,
			Train: im.Train.Name, NTrain: im.Train.N}}
	if met.History == nil {
		met.History = []tsimcne.EpochStats{}
	}
	met.Data.DataDir, _ = info.Data.Dir()
	if im.Test != nil {
		met.Data.Test, met.Data.NTest = im.Test.Name, im.Test.N
	}
	return met, met.Write(dir)
}

// writeEmbeddings writes TrainMap and TestMap (where there is one) as .npy
// and .csv files.
func (r *Result) writeEmbeddings(dir string) error {
	for _, p := range []struct {
		name string
		emb  *embedding.Embedding
	}{{TrainEmbedding, r.TrainMap}, {TestEmbedding, r.TestMap}} {
		if p.emb == nil {
			continue
		}
		for _, ext := range []string{".npy", ".csv"} {
			if err := p.emb.Save(filepath.Join(dir, p.name+ext)); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeHoldout writes holdout.json: the indices of the kNN reference and
// held-out images in the training images.
func writeHoldout(dir string, seed uint64, im *Images) error {
	h := struct {
		Seed         uint64 `json:"seed"`
		Note         string `json:"note"`
		TrainIndices []int  `json:"train_indices"`
		TestIndices  []int  `json:"test_indices"`
	}{seed, "indices into the training images (" + im.Fit.Name + ") of the rows of " + TrainEmbedding + " and " + TestEmbedding,
		im.TrainIdx, im.TestIdx}
	// Compact: 60 000 indices on one line each would be 700 KB.
	path := filepath.Join(dir, HoldoutFile)
	b, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
