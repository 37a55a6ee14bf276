package main

import (
	"context"
	"encoding/json"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gosimcne/gosimcne/internal/fakedata"
	"github.com/gosimcne/gosimcne/tsimcne"
	"github.com/gosimcne/gosimcne/tsimcne/embedding"
	"github.com/gosimcne/gosimcne/tsimcne/runs"
)

// trainOutputs are the files a finished labelled run writes.
var trainOutputs = []string{
	"config.json", "run.json", "history.json", "metrics.json",
	"embedding_train.npy", "embedding_train.csv", "embedding_test.npy", "embedding_test.csv",
	"history.png", "map.png", "map.svg", "thumbnails.png", "outliers.png", "outliers_map.png", "map.html",
}

// tinyTrainArgs makes training take seconds: 16x16 images, batch 16, one
// epoch per stage.
func tinyTrainArgs(dataDir, out string) []string {
	return []string{"train", "--quick", "-dataset", "folder:" + dataDir, "-out", out,
		"-image-size", "16", "-batch", "16", "-epochs", "1,1,1", "-k", "5", "-progress", "lines"}
}

// splitImages writes a labelled image folder with train/ and test/ splits
// (3 classes of 16x16 images, 16 and 8 per class) into root/shapes and
// returns it, for tinyTrainArgs.
func splitImages(t *testing.T, root string) string {
	t.Helper()
	images := filepath.Join(root, "shapes")
	fakedata.WriteImageFolder(t, filepath.Join(images, "train"), 3, 16, 16, 1)
	fakedata.WriteImageFolder(t, filepath.Join(images, "test"), 3, 8, 16, 2)
	return images
}

// TestTrainLifecycle trains once through everything a user meets: an
// interrupt (exit 130 with a checkpoint), the refusal to overwrite it, the
// resume that finishes training and writes every output, a resume of the
// finished run that only redoes the outputs, and then eval, plot and embed
// on the run folder.
func TestTrainLifecycle(t *testing.T) {
	root := t.TempDir()
	images := splitImages(t, root)
	out := filepath.Join(root, "run")
	args := tinyTrainArgs(images, out)

	// 1. Interrupted (the context is what SIGINT cancels): exit 130, a
	// checkpoint, and a message saying how to resume.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := runCmdContext(t, ctx, args...)
	r.wantCode(t, exitInterrupted)
	if !strings.Contains(r.stderr, "-resume") || !strings.Contains(r.stderr, "tsimcne train -out "+out+" -resume") {
		t.Errorf("interrupt message does not say how to resume:\n%s", r.stderr)
	}
	if ok, _ := tsimcne.HasCheckpoint(filepath.Join(out, "checkpoints")); !ok {
		t.Fatal("no checkpoint after the interrupt")
	}
	if _, err := os.Stat(filepath.Join(out, "metrics.json")); err == nil {
		t.Error("metrics.json written for an interrupted run")
	}

	// 2. Without -resume an existing checkpoint is an error.
	r = runCmd(t, args...)
	r.wantCode(t, exitError)
	if !strings.Contains(r.stderr, "-resume") || !strings.Contains(r.stderr, "another -out") {
		t.Errorf("error does not suggest -resume or another -out:\n%s", r.stderr)
	}

	// 3. -resume alone (the settings come from the run folder) finishes.
	r = runCmd(t, "train", "-out", out, "-resume", "-progress", "lines")
	r.wantCode(t, exitOK)
	if !strings.Contains(r.stdout, "Resuming at stage 1, epoch 0, batch 1") {
		t.Errorf("resume did not continue after the interrupted step:\n%s", r.stdout)
	}
	mustExist(t, out, trainOutputs...)
	met := readMetrics(t, out)
	if met.KNN == nil || met.KNN.K != 5 || met.KNN.NTrain != 48 || met.KNN.NTest != 24 || met.KNN.MapDim != 2 {
		t.Fatalf("metrics knn = %+v, want k=5, 48 -> 24, 2-D", met.KNN)
	}
	if a := met.KNN.MapAccuracy; !(a >= 0 && a <= 1) || met.KNN.FeatureDim == 0 {
		t.Errorf("map accuracy %v, feature dim %d", a, met.KNN.FeatureDim)
	}
	// One entry per epoch: 3 stages x 1 epoch; the interrupted epoch was
	// finished by the resumed session.
	if len(met.History) != 3 {
		t.Errorf("history has %d epochs, want 3: %+v", len(met.History), met.History)
	}
	if met.Machine.NumCPU < 1 || met.Machine.GOOS == "" || met.Machine.Backend == "" || met.Config.BatchSize != 16 {
		t.Errorf("machine or config missing from metrics: %+v / batch %d", met.Machine, met.Config.BatchSize)
	}
	if met.Timing.TrainSeconds <= 0 || met.Timing.EvalSeconds <= 0 || met.Timing.PicturesSeconds <= 0 {
		t.Errorf("timings missing: %+v", met.Timing)
	}
	checkEmbeddingFile(t, filepath.Join(out, "embedding_train.csv"), 48, true)
	checkEmbeddingFile(t, filepath.Join(out, "embedding_test.npy"), 24, false)
	checkPictures(t, out)

	// 4. -resume on the finished run trains nothing and redoes the outputs.
	for _, n := range trainOutputs[3:] {
		if err := os.Remove(filepath.Join(out, n)); err != nil {
			t.Fatal(err)
		}
	}
	r = runCmd(t, "train", "-out", out, "-resume")
	r.wantCode(t, exitOK)
	if !strings.Contains(r.stdout, "Training is complete") || strings.Contains(r.stdout, "Stage 1/3") {
		t.Errorf("resume of a finished run trained again:\n%s", r.stdout)
	}
	mustExist(t, out, trainOutputs...)
	met2 := readMetrics(t, out)
	if len(met2.History) != 3 || met2.KNN.MapAccuracy != met.KNN.MapAccuracy {
		t.Errorf("no-op resume changed the run: history %d epochs, accuracy %v vs %v",
			len(met2.History), met2.KNN.MapAccuracy, met.KNN.MapAccuracy)
	}

	// 5. Resuming with other data is refused.
	r = runCmd(t, "train", "-out", out, "-resume", "-train-limit", "30")
	r.wantCode(t, exitError)
	if !strings.Contains(r.stderr, "train-limit") {
		t.Errorf("error does not name the differing flag:\n%s", r.stderr)
	}

	// 6. eval -run recomputes the same accuracy from the files.
	r = runCmd(t, "eval", "-run", out, "-k", "5")
	r.wantCode(t, exitOK)
	var ev evalReport
	readJSON(t, filepath.Join(out, "eval_k5.json"), &ev)
	if ev.MapAccuracy != met.KNN.MapAccuracy || ev.NTrain != 48 || ev.NTest != 24 {
		t.Errorf("eval -run: accuracy %v (%d -> %d), train reported %v", ev.MapAccuracy, ev.NTrain, ev.NTest, met.KNN.MapAccuracy)
	}

	// 7. plot -run redraws the pictures elsewhere, with thumbnails.
	pics := filepath.Join(root, "pictures")
	r = runCmd(t, "plot", "-run", out, "-out", pics)
	r.wantCode(t, exitOK)
	checkPictures(t, pics)

	// 8. embed -run gives the same map of the test images as train.
	emb := filepath.Join(root, "test.npy")
	r = runCmd(t, "embed", "-run", out, "-split", "test", "-out", emb, "-features")
	r.wantCode(t, exitOK)
	got, err := embedding.Load(emb)
	if err != nil {
		t.Fatal(err)
	}
	want, err := embedding.Load(filepath.Join(out, "embedding_test.npy"))
	if err != nil {
		t.Fatal(err)
	}
	if got.N != want.N || got.Dim != 2 {
		t.Fatalf("embed: [%d,%d], want [%d,2]", got.N, got.Dim, want.N)
	}
	for i := range got.Points {
		if math.Abs(float64(got.Points[i]-want.Points[i])) > 1e-4 {
			t.Fatalf("embed: coordinate %d is %v, train wrote %v", i, got.Points[i], want.Points[i])
		}
	}
	feats, err := embedding.Load(filepath.Join(root, "test_features.npy"))
	if err != nil {
		t.Fatal(err)
	}
	if feats.N != 24 || feats.Dim != met.KNN.FeatureDim {
		t.Errorf("features [%d,%d], want [24,%d]", feats.N, feats.Dim, met.KNN.FeatureDim)
	}
}

// TestTrainUnlabelled trains on a folder without class sub-folders: no kNN
// evaluation, one embedding file, pictures without labels.
func TestTrainUnlabelled(t *testing.T) {
	root := t.TempDir()
	images := filepath.Join(root, "photos")
	fakedata.WriteImageFolder(t, images, 0, 32, 16, 3)
	out := filepath.Join(root, "run")
	args := append(tinyTrainArgs(images, out), "-epochs", "0,0,1")
	r := runCmd(t, args...)
	r.wantCode(t, exitOK)
	mustExist(t, out, "metrics.json", "embedding_train.npy", "embedding_train.csv", "map.png", "map.svg",
		"thumbnails.png", "outliers.png", "outliers_map.png", "map.html")
	if _, err := os.Stat(filepath.Join(out, "embedding_test.npy")); err == nil {
		t.Error("embedding_test.npy written for unlabelled images")
	}
	met := readMetrics(t, out)
	if met.KNN != nil || met.Data.Mode != runs.EvalNone {
		t.Errorf("unlabelled run evaluated: mode %q, knn %+v", met.Data.Mode, met.KNN)
	}
	checkEmbeddingFile(t, filepath.Join(out, "embedding_train.csv"), 32, false)
}

func TestTrainErrors(t *testing.T) {
	root := t.TempDir()
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no data", []string{"train", "-data", root, "-out", filepath.Join(root, "r1")}, exitError, "tsimcne download"},
		{"resume nothing", []string{"train", "-data", root, "-out", filepath.Join(root, "r2"), "-resume"}, exitError, "no checkpoint"},
		{"missing folder", []string{"train", "-dataset", "folder:" + filepath.Join(root, "nope"), "-out", filepath.Join(root, "r3")}, exitError, "does not exist"},
		{"bad backbone", []string{"train", "-backbone", "resnet7"}, exitUsage, "resnet18"},
		{"bad kernel", []string{"train", "-kernel", "pareto"}, exitUsage, "-kernel"},
		{"quick contradicts", []string{"train", "-quick", "-preset", "paper"}, exitUsage, "-quick"},
		{"bad dataset", []string{"train", "-dataset", "imagenet"}, exitUsage, "unknown data set"},
		{"negative devices", []string{"train", "-devices", "-1"}, exitUsage, "-devices"},
		// The pure-Go backend of the tests has one device and no sharding.
		{"devices without XLA", []string{"train", "-devices", "2", "-out", filepath.Join(root, "r4")}, exitError, "no sharded execution"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runCmd(t, c.args...)
			r.wantCode(t, c.code)
			if !strings.Contains(r.stderr, c.want) {
				t.Errorf("stderr lacks %q:\n%s", c.want, r.stderr)
			}
			if strings.Contains(r.stderr, "goroutine ") || strings.Contains(r.stderr, "panic") {
				t.Errorf("stack trace for a user error:\n%s", r.stderr)
			}
		})
	}
}

func readMetrics(t *testing.T, dir string) runs.Metrics {
	t.Helper()
	var m runs.Metrics
	readJSON(t, filepath.Join(dir, "metrics.json"), &m)
	return m
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// checkEmbeddingFile checks an embedding file's size and labels.
func checkEmbeddingFile(t *testing.T, path string, n int, labelled bool) {
	t.Helper()
	e, err := embedding.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if e.N != n || e.Dim != 2 {
		t.Errorf("%s: [%d,%d], want [%d,2]", path, e.N, e.Dim, n)
	}
	if labelled && (e.Labels == nil || len(e.ClassNames) != 3 || e.ClassNames[0] != "classa") {
		t.Errorf("%s: labels %v, class names %v", path, e.Labels != nil, e.ClassNames)
	}
}

// checkPictures checks that the pictures in dir are what they claim.
func checkPictures(t *testing.T, dir string) {
	t.Helper()
	for _, n := range []string{"history.png", "map.png", "thumbnails.png", "outliers.png", "outliers_map.png"} {
		f, err := os.Open(filepath.Join(dir, n))
		if err != nil {
			t.Error(err)
			continue
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Errorf("%s: %v", n, err)
		} else if b := img.Bounds(); b.Dx() < 200 || b.Dy() < 100 {
			t.Errorf("%s is only %dx%d", n, b.Dx(), b.Dy())
		}
	}
	svg, _ := os.ReadFile(filepath.Join(dir, "map.svg"))
	if !strings.Contains(string(svg), "<svg") || !strings.Contains(string(svg), "<circle") {
		t.Errorf("map.svg is not an SVG with points")
	}
	html, _ := os.ReadFile(filepath.Join(dir, "map.html"))
	if !strings.Contains(strings.ToLower(string(html)), "<html") || !strings.Contains(string(html), "classa") {
		t.Errorf("map.html is not a page with the class names")
	}
}

// TestApplyConfigScalesRate checks that -batch scales a preset's explicit
// learning rate linearly (the paper's 0.03·B/256 rule) unless -lr is given,
// and leaves the paper's implicit rule alone.
func TestApplyConfigScalesRate(t *testing.T) {
	o := &trainOptions{batch: 128, lr: 0.5}
	cpu := tsimcne.CPUConfig()
	o.applyConfig(&cpu, map[string]bool{"batch": true})
	if want := tsimcne.CPUConfig().LearningRate / 2; cpu.BatchSize != 128 || math.Abs(cpu.LearningRate-want) > 1e-12 {
		t.Errorf("cpu preset with -batch 128: batch %d, lr %g; want 128, %g", cpu.BatchSize, cpu.LearningRate, want)
	}
	cpu = tsimcne.CPUConfig()
	o.applyConfig(&cpu, map[string]bool{"batch": true, "lr": true})
	if cpu.LearningRate != 0.5 {
		t.Errorf("-batch 128 -lr 0.5: lr %g, want 0.5", cpu.LearningRate)
	}
	paper := tsimcne.PaperConfig()
	o.applyConfig(&paper, map[string]bool{"batch": true})
	if paper.LearningRate != 0 || math.Abs(paper.BaseLearningRate()-0.03*128/256) > 1e-12 {
		t.Errorf("paper preset with -batch 128: lr %g (base %g), want 0 (0.03·128/256)", paper.LearningRate, paper.BaseLearningRate())
	}
}

// TestTrainStage1HistoryOnly trains stage 1 alone: the map is high-dimensional
// (32-D in the quick preset, 128-D in the paper), so the
// map pictures are skipped with a note, but the training curves are drawn.
func TestTrainStage1HistoryOnly(t *testing.T) {
	root := t.TempDir()
	images := splitImages(t, root)
	out := filepath.Join(root, "run")
	r := runCmd(t, append(tinyTrainArgs(images, out), "-epochs", "2,0,0")...)
	r.wantCode(t, exitOK)
	if !strings.Contains(r.stdout, "No map pictures: the map is 32-D") {
		t.Errorf("no note on the skipped map pictures:\n%s", r.stdout)
	}
	mustExist(t, out, "history.png")
	if _, err := os.Stat(filepath.Join(out, "map.png")); err == nil {
		t.Error("map.png drawn for a 32-D map")
	}
}

// TestTrainAnnealedAndExport trains the annealed schedule (one stage, a
// 2-D map at the end, so all pictures are drawn), exports the run to a
// model file and embeds images with that file.
func TestTrainAnnealedAndExport(t *testing.T) {
	root := t.TempDir()
	images := splitImages(t, root)
	out := filepath.Join(root, "run")
	r := runCmd(t, append(tinyTrainArgs(images, out), "-schedule", "annealed", "-epochs", "3,0,0",
		"-map-kernel", "t:0.7", "-exaggeration", "2", "-learn-dof")...)
	r.wantCode(t, exitOK)
	for _, want := range []string{"Annealed schedule: output width 32 -> 2 over 3 epochs", ", 2-D, lr"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
	mustExist(t, out, "map.png", "metrics.json")
	cfg, err := tsimcne.LoadConfig(filepath.Join(out, "checkpoints", tsimcne.ConfigFileName))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Schedule != tsimcne.ScheduleAnnealed || cfg.MapKernel != "t:0.7" || cfg.Exaggeration != 2 || !cfg.LearnDoF {
		t.Errorf("saved config %+v does not hold the flags", cfg)
	}

	model := filepath.Join(root, "m.gsm")
	r = runCmd(t, "export", "-run", out, "-out", model)
	r.wantCode(t, exitOK)
	if !strings.Contains(r.stdout, "weights in float16") {
		t.Errorf("export output:\n%s", r.stdout)
	}
	csv := filepath.Join(root, "test.csv")
	r = runCmd(t, "embed", "-run", model, "-out", csv)
	r.wantCode(t, exitUsage)
	if !strings.Contains(r.stderr, "-dataset") {
		t.Errorf("embed with a model file and no -dataset:\n%s", r.stderr)
	}
	r = runCmd(t, "embed", "-run", model, "-dataset", "folder:"+images, "-split", "test", "-image-size", "16", "-out", csv)
	r.wantCode(t, exitOK)
	b, err := os.ReadFile(csv)
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(string(b), "\n"); lines != 1+3*8 {
		t.Errorf("embedding file has %d lines, want a header and 24 points", lines)
	}

	// Flag checks happen before anything is written.
	r = runCmd(t, "train", "-exaggeration", "NaN", "-out", filepath.Join(root, "nan"))
	r.wantCode(t, exitUsage)
	if _, err := os.Stat(filepath.Join(root, "nan")); err == nil {
		t.Error("a run folder was made for a rejected flag")
	}
	r = runCmd(t, "train", "-schedule", "anneal")
	r.wantCode(t, exitUsage)
}

// TestScheduleFlagEpochs: -schedule annealed without -epochs trains the
// preset's two full-network stages as one.
func TestScheduleFlagEpochs(t *testing.T) {
	o := &trainOptions{schedule: newChoice(tsimcne.ScheduleStages, tsimcne.ScheduleNames()...)}
	_ = o.schedule.Set("annealed")
	c := tsimcne.CPUConfig()
	o.applyConfig(&c, map[string]bool{"schedule": true})
	want := tsimcne.CPUConfig()
	if c.Epochs != [3]int{want.Epochs[0] + want.Epochs[2], 0, 0} || c.WarmupEpochs != [3]int{want.WarmupEpochs[0], 0, 0} {
		t.Errorf("annealed cpu preset: epochs %v warm-up %v", c.Epochs, c.WarmupEpochs)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
}

// TestMomentumDecayFlags: -momentum 0 and -weight-decay 0 turn them off
// (negative in Config, where 0 means the default).
func TestMomentumDecayFlags(t *testing.T) {
	o := &trainOptions{}
	c := tsimcne.CPUConfig()
	o.applyConfig(&c, map[string]bool{"momentum": true, "weight-decay": true})
	if c.Momentum >= 0 || c.WeightDecay >= 0 {
		t.Errorf("-momentum 0 -weight-decay 0: config %v / %v, want negative (off)", c.Momentum, c.WeightDecay)
	}
	o = &trainOptions{momentum: 0.5, decay: 1e-3}
	c = tsimcne.CPUConfig()
	o.applyConfig(&c, map[string]bool{"momentum": true, "weight-decay": true})
	if c.Momentum != 0.5 || c.WeightDecay != 1e-3 {
		t.Errorf("config %v / %v, want 0.5 / 0.001", c.Momentum, c.WeightDecay)
	}
}

// TestTrainPretrained branches the map's stages from a stage-1 run: the
// branch trains with its own map kernel and seed on the pre-training's data
// and records where it started; branches that would change the
// pre-training, or its data, are refused before anything is written.
func TestTrainPretrained(t *testing.T) {
	root := t.TempDir()
	images := splitImages(t, root)
	pre := filepath.Join(root, "pre")
	runCmd(t, append(tinyTrainArgs(images, pre), "-epochs", "2,0,0", "-pictures=false")...).wantCode(t, exitOK)

	branch := filepath.Join(root, "gauss")
	r := runCmd(t, "train", "-pretrained", pre, "-epochs", "2,1,1", "-map-kernel", "gaussian", "-seed", "3",
		"-out", branch, "-pictures=false", "-progress", "lines")
	r.wantCode(t, exitOK)
	if !strings.Contains(r.stdout, "Starting from the pre-training of "+pre) || !strings.Contains(r.stdout, "kernel cauchy, in 2-D gaussian, seed 3") {
		t.Errorf("branch start not announced:\n%s", r.stdout)
	}
	mustExist(t, branch, "metrics.json", "embedding_test.csv")
	info, err := runs.ReadInfo(branch)
	if err != nil {
		t.Fatal(err)
	}
	if abs, _ := filepath.Abs(pre); info.Pretrained != abs || info.Data.Dataset != "folder:"+images || info.Data.Seed != 1 {
		t.Errorf("branch run.json: pretrained %q, data %+v", info.Pretrained, info.Data)
	}
	met, err := runs.ReadMetrics(branch)
	if err != nil {
		t.Fatal(err)
	}
	if len(met.History) != 4 || met.Config.MapKernel != "gaussian" || met.Config.Seed != 3 || met.Config.Epochs != [3]int{2, 1, 1} {
		t.Errorf("branch metrics: %d epochs, config %+v", len(met.History), met.Config)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-kernel", "gaussian"}, `kernel: "cauchy" (pre-training) vs "gaussian" (now)`},
		{[]string{"-epochs", "3,1,1"}, "epochs"},
		{[]string{"-train-limit", "20"}, "-pretrained: the run was trained on other data"},
		{[]string{"-resume"}, "give one of them"},
	} {
		out := filepath.Join(root, "refused")
		r := runCmd(t, append([]string{"train", "-pretrained", pre, "-out", out}, c.args...)...)
		if r.code == exitOK || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want an error with %q", c.args, r.code, r.stderr, c.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%v: the refused branch wrote %s", c.args, out)
		}
	}
}
