package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gosimcne/gosimcne/internal/datatest"
	"github.com/gosimcne/gosimcne/internal/fakedata"
	"github.com/gosimcne/gosimcne/tsimcne/data"
	"github.com/gosimcne/gosimcne/tsimcne/embedding"
)

func TestHelp(t *testing.T) {
	r := runCmd(t, "help")
	r.wantCode(t, exitOK)
	for _, name := range commandOrder {
		if !strings.Contains(r.stdout, "  "+name+" ") {
			t.Errorf("help does not list %s:\n%s", name, r.stdout)
		}
	}
	for _, name := range commandOrder {
		for _, args := range [][]string{{name, "-h"}, {"help", name}} {
			r := runCmd(t, args...)
			r.wantCode(t, exitOK)
			if !strings.HasPrefix(r.stdout, "usage: tsimcne "+name) {
				t.Errorf("%v: usage does not start with the synopsis:\n%s", args, r.stdout)
			}
			if name != "backends" && (!strings.Contains(r.stdout, "Examples:") || !strings.Contains(r.stdout, "Flags:")) {
				t.Errorf("%v: usage lacks flags or examples:\n%s", args, r.stdout)
			}
			if r.stderr != "" {
				t.Errorf("%v: stderr %q", args, r.stderr)
			}
		}
	}
}

func TestBadCommandLines(t *testing.T) {
	cases := []struct {
		args []string
		want string // in stderr
	}{
		{nil, "Commands:"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"help", "frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"train", "-nope"}, "flag provided but not defined: -nope"},
		{[]string{"train", "-epochs", "1,2"}, "three numbers"},
		{[]string{"train", "-epochs", "0,0,0"}, "all three stages are 0"},
		{[]string{"train", "-preset", "huge"}, "want one of paper, cpu, quick, gpu-short"},
		{[]string{"train", "-batch", "x"}, "invalid value"},
		{[]string{"train", "-lr", "nan"}, "-lr must be a finite number"},
		{[]string{"train", "-lr", "inf"}, "-lr must be a finite number"},
		{[]string{"train", "-lr", "-1"}, "-lr must be a positive number"},
		{[]string{"train", "-stage-lr", "1,1,inf"}, "finite number"},
		{[]string{"train", "-exaggeration", "-1"}, "-exaggeration must be a positive number"},
		{[]string{"train", "-momentum", "1"}, "-momentum must be in [0, 1)"},
		{[]string{"train", "-weight-decay", "nan"}, "-weight-decay must be a finite number"},
		{[]string{"train", "extra"}, `unexpected argument "extra"`},
		{[]string{"train", "-train-limit", "-3"}, "number of images"},
		{[]string{"embed", "-out", "x.npy"}, "-run is required"},
		{[]string{"embed", "-run", "r", "-out", "x.txt"}, ".npy or .csv"},
		{[]string{"embed", "-run", "r", "-split", "val", "-out", "x.npy"}, "want train, test or all"},
		{[]string{"eval"}, "either -run or -embedding"},
		{[]string{"eval", "-run", "r", "-labels", "l.txt"}, "go with -embedding"},
		{[]string{"plot", "-run", "r", "-dataset", "cifar10"}, "-run uses the run's images"},
		{[]string{"baseline", "-k", "0"}, "-k must be at least 1"},
		{[]string{"download", "-dataset", "imagenet"}, "want one of"},
		{[]string{"tsne", "-out", "x.csv"}, "give one of -run, -embedding and -dataset"},
		{[]string{"tsne", "-embedding", "a.csv", "-out", "x.txt"}, ".npy or .csv"},
		{[]string{"tsne", "-embedding", "a.csv", "-out", "x.csv", "-perplexity", "0"}, "-perplexity must be positive"},
	}
	for _, c := range cases {
		r := runCmd(t, c.args...)
		if r.code != exitUsage {
			t.Errorf("%v: exit %d, want %d\nstderr: %s", c.args, r.code, exitUsage, r.stderr)
			continue
		}
		if !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: stderr lacks %q:\n%s", c.args, c.want, r.stderr)
		}
		if !strings.Contains(r.stderr, "usage: tsimcne") && !strings.Contains(r.stderr, "Usage:") {
			t.Errorf("%v: no usage in stderr:\n%s", c.args, r.stderr)
		}
		if r.stdout != "" {
			t.Errorf("%v: stdout %q", c.args, r.stdout)
		}
	}
}

func TestBackends(t *testing.T) {
	r := runCmd(t, "backends")
	r.wantCode(t, exitOK)
	for _, want := range []string{"go", "GOMLX_BACKEND", "-tags xla"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("backends output lacks %q:\n%s", want, r.stdout)
		}
	}
}

// accuracyRE finds the accuracy printed by baseline.
var accuracyRE = regexp.MustCompile(`pixel kNN accuracy \(k=(\d+)\): ([0-9.]+)`)

func printedAccuracy(t *testing.T, stdout string) float64 {
	t.Helper()
	m := accuracyRE.FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("no accuracy in the output:\n%s", stdout)
	}
	a, err := strconv.ParseFloat(m[2], 64)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestBaselineCIFAR10 is the README's pixel baseline on the real data:
// data_batch_1 -> test_batch, k=15, about 0.309. About 10 s.
func TestBaselineCIFAR10(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped under -short: kNN on 10000 x 10000 CIFAR-10 images takes about 10 s")
	}
	dir := datatest.NeedTestData(t, data.CIFAR10Folder, data.CIFAR10TestFile)
	root := filepath.Dir(filepath.Dir(dir))
	jsonPath := filepath.Join(t.TempDir(), "pixels.json")
	r := runCmd(t, "baseline", "-dataset", "cifar10", "-data", root, "-json", jsonPath)
	r.wantCode(t, exitOK)
	a := printedAccuracy(t, r.stdout)
	t.Logf("pixel kNN accuracy %.4f", a)
	if a < 0.28 || a > 0.34 {
		t.Errorf("pixel kNN accuracy %.4f outside [0.28, 0.34]", a)
	}
	if !strings.Contains(r.stdout, "10000 images") || !strings.Contains(r.stdout, "data_batch_1") {
		t.Errorf("baseline did not use data_batch_1 -> test_batch:\n%s", r.stdout)
	}
	var rep struct {
		Accuracy float64 `json:"knn_accuracy_pixels"`
		NTrain   int     `json:"n_train"`
	}
	readJSON(t, jsonPath, &rep)
	if rep.NTrain != 10000 || fmt.Sprintf("%.4f", rep.Accuracy) != fmt.Sprintf("%.4f", a) {
		t.Errorf("JSON %+v disagrees with the printed %.4f", rep, a)
	}
}

// TestCIFARPartialBatches: a data folder with only some CIFAR-10 batches is
// used as it is, and says so.
func TestCIFARPartialBatches(t *testing.T) {
	root := t.TempDir()
	folder := filepath.Join(root, data.CIFAR10Folder)
	fakedata.WriteCIFAR10(t, filepath.Join(folder, "data_batch_1.bin"), 60, 3, 1)
	fakedata.WriteCIFAR10(t, filepath.Join(folder, "data_batch_3.bin"), 30, 3, 2)
	fakedata.WriteCIFAR10(t, filepath.Join(folder, "test_batch.bin"), 30, 3, 3)

	// The cpu preset's choice: data_batch_1 -> test_batch.
	r := runCmd(t, "baseline", "-data", root, "-k", "5")
	r.wantCode(t, exitOK)
	if a := printedAccuracy(t, r.stdout); a != 1 {
		t.Errorf("pixel kNN accuracy on separable classes %.4f, want 1", a)
	}
	if !strings.Contains(r.stdout, "data_batch_1 (60 images)") || strings.Contains(r.stdout, "batches wanted") {
		t.Errorf("baseline did not use data_batch_1 alone without a note on batches:\n%s", r.stdout)
	}
	// Files smaller than the official 10 000 images are used, with a note.
	if !strings.Contains(r.stdout, "data_batch_1.bin holds 60 images, the official file 10000") {
		t.Errorf("no note on the small file:\n%s", r.stdout)
	}
	// All five wanted: the two present are used, with a note.
	r = runCmd(t, "baseline", "-data", root, "-k", "5", "-cifar-batches", "5")
	r.wantCode(t, exitOK)
	if !strings.Contains(r.stdout, "90 images") || !strings.Contains(r.stdout, "data_batch_1.bin, data_batch_3.bin present") {
		t.Errorf("partial batches not used or not reported:\n%s", r.stdout)
	}
	// Hold-out: train and test together, 120/6 = 20 held out.
	r = runCmd(t, "baseline", "-data", root, "-k", "5", "-cifar-batches", "5", "-eval", "holdout")
	r.wantCode(t, exitOK)
	if !strings.Contains(r.stdout, "(100 images) -> ") || !strings.Contains(r.stdout, "(20 images)") {
		t.Errorf("hold-out split not 100 -> 20:\n%s", r.stdout)
	}
}

func TestDownload(t *testing.T) {
	// Offline (nothing listens on port 1): the library's error, exit 1.
	dir := t.TempDir()
	r := runCmd(t, "download", "-data", dir, "-url", "http://127.0.0.1:1/cifar-10-binary.tar.gz")
	r.wantCode(t, exitError)
	if !strings.Contains(r.stderr, "127.0.0.1:1") || !strings.Contains(r.stderr, dir) {
		t.Errorf("offline error does not name the URL and where to put the file:\n%s", r.stderr)
	}
	// Already there: nothing to do.
	folder := filepath.Join(dir, data.CIFAR10Folder)
	if err := os.MkdirAll(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range data.CIFAR10Archive.Files {
		if err := os.WriteFile(filepath.Join(folder, f), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r = runCmd(t, "download", "-data", dir, "-url", "http://127.0.0.1:1/cifar-10-binary.tar.gz")
	r.wantCode(t, exitOK)
	if !strings.Contains(r.stdout, "CIFAR-10 is in "+folder) {
		t.Errorf("unexpected output:\n%s", r.stdout)
	}
}

// TestEvalFiles: eval on embedding files, with labels in the CSV, in a
// separate file, and held out.
func TestEvalFiles(t *testing.T) {
	dir := t.TempDir()
	// Two well separated clusters, labels 0 and 1; point i of the test set
	// is labelled wrong when i%10 == 0 (a tenth).
	mk := func(n int, noisy bool) *embedding.Embedding {
		e := &embedding.Embedding{N: n, Dim: 2, ClassNames: []string{"left", "right"}}
		for i := 0; i < n; i++ {
			c := i % 2
			e.Points = append(e.Points, float32(10*c)+float32(i%7)*0.1, float32(i%5)*0.1)
			l := c
			if noisy && i%10 == 0 {
				l = 1 - c
			}
			e.Labels = append(e.Labels, l)
		}
		return e
	}
	train, test := mk(60, false), mk(40, true)
	trainCSV, testCSV := filepath.Join(dir, "train.csv"), filepath.Join(dir, "test.csv")
	if err := train.Save(trainCSV); err != nil {
		t.Fatal(err)
	}
	if err := test.Save(testCSV); err != nil {
		t.Fatal(err)
	}
	r := runCmd(t, "eval", "-embedding", trainCSV, "-test", testCSV, "-k", "5")
	r.wantCode(t, exitOK)
	if !strings.Contains(r.stdout, ": 0.9000") {
		t.Errorf("accuracy with a tenth of the test labels wrong should be 0.9000:\n%s", r.stdout)
	}
	var rep evalReport
	readJSON(t, filepath.Join(dir, "train_eval_k5.json"), &rep)
	if rep.MapAccuracy != 0.9 || rep.NTest != 40 || len(rep.MapPerClass) != 2 || rep.MapPerClass[0].Class != "left" {
		t.Errorf("JSON report %+v", rep)
	}

	// .npy coordinates with class names in a text file, held out.
	npyPath, labelsPath := filepath.Join(dir, "all.npy"), filepath.Join(dir, "labels.txt")
	if err := train.Save(npyPath); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range train.Labels {
		lines = append(lines, train.ClassNames[l])
	}
	if err := os.WriteFile(labelsPath, []byte("class\n"+strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "held.json")
	r = runCmd(t, "eval", "-embedding", npyPath, "-labels", labelsPath, "-holdout", "12", "-json", out)
	r.wantCode(t, exitOK)
	readJSON(t, out, &rep)
	if rep.Mode != "holdout" || rep.NTest != 12 || rep.NTrain != 48 || rep.MapAccuracy != 1 {
		t.Errorf("hold-out report %+v, want 48 -> 12 at accuracy 1", rep)
	}

	// Wrong number of labels, no labels at all.
	if err := os.WriteFile(labelsPath, []byte("0\n1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = runCmd(t, "eval", "-embedding", npyPath, "-labels", labelsPath)
	r.wantCode(t, exitError)
	if !strings.Contains(r.stderr, "2 labels for the 60 points") {
		t.Errorf("label count error:\n%s", r.stderr)
	}
	r = runCmd(t, "eval", "-embedding", npyPath)
	r.wantCode(t, exitError)
	if !strings.Contains(r.stderr, "has no labels") {
		t.Errorf("missing labels error:\n%s", r.stderr)
	}
}

// TestFolderClassesMatchedByName: train/ with classes a, b, c and test/
// with a and c only. Test images of c must keep c's label (matching by
// position gave them b's, and baseline reported 0.5 instead of 1).
func TestFolderClassesMatchedByName(t *testing.T) {
	root := t.TempDir()
	fakedata.WriteImageFolder(t, filepath.Join(root, "train"), 3, 8, 6, 1)
	fakedata.WriteImageFolder(t, filepath.Join(root, "test"), 3, 4, 6, 2)
	if err := os.RemoveAll(filepath.Join(root, "test", "classb")); err != nil {
		t.Fatal(err)
	}
	js := filepath.Join(t.TempDir(), "baseline.json")
	r := runCmd(t, "baseline", "-dataset", "folder:"+root, "-k", "3", "-json", js)
	r.wantCode(t, 0)
	var rep struct {
		Accuracy float64 `json:"knn_accuracy_pixels"`
		NTest    int     `json:"n_test"`
	}
	b, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.NTest != 8 || rep.Accuracy != 1 {
		t.Fatalf("pixel kNN on folders with different class sets: accuracy %v on %d test images, want 1 on 8\n%s", rep.Accuracy, rep.NTest, r.stdout)
	}
	// A test class unknown to training is an error.
	fakedata.WriteImageFolder(t, filepath.Join(root, "test", "extra"), 1, 1, 6, 3)
	r = runCmd(t, "baseline", "-dataset", "folder:"+root, "-k", "3")
	r.wantCode(t, exitError)
	if !strings.Contains(r.stderr, "extra") {
		t.Errorf("stderr %q does not name the unknown class", r.stderr)
	}
}

// TestSkipBadImagesFlag: unreadable images stop a command with all of them
// named and a hint at -skip-bad-images, which skips and lists them.
func TestSkipBadImagesFlag(t *testing.T) {
	root := t.TempDir()
	fakedata.WriteImageFolder(t, root, 2, 6, 6, 1)
	for _, f := range []string{"classa/bad1.png", "classb/bad2.jpg"} {
		if err := os.WriteFile(filepath.Join(root, filepath.FromSlash(f)), []byte("not an image"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := runCmd(t, "baseline", "-dataset", "folder:"+root, "-k", "3", "-eval", "holdout", "-holdout", "4")
	r.wantCode(t, exitError)
	for _, want := range []string{"bad1.png", "bad2.jpg", "2 of 14", "-skip-bad-images"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	r = runCmd(t, "baseline", "-dataset", "folder:"+root, "-k", "3", "-eval", "holdout", "-holdout", "4", "-skip-bad-images")
	r.wantCode(t, 0)
	if !strings.Contains(r.stderr, "skipped "+filepath.Join(root, "classa", "bad1.png")) || !strings.Contains(r.stderr, "bad2.jpg") {
		t.Errorf("skipped files not listed:\n%s", r.stderr)
	}
}

// TestEveryFloatFlagRejectsNaN: each number flag of every command refuses
// NaN and Inf by name, before anything is written.
func TestEveryFloatFlagRejectsNaN(t *testing.T) {
	n := 0
	for name, c := range commands() {
		fs := newFlagSet(c)
		fs.VisitAll(func(f *flag.Flag) {
			g, ok := f.Value.(flag.Getter)
			if !ok {
				return
			}
			if _, ok := g.Get().(float64); !ok {
				return
			}
			n++
			for _, v := range []string{"nan", "-Inf"} {
				out := filepath.Join(t.TempDir(), "run")
				r := runCmd(t, name, "-"+f.Name, v, "-out", out)
				if r.code != exitUsage || !strings.Contains(r.stderr, "-"+f.Name+" must be a finite number") {
					t.Errorf("%s -%s %s: exit %d, stderr %q", name, f.Name, v, r.code, r.stderr)
				}
				if _, err := os.Stat(out); err == nil {
					t.Errorf("%s -%s %s wrote %s", name, f.Name, v, out)
				}
			}
		})
	}
	if n < 4 {
		t.Fatalf("found %d float flags, want at least train's -lr, -exaggeration, -momentum, -weight-decay", n)
	}
}

// TestMessagesSayWhatIsWrong: errors name the actual fault, not a guess.
func TestMessagesSayWhatIsWrong(t *testing.T) {
	dir := t.TempDir()
	// embed -run on a folder that does not exist.
	missing := filepath.Join(dir, "nope")
	r := runCmd(t, "embed", "-run", missing, "-out", filepath.Join(dir, "x.npy"))
	r.wantCode(t, exitError)
	if !strings.Contains(r.stderr, missing+" does not exist") || strings.Contains(r.stderr, "-dataset") {
		t.Errorf("embed -run missing: %s", r.stderr)
	}
	// eval with 2-D reference and 3-D test points.
	two := &embedding.Embedding{Points: []float32{0, 0, 1, 1, 2, 2}, N: 3, Dim: 2, Labels: []int{0, 1, 1}}
	three := &embedding.Embedding{Points: []float32{0, 0, 0, 1, 1, 1}, N: 2, Dim: 3, Labels: []int{0, 1}}
	p2, p3 := filepath.Join(dir, "two.csv"), filepath.Join(dir, "three.csv")
	if err := two.Save(p2); err != nil {
		t.Fatal(err)
	}
	if err := three.Save(p3); err != nil {
		t.Fatal(err)
	}
	r = runCmd(t, "eval", "-embedding", p2, "-test", p3, "-k", "1")
	r.wantCode(t, exitError)
	if !strings.Contains(r.stderr, "2-D and the test points 3-D") {
		t.Errorf("eval 2-D vs 3-D: %s", r.stderr)
	}
	// The default hold-out of too few points does not blame -holdout.
	r = runCmd(t, "eval", "-embedding", p2)
	r.wantCode(t, exitError)
	if !strings.Contains(r.stderr, "too few points (3)") || !strings.Contains(r.stderr, "pass -holdout N") {
		t.Errorf("eval default hold-out of 3 points: %s", r.stderr)
	}
	r = runCmd(t, "eval", "-embedding", p2, "-holdout", "3")
	r.wantCode(t, exitError)
	if !strings.Contains(r.stderr, "cannot hold out 3 of 3 points: it must be between 1 and 2 (-holdout)") {
		t.Errorf("eval -holdout 3 of 3: %s", r.stderr)
	}
	// A damaged CIFAR-100 file is not fixed by `download` alone.
	c100 := filepath.Join(dir, "data", data.CIFAR100Folder)
	if err := os.MkdirAll(c100, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{data.CIFAR100TrainFile, data.CIFAR100TestFile} {
		if err := os.WriteFile(filepath.Join(c100, f), make([]byte, 3074*3), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r = runCmd(t, "baseline", "-dataset", "cifar100", "-data", filepath.Join(dir, "data"))
	r.wantCode(t, exitError)
	if !strings.Contains(r.stderr, "delete the "+data.CIFAR100Folder+" folder") {
		t.Errorf("damaged CIFAR-100: %s", r.stderr)
	}
	if err := os.RemoveAll(c100); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(c100, 0o755); err != nil { // present but empty: nothing to download
		t.Fatal(err)
	}
	r = runCmd(t, "baseline", "-dataset", "cifar100", "-data", filepath.Join(dir, "data"))
	r.wantCode(t, exitError)
	if !strings.Contains(r.stderr, "run `tsimcne download -dataset cifar100`") {
		t.Errorf("missing CIFAR-100 files: %s", r.stderr)
	}
}

// TestMemoryMessage: the memory guard's message gives the sizes and what to
// change.
func TestMemoryMessage(t *testing.T) {
	m := memoryMessage(22.5*1024, 24*1024)
	for _, want := range []string{"22.5 GiB", "24.0 GiB", "-resume", "-batch", "-image-size"} {
		if !strings.Contains(m, want) {
			t.Errorf("memory message lacks %q:\n%s", want, m)
		}
	}
}
