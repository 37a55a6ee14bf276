package lab

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/gosimcne/gosimcne/tsimcne"
	"github.com/gosimcne/gosimcne/tsimcne/data"
	"github.com/gosimcne/gosimcne/tsimcne/embedding"
	"github.com/gosimcne/gosimcne/tsimcne/runs"
)

// Run is a trained run as the notebooks show it: a run folder written by
// `tsimcne train` (e.g. the larger runs of scripts/paper-figures.sh) or by
// TrainRun in a notebook, with its metrics and its map.
type Run struct {
	// Dir is the run folder.
	Dir string
	// Metrics is its metrics.json: kNN accuracies, settings, history.
	Metrics runs.Metrics
	// Map is the map of its kNN reference images (embedding_train).
	Map *embedding.Embedding
}

// LoadRun reads the run folder dir (metrics.json and embedding_train.csv).
func LoadRun(dir string) (*Run, error) {
	met, err := runs.ReadMetrics(dir)
	if err != nil {
		return nil, fmt.Errorf("lab: run %s: %w", dir, err)
	}
	if met.KNN == nil {
		return nil, fmt.Errorf("lab: run %s has no kNN evaluation", dir)
	}
	mp, err := embedding.Load(filepath.Join(dir, runs.TrainEmbedding+".csv"))
	if err != nil {
		return nil, fmt.Errorf("lab: run %s: %w", dir, err)
	}
	return &Run{Dir: dir, Metrics: met, Map: mp}, nil
}

// HasRun reports whether dir holds a finished run (its metrics.json).
func HasRun(dir string) bool {
	_, err := runs.ReadMetrics(dir)
	return err == nil
}

// MapAccuracy is the kNN accuracy of the held-out (test) images in the map.
func (r *Run) MapAccuracy() float64 { return r.Metrics.KNN.MapAccuracy }

// FeatureAccuracy is the same in the backbone features (0 if not
// evaluated).
func (r *Run) FeatureAccuracy() float64 { return r.Metrics.KNN.FeatureAccuracy }

// Scale says what the run is, for figure titles and tables: backbone,
// images trained on, epochs per stage, training time (every session of the
// run, a shared pre-training included) and where, e.g. "cnn4, 60 000
// images, 35+2+6 epochs, 33 min on 2 CPU cores".
func (r *Run) Scale() string {
	c, met := r.Metrics.Config, r.Metrics
	secs := met.Timing.TrainSecondsAllSessions
	var wall string
	switch {
	case secs >= 90*60:
		wall = fmt.Sprintf("%.1f h", secs/3600)
	case secs >= 90:
		wall = fmt.Sprintf("%.0f min", secs/60)
	default:
		wall = fmt.Sprintf("%.0f s", secs)
	}
	where := met.Machine.BackendName
	if strings.HasPrefix(met.Machine.Backend, "go") {
		where = fmt.Sprintf("%d CPU cores", met.Machine.NumCPU)
	}
	return fmt.Sprintf("%s, %s images, %d+%d+%d epochs, %s on %s", c.Backbone, thousands(met.Data.NFit),
		c.Epochs[0], c.Epochs[1], c.Epochs[2], wall, where)
}

// thousands writes n with a space between groups of three digits.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + " " + s[i:]
	}
	return s
}

// TrainRun trains cfg on train and writes a run folder in dir as `tsimcne
// train` does (checkpoints, metrics.json with the kNN accuracy of test
// against train in the map and the backbone features, the embeddings), with
// Train's live view; a finished run in dir is only loaded. It stops the
// cell on an error.
func TrainRun(dir string, cfg tsimcne.Config, train, test *data.Dataset) *Run {
	if HasRun(dir) {
		return Must(LoadRun(dir))
	}
	cfg.CheckpointDir = filepath.Join(dir, runs.CheckpointsDir)
	return finishRun(dir, Train(cfg.CheckpointDir, cfg, train), train, test)
}

// BranchRun is TrainRun for a run that starts from the pre-training of
// the run in pretrained (tsimcne.Model.Branch): cfg gives the map's
// stages (map kernel, seed, epochs of stages 2 and 3).
func BranchRun(dir, pretrained string, cfg tsimcne.Config, train, test *data.Dataset) *Run {
	if HasRun(dir) {
		return Must(LoadRun(dir))
	}
	cfg.CheckpointDir = filepath.Join(dir, runs.CheckpointsDir)
	var m *tsimcne.Model
	if has, _ := tsimcne.HasCheckpoint(cfg.CheckpointDir); has {
		m = Train(cfg.CheckpointDir, cfg, train) // resume an interrupted branch
	} else {
		src := Must(tsimcne.Load(pretrained, func(c *tsimcne.Config) { c.Log, c.Progress = cfg.Log, cfg.Progress }))
		w := newWatch(train)
		m = fit(Must(src.Branch(w.attach(cfg))), train, w)
	}
	return finishRun(dir, m, train, test)
}

// finishRun evaluates the trained model m and writes the run folder dir.
func finishRun(dir string, m *tsimcne.Model, train, test *data.Dataset) *Run {
	im := &runs.Images{Fit: train, Train: train, Test: test, Mode: runs.EvalTest}
	t0 := time.Now()
	res := Must(runs.Evaluate(m, im, 15, true))
	info := runs.Info{Preset: "notebook", Data: runs.Data{Dataset: train.Name, Eval: runs.EvalTest},
		K: 15, Features: true, Created: time.Now().UTC().Round(time.Second)}
	_, err := runs.WriteOutputs(dir, info, im, res, m, m.History(), runs.Timing{EvalSeconds: time.Since(t0).Seconds()})
	Check(err)
	return Must(LoadRun(dir))
}
