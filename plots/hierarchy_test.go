package plots

import (
	"strings"
	"testing"

	"github.com/lucasb-eyer/go-colorful"
)

// hundred returns 100 small clusters with 20 superclasses (class c is in
// superclass c/5), like CIFAR-100.
func hundred() (xy []float32, labels, coarse []int, names, coarseNames []string) {
	xy, labels, names = blobs(100, 8, 81)
	for _, l := range labels {
		coarse = append(coarse, l/5)
	}
	for s := 0; s < 20; s++ {
		coarseNames = append(coarseNames, "super "+itoa(s))
	}
	return
}

func TestSuperclassesMap(t *testing.T) {
	xy, labels, coarse, names, coarseNames := hundred()
	f, err := Map(xy, labels, names, Superclasses(coarse, coarseNames))
	if err != nil {
		t.Fatal(err)
	}
	svg, _ := f.SVG()
	st := parseSVG(t, svg)
	if st.points != 800 || strings.Join(st.legend, ",") != strings.Join(coarseNames, ",") {
		t.Errorf("superclass map: %d points, legend %q", st.points, st.legend)
	}
	if len(st.pointClasses) != 100 {
		t.Errorf("%d point groups, want one per class (100)", len(st.pointClasses))
	}
	// Classes of a superclass are shades of its colour: close to it, and
	// distinct.
	p, _ := newPoints(xy, labels, names)
	h, err := newHierarchy(p, newConfig([]Option{Superclasses(coarse, coarseNames)}))
	if err != nil {
		t.Fatal(err)
	}
	// Each class colour lies closer to its own superclass colour than to
	// the other superclass colours, for nearly all classes.
	near := 0
	for s, fs := range h.members {
		if len(fs) != 5 {
			t.Fatalf("superclass %d has classes %v", s, fs)
		}
		seen := map[string]bool{}
		for _, f := range fs {
			fc, _ := colorful.MakeColor(h.fine[f])
			best, bd := -1, 1e9
			for s2, b := range h.base {
				bc, _ := colorful.MakeColor(b)
				if d := fc.DistanceCIEDE2000(bc); d < bd {
					best, bd = s2, d
				}
			}
			if best == s {
				near++
			}
			seen[hexColor(h.fine[f])] = true
		}
		if len(seen) != 5 {
			t.Errorf("superclass %d: %d distinct shades for 5 classes", s, len(seen))
		}
	}
	if near < 90 {
		t.Errorf("%d of 100 class colours are nearest to their superclass colour, want >= 90", near)
	}
	t.Logf("%d of 100 class colours are nearest to their own superclass colour", near)
}

func TestSuperclassesErrors(t *testing.T) {
	xy, labels, coarse, names, coarseNames := hundred()
	bad := append([]int(nil), coarse...)
	bad[3] = 7 // point 3 is class 0, which is in superclass 0
	for _, tc := range []struct {
		labels []int
		coarse []int
		want   string
	}{
		{labels, bad, `class "class 0" is in superclass 0 at point 0 but in 7 at point 3`},
		{labels, coarse[:10], "10 superclass labels for 800 points"},
		{nil, coarse, "needs labels"},
	} {
		_, err := Map(xy, tc.labels, names, Superclasses(tc.coarse, coarseNames))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want %q", err, tc.want)
		}
	}
}

func TestSuperclassesPage(t *testing.T) {
	xy, labels, coarse, names, coarseNames := hundred()
	p, err := Interactive(xy, labels, names, Superclasses(coarse, coarseNames))
	if err != nil {
		t.Fatal(err)
	}
	d := pageJSON(t, string(p.HTML()))
	if len(d.Groups) != 20 || d.Groups[3].Name != "super 3" || len(d.Groups[3].Classes) != 5 || d.Groups[3].Classes[0] != 15 {
		t.Errorf("page groups: %+v", d.Groups[:min(4, len(d.Groups))])
	}
}
