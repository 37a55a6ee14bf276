package main

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gosimcne/gosimcne/internal/fakedata"
	"github.com/gosimcne/gosimcne/tsimcne/data"
	"github.com/gosimcne/gosimcne/tsimcne/embedding"
	"github.com/gosimcne/gosimcne/tsimcne/runs"
)

// TestTSNECommand: t-SNE of a labelled feature file keeps three separated
// clusters apart (kNN accuracy 1 on the held-out points) and writes the map
// with the labels; raw pixels of an image folder work too.
func TestTSNECommand(t *testing.T) {
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(1, 2))
	const n, dim = 150, 8
	in := &embedding.Embedding{N: n, Dim: dim, Labels: make([]int, n), ClassNames: []string{"a", "b", "c"}}
	for i := range n {
		c := i % 3
		in.Labels[i] = c
		for d := range dim {
			v := r.NormFloat64() * 0.3
			if d == c {
				v += 10
			}
			in.Points = append(in.Points, float32(v))
		}
	}
	src, dst := filepath.Join(dir, "features.csv"), filepath.Join(dir, "tsne.csv")
	if err := in.Save(src); err != nil {
		t.Fatal(err)
	}
	res := runCmd(t, "tsne", "-embedding", src, "-out", dst, "-holdout", "30", "-k", "5")
	res.wantCode(t, exitOK)
	if !strings.Contains(res.stdout, "kNN accuracy of the t-SNE map (k=5, 30 held out, seed 1): 1.0000") {
		t.Errorf("stdout:\n%s", res.stdout)
	}
	out, err := embedding.Load(dst)
	if err != nil {
		t.Fatal(err)
	}
	if out.N != n || out.Dim != 2 || len(out.Labels) != n || out.Labels[4] != 1 {
		t.Fatalf("map %d x %d, labels %v...", out.N, out.Dim, out.Labels[:6])
	}

	images := filepath.Join(dir, "images")
	fakedata.WriteImageFolder(t, images, 2, 20, 8, 3)
	res = runCmd(t, "tsne", "-dataset", "folder:"+images, "-out", filepath.Join(dir, "px.npy"), "-holdout", "8", "-k", "3")
	res.wantCode(t, exitOK)
	if !strings.Contains(res.stdout, "t-SNE of the pixels of images") || !strings.Contains(res.stdout, "40 points, 3072-D") {
		t.Errorf("pixels: stdout:\n%s", res.stdout)
	}
}

// TestTSNEOfARun: -run maps the backbone features of a run's images, its
// reference images first, and scores them by the run's own split.
func TestTSNEOfARun(t *testing.T) {
	root := t.TempDir()
	images := splitImages(t, root)
	run := filepath.Join(root, "run")
	runCmd(t, append(tinyTrainArgs(images, run), "-pictures=false")...).wantCode(t, exitOK)
	dst := filepath.Join(root, "tsne.csv")
	res := runCmd(t, "tsne", "-run", run, "-out", dst, "-k", "5")
	res.wantCode(t, exitOK)
	if !strings.Contains(res.stdout, "kNN accuracy of the t-SNE map (k=5, the run's split, 48 -> 24)") {
		t.Errorf("stdout:\n%s", res.stdout)
	}
	out, err := embedding.Load(dst)
	if err != nil {
		t.Fatal(err)
	}
	if out.N != 72 || out.Labels == nil {
		t.Fatalf("map of %d points, labels %v", out.N, out.Labels != nil)
	}

	// A run that held a part out: the points come in the images' own order
	// (the folder's: class by class), scored by the run's split.
	flat := filepath.Join(root, "flat")
	fakedata.WriteImageFolder(t, flat, 3, 12, 16, 3)
	run2 := filepath.Join(root, "run2")
	runCmd(t, append(tinyTrainArgs(flat, run2), "-pictures=false")...).wantCode(t, exitOK)
	dst2 := filepath.Join(root, "tsne2.csv")
	res = runCmd(t, "tsne", "-run", run2, "-out", dst2, "-k", "5")
	res.wantCode(t, exitOK)
	if !strings.Contains(res.stdout, "the run's split, 30 -> 6)") {
		t.Errorf("hold-out run: stdout:\n%s", res.stdout)
	}
	out2, err := embedding.Load(dst2)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range out2.Labels {
		if l != i/12 {
			t.Fatalf("point %d has label %d, want the folder's order (class %d)", i, l, i/12)
		}
	}
}

// TestRunFolderPreparedImages: training on an image folder decodes it once
// into the run's prepared/ file, which embed -run then reuses (same file,
// not rewritten).
func TestRunFolderPreparedImages(t *testing.T) {
	root := t.TempDir()
	images := filepath.Join(root, "shapes")
	fakedata.WriteImageFolder(t, filepath.Join(images, "train"), 2, 8, 16, 1)
	fakedata.WriteImageFolder(t, filepath.Join(images, "test"), 2, 4, 16, 2)
	run := filepath.Join(root, "run")
	runCmd(t, append(tinyTrainArgs(images, run), "-pictures=false")...).wantCode(t, exitOK)
	files, err := filepath.Glob(filepath.Join(run, runs.PreparedDir, "*"+data.PreparedExt))
	if err != nil || len(files) != 2 { // train/ and test/
		t.Fatalf("prepared files %v, %v; want one per split", files, err)
	}
	before := map[string]time.Time{}
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		before[f] = st.ModTime()
	}
	time.Sleep(20 * time.Millisecond)
	runCmd(t, "embed", "-run", run, "-out", filepath.Join(root, "all.csv")).wantCode(t, exitOK)
	after, _ := filepath.Glob(filepath.Join(run, runs.PreparedDir, "*"+data.PreparedExt))
	if len(after) != 2 {
		t.Fatalf("after embed: %v", after)
	}
	for _, f := range after {
		st, err := os.Stat(f)
		if err != nil || !st.ModTime().Equal(before[f]) {
			t.Errorf("%s rewritten by embed (%v)", f, err)
		}
	}
}
