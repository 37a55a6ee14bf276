// Package embedding holds the result of a t-SimCNE map, an [N, Dim] array of
// coordinates with optional labels, and reads and writes it in formats other
// tools read: NumPy .npy (float32, shape (N, Dim)) and CSV (x, y, label,
// class for 2-D maps).
package embedding

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"codeberg.org/sbinet/npyio/npy"
)

// Embedding is a set of N points in Dim dimensions, row-major, with optional
// labels and class names.
type Embedding struct {
	// Points holds N*Dim coordinates, row-major (point i is
	// Points[i*Dim:(i+1)*Dim]).
	Points []float32
	// N is the number of points and Dim their dimension.
	N, Dim int
	// Labels holds one class index per point, or is nil.
	Labels []int
	// ClassNames names the classes, indexed by label; may be nil.
	ClassNames []string
}

// New returns an Embedding of n points in dim dimensions over points (not
// copied), checking the sizes.
func New(points []float32, n, dim int) (*Embedding, error) {
	e := &Embedding{Points: points, N: n, Dim: dim}
	return e, e.Validate()
}

// Point returns the coordinates of point i (a sub-slice, not a copy).
func (e *Embedding) Point(i int) []float32 { return e.Points[i*e.Dim : (i+1)*e.Dim] }

// Validate checks sizes, labels and that every coordinate is finite.
func (e *Embedding) Validate() error {
	if e.N < 0 || e.Dim <= 0 {
		return fmt.Errorf("embedding: invalid shape [%d, %d]", e.N, e.Dim)
	}
	if len(e.Points) != e.N*e.Dim {
		return fmt.Errorf("embedding: %d coordinates, want N*Dim = %d*%d", len(e.Points), e.N, e.Dim)
	}
	if e.Labels != nil && len(e.Labels) != e.N {
		return fmt.Errorf("embedding: %d labels for %d points", len(e.Labels), e.N)
	}
	for i, v := range e.Points {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("embedding: point %d coordinate %d is %v", i/e.Dim, i%e.Dim, v)
		}
	}
	return nil
}

// ErrCollapsed is wrapped by CheckNotCollapsed's error: every point of the
// embedding is at (almost) the same place, so it shows nothing. A trained
// t-SimCNE map never does this; a damaged checkpoint or a diverged run can.
var ErrCollapsed = errors.New("embedding: collapsed, all points at one place")

// Spread returns the largest range (max - min) of any coordinate over the
// points; 0 for fewer than two points.
func (e *Embedding) Spread() float64 {
	spread := 0.0
	for d := range e.Dim {
		lo, hi := math.Inf(1), math.Inf(-1)
		for i := range e.N {
			v := float64(e.Points[i*e.Dim+d])
			lo, hi = min(lo, v), max(hi, v)
		}
		if e.N > 1 {
			spread = max(spread, hi-lo)
		}
	}
	return spread
}

// CheckNotCollapsed returns an error wrapping ErrCollapsed when an embedding
// of two or more points has all of them within a tiny box: no coordinate
// varies by more than 1e-6, or by more than 1e-6 of the largest coordinate's
// size (float32 rounding of points at one place far from the origin).
func (e *Embedding) CheckNotCollapsed() error {
	if e.N < 2 {
		return nil
	}
	size := 0.0
	for _, v := range e.Points {
		size = max(size, math.Abs(float64(v)))
	}
	if s := e.Spread(); s <= 1e-6*max(1, size) {
		return fmt.Errorf("%w: %d points in %d-D vary by at most %.3g", ErrCollapsed, e.N, e.Dim, s)
	}
	return nil
}

// ClassName returns the class name of point i, or its label as a string
// where there are no names, or "" where there are no labels.
func (e *Embedding) ClassName(i int) string {
	if e.Labels == nil {
		return ""
	}
	l := e.Labels[i]
	if l >= 0 && l < len(e.ClassNames) {
		return e.ClassNames[l]
	}
	return strconv.Itoa(l)
}

// rows returns the points as [][]float32 rows sharing Points' memory, the
// form npy writes with shape (N, Dim).
func (e *Embedding) rows() [][]float32 {
	r := make([][]float32, e.N)
	for i := range r {
		r[i] = e.Point(i)
	}
	return r
}

// WriteNPY writes the coordinates as a float32 NumPy array of shape (N, Dim).
func (e *Embedding) WriteNPY(w io.Writer) error {
	if err := e.Validate(); err != nil {
		return err
	}
	if e.N == 0 {
		return fmt.Errorf("embedding: cannot write an empty embedding as .npy")
	}
	return npy.Write(w, e.rows())
}

// WriteCSV writes one row per point with a header: x, y (or z0..z{Dim-1}
// where Dim != 2), then label and class where there are labels.
func (e *Embedding) WriteCSV(w io.Writer) error {
	if err := e.Validate(); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	header := coordNames(e.Dim)
	if e.Labels != nil {
		header = append(header, "label", "class")
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	row := make([]string, len(header))
	for i := 0; i < e.N; i++ {
		for d, v := range e.Point(i) {
			row[d] = strconv.FormatFloat(float64(v), 'g', -1, 32)
		}
		if e.Labels != nil {
			row[e.Dim] = strconv.Itoa(e.Labels[i])
			row[e.Dim+1] = e.ClassName(i)
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func coordNames(dim int) []string {
	if dim == 2 {
		return []string{"x", "y"}
	}
	names := make([]string, dim)
	for d := range names {
		names[d] = "z" + strconv.Itoa(d)
	}
	return names
}

// Save writes the embedding to path, as .npy or .csv by the file's extension.
// The file is written to a temporary name and renamed, so a crash never
// leaves a half-written file.
func (e *Embedding) Save(path string) error {
	var write func(io.Writer) error
	switch strings.ToLower(filepath.Ext(path)) {
	case ".npy":
		write = e.WriteNPY
	case ".csv":
		write = e.WriteCSV
	default:
		return fmt.Errorf("embedding: saving %q: unknown extension, want .npy or .csv", path)
	}
	return writeFileAtomic(path, write)
}

// writeFileAtomic writes path through a temporary file in the same folder.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("embedding: saving %q: %w", path, err)
	}
	tmp := f.Name()
	bw := bufio.NewWriter(f)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		// CreateTemp makes the file private (0600); results are for sharing.
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("embedding: saving %q: %w", path, err)
	}
	return nil
}

// ReadNPY reads a float32 or float64 NumPy array of shape (N, Dim) (or (N,),
// read as Dim 1). Labels are not stored in .npy files.
func ReadNPY(r io.Reader) (*Embedding, error) {
	nr, err := npy.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("embedding: reading .npy: %w", err)
	}
	shape := nr.Header.Descr.Shape
	if nr.Header.Descr.Fortran {
		return nil, fmt.Errorf("embedding: reading .npy: Fortran-ordered arrays are not supported")
	}
	n, dim := 0, 1
	switch len(shape) {
	case 1:
		n = shape[0]
	case 2:
		n, dim = shape[0], shape[1]
	default:
		return nil, fmt.Errorf("embedding: reading .npy: shape %v, want (N, Dim)", shape)
	}
	var pts []float32
	dtype := strings.Trim(nr.Header.Descr.Type, `'"`)
	switch dtype {
	case "<f4":
		err = nr.Read(&pts)
	case "<f8":
		var p64 []float64
		err = nr.Read(&p64)
		pts = make([]float32, len(p64))
		for i, v := range p64 {
			pts[i] = float32(v)
		}
	default:
		return nil, fmt.Errorf("embedding: reading .npy: dtype %q, want float32 (<f4) or float64 (<f8)", dtype)
	}
	if err != nil {
		return nil, fmt.Errorf("embedding: reading .npy data: %w", err)
	}
	e := &Embedding{Points: pts, N: n, Dim: dim}
	return e, e.Validate()
}

// ReadCSV reads a file written by WriteCSV: coordinate columns first, then
// optional "label" and "class" columns.
func ReadCSV(r io.Reader) (*Embedding, error) {
	cr := csv.NewReader(r)
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("embedding: reading CSV header: %w", err)
	}
	dim, labelCol, classCol := 0, -1, -1
	for i, h := range header {
		switch strings.TrimSpace(strings.ToLower(h)) {
		case "label":
			labelCol = i
		case "class":
			classCol = i
		default:
			if labelCol >= 0 || classCol >= 0 || i != dim {
				return nil, fmt.Errorf("embedding: CSV column %d %q: coordinates must come first", i+1, h)
			}
			dim++
		}
	}
	if dim == 0 {
		return nil, fmt.Errorf("embedding: CSV has no coordinate columns")
	}
	e := &Embedding{Dim: dim}
	names := map[int]string{}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("embedding: CSV line %d: %w", line, err)
		}
		for d := 0; d < dim; d++ {
			v, err := strconv.ParseFloat(strings.TrimSpace(rec[d]), 32)
			if err != nil {
				return nil, fmt.Errorf("embedding: CSV line %d column %d: %w", line, d+1, err)
			}
			e.Points = append(e.Points, float32(v))
		}
		if labelCol >= 0 {
			l, err := strconv.Atoi(strings.TrimSpace(rec[labelCol]))
			if err != nil || l < 0 {
				return nil, fmt.Errorf("embedding: CSV line %d: bad label %q", line, rec[labelCol])
			}
			e.Labels = append(e.Labels, l)
			if classCol >= 0 {
				names[l] = rec[classCol]
			}
		}
		e.N++
	}
	if len(names) > 0 {
		maxL := 0
		for l := range names {
			maxL = max(maxL, l)
		}
		e.ClassNames = make([]string, maxL+1)
		for l, n := range names {
			e.ClassNames[l] = n
		}
	}
	return e, e.Validate()
}

// Load reads an embedding from a .npy or .csv file.
func Load(path string) (*Embedding, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("embedding: %w", err)
	}
	defer f.Close()
	var e *Embedding
	switch strings.ToLower(filepath.Ext(path)) {
	case ".npy":
		e, err = ReadNPY(bufio.NewReader(f))
	case ".csv":
		e, err = ReadCSV(bufio.NewReader(f))
	default:
		return nil, fmt.Errorf("embedding: loading %q: unknown extension, want .npy or .csv", path)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return e, nil
}
