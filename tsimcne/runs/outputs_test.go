package runs

import (
	"encoding/csv"
	"encoding/json"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gosimcne/gosimcne/internal/fakedata"
	"github.com/gosimcne/gosimcne/tsimcne"
	"github.com/gosimcne/gosimcne/tsimcne/embedding"
)

// labelledRun writes a folder of 3 classes of 8 images (16x16) and loads
// it in holdout mode: 20 kNN reference and 4 held-out images.
func labelledRun(t *testing.T) (Info, *Images) {
	t.Helper()
	photos := filepath.Join(t.TempDir(), "photos")
	fakedata.WriteImageFolder(t, photos, 3, 8, 16, 1)
	info := Info{Preset: tsimcne.PresetQuick, K: 3, Features: true,
		Data: Data{Dataset: FolderPrefix + photos, ImageSize: 16, Seed: 2}}
	im, err := info.Data.Load()
	if err != nil {
		t.Fatal(err)
	}
	if im.Mode != EvalHoldout || im.Train.N != 20 || im.Test.N != 4 {
		t.Fatalf("mode %s, %d -> %d images", im.Mode, im.Train.N, im.Test.N)
	}
	return info, im
}

// TestEvaluateWriteOutputs evaluates an (untrained) model on a run's
// images and checks what WriteOutputs writes: the embeddings, holdout.json
// and metrics.json, which ReadMap and ReadMetrics read back.
func TestEvaluateWriteOutputs(t *testing.T) {
	info, im := labelledRun(t)
	cfg := tsimcne.QuickConfig()
	cfg.Progress = tsimcne.ProgressOff
	m, err := tsimcne.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Evaluate(m, im, info.K, info.Features)
	if err != nil {
		t.Fatal(err)
	}
	if res.TrainMap.N != 20 || res.TestMap.N != 4 || res.KNN == nil || res.KNN.NTrain != 20 || res.KNN.NTest != 4 ||
		res.KNN.K != 3 || res.KNN.FeatureDim == 0 || res.KNNSuperclass != nil {
		t.Fatalf("Evaluate: maps %d, %d points; knn %+v; superclass %v", res.TrainMap.N, res.TestMap.N, res.KNN, res.KNNSuperclass)
	}

	dir := t.TempDir()
	history := []tsimcne.EpochStats{{Stage: 1, Seconds: 2, CheckpointSeconds: 0.5}, {Stage: 1, Epoch: 1, Seconds: 3}}
	met, err := WriteOutputs(dir, info, im, res, m, history, Timing{DataSeconds: 1, TrainSeconds: 4})
	if err != nil {
		t.Fatal(err)
	}
	if met.Timing.TrainSecondsAllSessions != 5.5 || met.Timing.DataSeconds != 1 || met.Preset != tsimcne.PresetQuick ||
		met.Data.NFit != 24 || met.Data.NTrain != 20 || met.Data.NTest != 4 || met.Data.Mode != EvalHoldout || met.Machine.NumCPU < 1 {
		t.Errorf("metrics %+v", met)
	}
	back, err := ReadMetrics(dir)
	if err != nil {
		t.Fatal(err)
	}
	if back.KNN == nil || back.KNN.MapAccuracy != res.KNN.MapAccuracy || len(back.History) != 2 || back.Data.Spec.Seed != 2 ||
		back.Config.Backbone != cfg.Backbone {
		t.Errorf("metrics.json read back: %+v", back)
	}

	var h struct {
		Seed         uint64 `json:"seed"`
		TrainIndices []int  `json:"train_indices"`
		TestIndices  []int  `json:"test_indices"`
	}
	b, err := os.ReadFile(filepath.Join(dir, HoldoutFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	if h.Seed != 2 || !slices.Equal(h.TrainIndices, im.TrainIdx) || !slices.Equal(h.TestIndices, im.TestIdx) {
		t.Errorf("holdout.json %+v, want the indices of the images", h)
	}

	want, err := res.Map()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadMap(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.N != 24 || !slices.Equal(got.Points, want.Points) || !slices.Equal(got.Labels, want.Labels) {
		t.Errorf("ReadMap: %d points, want the %d of Result.Map", got.N, want.N)
	}
	for _, n := range []string{TrainEmbedding, TestEmbedding} {
		for _, ext := range []string{".npy", ".csv"} {
			if st, err := os.Stat(filepath.Join(dir, n+ext)); err != nil || st.Mode().Perm() != 0o644 {
				t.Errorf("%s%s: %v (mode %v), want readable by all", n, ext, err, st.Mode())
			}
		}
	}
	if err := os.Remove(filepath.Join(dir, TestEmbedding+".csv")); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadMap(dir); err != nil || got.N != 20 {
		t.Errorf("ReadMap without a test map: %v", err)
	}
}

// TestRunPictures draws the pictures of a run from a 2-D map of its images,
// and the history alone for a map of more dimensions.
func TestRunPictures(t *testing.T) {
	info, im := labelledRun(t)
	flat := func(n int, labels []int, dim int) *embedding.Embedding {
		e := &embedding.Embedding{N: n, Dim: dim, Labels: labels, ClassNames: im.Fit.ClassNames}
		for i := range n * dim {
			e.Points = append(e.Points, float32(labels[i/dim]*10+i%7))
		}
		return e
	}
	res := &Result{TrainMap: flat(20, im.Train.Labels, 2), TestMap: flat(4, im.Test.Labels, 2),
		KNN: &tsimcne.Evaluation{MapAccuracy: 0.5}}
	history := []tsimcne.EpochStats{{Stage: 1, Epoch: 0, Loss: 6, LearningRate: 0.1, Steps: 1}, {Stage: 1, Epoch: 1, Loss: 5, LearningRate: 0.1, Steps: 1}}
	in, err := RunPictures(info.Data.Dataset, im, res, history)
	if err != nil {
		t.Fatal(err)
	}
	if in.Map.N != 24 || in.Images.N != 24 || !strings.HasSuffix(in.Title, "(24 images), kNN accuracy 0.500") || len(in.History) != 2 {
		t.Fatalf("pictures of the run: %d points, %v images, title %q", in.Map.N, in.Images != nil, in.Title)
	}
	dir := t.TempDir()
	files, err := WritePictures(dir, in)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	wantNames := []string{HistoryPNG, MapPNG, MapSVG, ThumbnailsPNG, OutliersCSV, OutliersPNG, OutliersMapPNG, MapHTML}
	if !slices.Equal(names, wantNames) {
		t.Errorf("wrote %v, want %v", names, wantNames)
	}
	checkOutliersCSV(t, filepath.Join(dir, OutliersCSV), in)
	// The page names each image by its file, relative to the folder.
	html, _ := os.ReadFile(filepath.Join(dir, MapHTML))
	if name := relativeNames(in.Images.Files)[5]; strings.Count(name, "/") != 1 || !strings.Contains(string(html), `"`+name+`"`) {
		t.Errorf("map.html lacks the name %q of image 5", name)
	}
	f, err := os.Open(filepath.Join(dir, ThumbnailsPNG))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if img, err := png.Decode(f); err != nil || img.Bounds().Dx() < 200 {
		t.Errorf("thumbnails.png: %v", err)
	}
	// Above ThumbnailFilesAbove images the page's thumbnails are files.
	thumbnailFilesAbove = 10
	defer func() { thumbnailFilesAbove = ThumbnailFilesAbove }()
	dir3 := t.TempDir()
	files3, err := WritePictures(dir3, in)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := os.ReadFile(filepath.Join(dir3, MapHTML))
	if !slices.Contains(files3, filepath.Join(dir3, MapFilesDir)) || strings.Contains(string(page), "data:image") ||
		!strings.Contains(string(page), MapFilesDir+"/thumbs-0000.jpg") {
		t.Errorf("24 images above a limit of 10: wrote %v; the page must refer to %s/thumbs-0000.jpg and embed no image", files3, MapFilesDir)
	}
	if _, err := os.Stat(filepath.Join(dir3, MapFilesDir, "thumbs-0000.jpg")); err != nil {
		t.Error(err)
	}
	thumbnailFilesAbove = ThumbnailFilesAbove

	// At Scale 2 every PNG has twice the pixels in each direction.
	dir2 := t.TempDir()
	in.Scale = 2
	if _, err := WritePictures(dir2, in); err != nil {
		t.Fatal(err)
	}
	in.Scale = 0
	for _, name := range []string{HistoryPNG, MapPNG, ThumbnailsPNG, OutliersPNG, OutliersMapPNG} {
		a, b := pngSize(t, filepath.Join(dir, name)), pngSize(t, filepath.Join(dir2, name))
		if b.X != 2*a.X || b.Y != 2*a.Y {
			t.Errorf("%s: %v at scale 2, %v at 1", name, b, a)
		}
	}

	res.TrainMap, res.TestMap = flat(20, im.Train.Labels, 3), flat(4, im.Test.Labels, 3)
	if in, err = RunPictures(info.Data.Dataset, im, res, history); err != nil || in.Map != nil || len(in.History) != 2 {
		t.Fatalf("3-D map: %+v, %v; want the history alone", in, err)
	}
	dir = t.TempDir()
	if files, err := WritePictures(dir, in); err != nil || len(files) != 1 || filepath.Base(files[0]) != HistoryPNG {
		t.Errorf("3-D map: wrote %v, %v; want history.png alone", files, err)
	}
}

func TestMapTitle(t *testing.T) {
	acc := 0.8766
	if got := MapTitle(CIFAR10, 60000, &acc); got != "t-SimCNE map of CIFAR-10 (60000 images), kNN accuracy 0.877" {
		t.Errorf("MapTitle = %q", got)
	}
	if got := MapTitle(FolderPrefix+"/x/photos", 3, nil); got != "t-SimCNE map of photos (3 images)" {
		t.Errorf("MapTitle = %q", got)
	}
}

// pngSize returns the pixel size of the PNG file path.
func pngSize(t *testing.T, path string) image.Point {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return image.Pt(cfg.Width, cfg.Height)
}

// checkOutliersCSV checks outliers.csv against the pictures' map and images:
// a header, ranks 1, 2, ..., and each row's class, file and position those
// of its index.
func checkOutliersCSV(t *testing.T, path string, in Pictures) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 2 || strings.Join(rows[0], ",") != "rank,index,file,class,neighbours_class,neighbour_votes,k,score,x,y" {
		t.Fatalf("outliers.csv: %d rows, header %v", len(rows), rows[0])
	}
	if want := min(DefaultOutliers, in.Map.N) + 1; len(rows) != want {
		t.Errorf("outliers.csv has %d rows, want %d", len(rows), want)
	}
	for r, row := range rows[1:] {
		i, err := strconv.Atoi(row[1])
		if err != nil || row[0] != strconv.Itoa(r+1) || i < 0 || i >= in.Map.N {
			t.Fatalf("row %d: %v", r+1, row)
		}
		if row[3] != in.Map.ClassNames[in.Map.Labels[i]] {
			t.Errorf("row %d: class %q, point %d has %q", r+1, row[3], i, in.Map.ClassNames[in.Map.Labels[i]])
		}
		if in.Images.Files != nil && row[2] != in.Images.Files[i] {
			t.Errorf("row %d: file %q, image %d is %q", r+1, row[2], i, in.Images.Files[i])
		}
		if x, _ := strconv.ParseFloat(row[8], 32); float32(x) != in.Map.Points[2*i] {
			t.Errorf("row %d: x %s, point %d is at %v", r+1, row[8], i, in.Map.Points[2*i])
		}
	}
}

func TestRelativeNames(t *testing.T) {
	sep := string(filepath.Separator)
	j := func(parts ...string) string { return strings.Join(parts, sep) }
	for _, tc := range []struct {
		files, want []string
	}{
		{[]string{j("", "data", "photos", "cats", "a.jpg"), j("", "data", "photos", "dogs", "b.jpg")}, []string{"cats/a.jpg", "dogs/b.jpg"}},
		{[]string{j("", "data", "photos", "a.jpg"), j("", "data", "photos", "b.jpg")}, []string{"a.jpg", "b.jpg"}},
		{[]string{j("", "data", "photosA", "a.jpg"), j("", "data", "photos", "b.jpg")}, []string{"photosA/a.jpg", "photos/b.jpg"}},
		{[]string{j("x", "a.jpg"), "b.jpg"}, []string{"x/a.jpg", "b.jpg"}},
		{nil, nil},
	} {
		if got := relativeNames(tc.files); !slices.Equal(got, tc.want) {
			t.Errorf("relativeNames(%q) = %q, want %q", tc.files, got, tc.want)
		}
	}
}
