package embedding

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func sample() *Embedding {
	return &Embedding{
		Points:     []float32{0, 1.5, -2, 3.25, 1e-7, -4e5},
		N:          3,
		Dim:        2,
		Labels:     []int{0, 2, 1},
		ClassNames: []string{"cat", "dog", "ship"},
	}
}

func TestNPYRoundTrip(t *testing.T) {
	e := sample()
	var buf bytes.Buffer
	if err := e.WriteNPY(&buf); err != nil {
		t.Fatal(err)
	}
	// NumPy header: magic, version, and a (3, 2) little-endian float32 shape.
	hdr, _, _ := strings.Cut(buf.String(), "\n")
	if !strings.HasPrefix(hdr, "\x93NUMPY") || !strings.Contains(hdr, "'<f4'") || !strings.Contains(hdr, "(3, 2)") {
		t.Fatalf("unexpected .npy header %q", hdr)
	}
	got, err := ReadNPY(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if got.N != 3 || got.Dim != 2 {
		t.Fatalf("shape [%d,%d], want [3,2]", got.N, got.Dim)
	}
	for i, v := range e.Points {
		if got.Points[i] != v {
			t.Errorf("point value %d: got %v want %v", i, got.Points[i], v)
		}
	}
}

func TestCSVRoundTrip(t *testing.T) {
	e := sample()
	var buf bytes.Buffer
	if err := e.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if lines[0] != "x,y,label,class" || lines[2] != "-2,3.25,2,ship" {
		t.Fatalf("unexpected CSV:\n%s", buf.String())
	}
	got, err := ReadCSV(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if got.N != 3 || got.Dim != 2 || got.ClassName(1) != "ship" || got.Labels[2] != 1 {
		t.Fatalf("round trip lost data: %+v", got)
	}
	for i, v := range e.Points {
		if got.Points[i] != v {
			t.Errorf("point value %d: got %v want %v", i, got.Points[i], v)
		}
	}
}

func TestSaveLoadFiles(t *testing.T) {
	dir := t.TempDir()
	e := sample()
	for _, name := range []string{"emb.npy", "emb.csv"} {
		p := filepath.Join(dir, name)
		if err := e.Save(p); err != nil {
			t.Fatal(err)
		}
		got, err := Load(p)
		if err != nil {
			t.Fatal(err)
		}
		if got.N != e.N || got.Points[3] != e.Points[3] {
			t.Errorf("%s: round trip mismatch", name)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	if err := e.Save(filepath.Join(dir, "emb.txt")); err == nil {
		t.Error("unknown extension accepted")
	}
}

func TestBadInput(t *testing.T) {
	bad := sample()
	bad.Points[3] = float32(math.NaN())
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "point 1") {
		t.Errorf("NaN not reported with its point: %v", err)
	}
	if _, err := New([]float32{1, 2, 3}, 2, 2); err == nil {
		t.Error("wrong length accepted")
	}
	if _, err := ReadCSV(strings.NewReader("x,y\n1,notanumber\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bad CSV number not reported with its line: %v", err)
	}
	if _, err := ReadCSV(strings.NewReader("label,x\n1,2\n")); err == nil {
		t.Error("label before coordinates accepted")
	}
	if _, err := ReadNPY(strings.NewReader("not a numpy file at all")); err == nil {
		t.Error("garbage accepted as .npy")
	}
	var buf bytes.Buffer
	if err := sample().WriteNPY(&buf); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadNPY(bytes.NewReader(buf.Bytes()[:buf.Len()-5])); err == nil {
		t.Error("truncated .npy accepted")
	}
}

func TestCheckNotCollapsed(t *testing.T) {
	for _, tc := range []struct {
		name      string
		points    []float32
		dim       int
		collapsed bool
	}{
		{"spread", []float32{0, 0, 1, 0, 0, 2}, 2, false},
		{"one place", []float32{3, -4, 3, -4, 3, -4}, 2, true},
		{"far away, float32 rounding", []float32{1e7, 1e7, 1e7 + 1, 1e7}, 2, true},
		{"tiny but real", []float32{0, 0, 0, 1e-3}, 2, false},
		{"one point", []float32{1, 2}, 2, false},
	} {
		e, err := New(tc.points, len(tc.points)/tc.dim, tc.dim)
		if err != nil {
			t.Fatal(err)
		}
		err = e.CheckNotCollapsed()
		if got := errors.Is(err, ErrCollapsed); got != tc.collapsed {
			t.Errorf("%s: CheckNotCollapsed() = %v, want collapsed %v", tc.name, err, tc.collapsed)
		}
	}
}
