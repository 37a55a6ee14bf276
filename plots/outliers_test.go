package plots

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// plantedMap returns 4 clusters of 200 points (classes 0-3) plus 5 points of
// class 0 planted inside class 1's cluster; it returns the planted indices.
func plantedMap() (xy []float32, labels []int, planted []int) {
	xy, labels, _ = blobs(4, 200, 11)
	// Class 1's centre is at (0, 10) (blobs puts centres on a circle).
	rng := rand.New(rand.NewPCG(3, 3))
	for j := 0; j < 5; j++ {
		a := 2 * math.Pi * float64(j) / 5
		planted = append(planted, len(labels))
		xy = append(xy, float32(0.8*math.Cos(a)+0.1*rng.NormFloat64()), float32(10+0.8*math.Sin(a)))
		labels = append(labels, 0)
	}
	return
}

func TestOutliersLabelRanksPlantedFirst(t *testing.T) {
	xy, labels, planted := plantedMap()
	out, err := FindOutliers(xy, labels, TopN(5), K(10))
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for r, o := range out {
		got = append(got, o.Index)
		if o.Rank != r+1 || o.Label != 0 || o.NeighborLabel != 1 || o.K != 10 {
			t.Errorf("outlier %+v: want rank %d, label 0, neighbour label 1, K 10", o, r+1)
		}
		if o.X != xy[2*o.Index] || o.Y != xy[2*o.Index+1] {
			t.Errorf("outlier %d: position (%v,%v) is not the point's", o.Index, o.X, o.Y)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, planted) {
		t.Errorf("top 5 outliers %v, want the planted %v", got, planted)
	}
	s, _ := ScoreOutliers(xy, labels)
	if s.Method != OutlierLabel {
		t.Errorf("auto method with labels = %v, want label disagreement", s.Method)
	}
	// Scores: planted points have all 10 neighbours from class 1.
	for _, i := range planted {
		if s.Score[i] < 1 || s.NeighborVotes[i] != 10 {
			t.Errorf("planted point %d: score %.3f, votes %d; want >= 1 and 10", i, s.Score[i], s.NeighborVotes[i])
		}
	}
}

func TestOutliersDensity(t *testing.T) {
	xy, _, _ := blobs(3, 300, 12)
	far := []int{}
	for _, p := range [][2]float32{{0, 0}, {25, 3}, {-4, -25}} {
		far = append(far, len(xy)/2)
		xy = append(xy, p[0], p[1])
	}
	out, err := FindOutliers(xy, nil, TopN(3))
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, o := range out {
		got = append(got, o.Index)
		if o.Label != -1 || o.NeighborLabel != -1 {
			t.Errorf("unlabelled outlier has labels: %+v", o)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, far) {
		t.Errorf("density outliers %v, want the isolated points %v", got, far)
	}
	// Points inside clusters score near 1.
	s, _ := ScoreOutliers(xy, nil)
	var inside []float64
	for i := 0; i < 900; i++ {
		inside = append(inside, s.Score[i])
	}
	slices.Sort(inside)
	if med := inside[450]; med < 0.7 || med > 1.3 {
		t.Errorf("median density score inside clusters %.2f, want about 1", med)
	}
}

func TestOutliersErrors(t *testing.T) {
	if _, err := ScoreOutliers([]float32{1, 2}, nil); err == nil || !strings.Contains(err.Error(), "at least 2") {
		t.Errorf("one point: error %v", err)
	}
	if _, err := ScoreOutliers([]float32{1, 2, 3, 4}, nil, Method(OutlierLabel)); err == nil || !strings.Contains(err.Error(), "needs labels") {
		t.Errorf("label method without labels: error %v", err)
	}
	// Few points: k shrinks to n-1; duplicates do not break the scores.
	s, err := ScoreOutliers([]float32{0, 0, 0, 0, 1, 1}, []int{0, 0, 1}, K(10))
	if err != nil || s.K != 2 {
		t.Fatalf("3 points: %v, K %d", err, s.K)
	}
	for i, v := range s.Score {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Errorf("score %d = %v", i, v)
		}
	}
}

func TestOutlierGallery(t *testing.T) {
	xy, labels, planted := plantedMap()
	names := []string{"zero", "one", "two", "three"}
	out, err := FindOutliers(xy, labels, TopN(7))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OutlierGallery(out, names); err == nil {
		t.Errorf("gallery without images: no error")
	}
	ds := solidImages(labels)
	g, err := OutlierGallery(out, names, Images(ds), Size(600, 0), GalleryColumns(4))
	if err != nil {
		t.Fatal(err)
	}
	svg, _ := g.SVG()
	st := parseSVG(t, svg)
	if st.images != 7 {
		t.Errorf("gallery SVG has %d images, want 7", st.images)
	}
	if !strings.Contains(string(svg), "index "+itoa(planted[0])) || !strings.Contains(string(svg), "neighbours: one 10/10") {
		t.Errorf("gallery captions missing index or neighbour label")
	}
	b, _ := g.PNG()
	img := decodePNG(t, b)
	if img.Bounds().Dx() != 600 || img.Bounds().Dy() < 200 {
		t.Errorf("gallery PNG is %v, want 600 wide and two rows high", img.Bounds())
	}
	// The planted images are solid class-0 colour, enlarged: many pixels.
	if n := countNear(img, classImageColor(0), 2); n < 5*80*80 {
		t.Errorf("%d pixels of the planted images' colour, want >= %d", n, 5*80*80)
	}
	// Map with the outliers ringed and numbered.
	m, err := Map(xy, labels, names, HighlightOutliers(out))
	if err != nil {
		t.Fatal(err)
	}
	msvg, _ := m.SVG()
	if c := strings.Count(string(msvg), `stroke="#000000"`); c != 7 {
		t.Errorf("%d rings on the map, want 7", c)
	}
	bad := []Outlier{{Rank: 1, Index: len(labels)}}
	if _, err := OutlierGallery(bad, names, Images(ds)); err == nil || !strings.Contains(err.Error(), "outside") {
		t.Errorf("bad index: error %v", err)
	}
}

// A sparse class A next to a dense class B: A's border points have all
// their neighbours in B too. The tie-break must still rank the A points
// planted deep inside B first.
func TestOutliersTieBreakPrefersDeepPlants(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	var xy []float32
	var labels []int
	for j := 0; j < 40; j++ { // A: sparse, [0,2]×[0,2]
		xy = append(xy, float32(2*rng.Float64()), float32(2*rng.Float64()))
		labels = append(labels, 0)
	}
	for j := 0; j < 3000; j++ { // B: dense, [2,4]×[0,2]
		xy = append(xy, float32(2+2*rng.Float64()), float32(2*rng.Float64()))
		labels = append(labels, 1)
	}
	for j := 0; j < 6; j++ { // A points on the border with B
		xy = append(xy, 1.98, float32(0.2+0.3*float64(j)))
		labels = append(labels, 0)
	}
	var planted []int
	for _, p := range [][2]float32{{3.5, 0.5}, {3.6, 1.5}, {3.0, 1.0}} {
		planted = append(planted, len(labels))
		xy = append(xy, p[0], p[1])
		labels = append(labels, 0)
	}
	s, err := ScoreOutliers(xy, labels)
	if err != nil {
		t.Fatal(err)
	}
	full := 0
	for i := range labels {
		if s.Score[i] >= 1 {
			full++
		}
	}
	if full <= 6 {
		t.Fatalf("test set-up: only %d points have all neighbours of another label", full)
	}
	var got []int
	for _, o := range s.Top(3) {
		got = append(got, o.Index)
	}
	slices.Sort(got)
	if !slices.Equal(got, planted) {
		t.Errorf("top 3 %v, want planted %v (among %d points with full disagreement)", got, planted, full)
	}
}
