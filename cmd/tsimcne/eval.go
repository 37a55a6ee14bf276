package main

import (
	"bufio"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"codeberg.org/sbinet/npyio/npy"

	"github.com/gosimcne/gosimcne/tsimcne"
	"github.com/gosimcne/gosimcne/tsimcne/embedding"
	"github.com/gosimcne/gosimcne/tsimcne/knn"
	"github.com/gosimcne/gosimcne/tsimcne/runs"
)

func evalCommand() *command {
	return &command{
		name:     "eval",
		synopsis: "kNN accuracy of a run's map, or of any embedding file",
		usage:    "tsimcne eval -run DIR [-k 15] | tsimcne eval -embedding FILE [-labels FILE] [-test FILE [-test-labels FILE]] [-k 15]",
		help: `Computes the kNN classification accuracy of a map, as in the paper: each test
point gets the majority label of its k nearest (Euclidean) reference points.

With -run it reads the run folder's embedding_train.csv (reference) and
embedding_test.csv (test) and writes <run>/eval_k<k>.json.

With -embedding it reads a .csv (x, y[, ...], label, class: labels included) or
a .npy file (labels from -labels: a .npy integer array, or a text file with one
label, a number or a class name, per line). With -test the test points come
from that file; otherwise a stratified random -holdout part of the points is
held out (the paper's evaluation). The result goes to -json (default
<embedding>_eval_k<k>.json).`,
		examples: `  tsimcne eval -run runs/cifar10-cpu
  tsimcne eval -run runs/cifar10-cpu -k 5
  tsimcne eval -embedding all.npy -labels labels.txt -holdout 10000
  tsimcne eval -embedding train.csv -test test.csv -json knn.json`,
		flags: func(fs *flag.FlagSet) { new(evalOptions).define(fs) },
		run:   runEval,
	}
}

type evalOptions struct {
	run        string
	emb        string
	labels     string
	test       string
	testLabels string
	k          int
	holdout    int
	seed       uint64
	json       string
}

func (o *evalOptions) define(fs *flag.FlagSet) {
	fs.StringVar(&o.run, "run", "", "run `folder` written by train")
	fs.StringVar(&o.emb, "embedding", "", "embedding `file` (.csv with labels, or .npy with -labels)")
	fs.StringVar(&o.labels, "labels", "", "labels `file` for -embedding: .npy integers, or text with one label per line")
	fs.StringVar(&o.test, "test", "", "test embedding `file`; without it a part of -embedding is held out")
	fs.StringVar(&o.testLabels, "test-labels", "", "labels `file` for -test")
	fs.IntVar(&o.k, "k", knn.DefaultK, "number of neighbours")
	fs.IntVar(&o.holdout, "holdout", 0, "points held out of -embedding when there is no -test (default min(10000, N/6))")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the held-out split")
	fs.StringVar(&o.json, "json", "", "write the result to this JSON `file` (default eval_k<k>.json in the run folder, or next to -embedding)")
}

// evalReport is the JSON written by eval.
type evalReport struct {
	tsimcne.Evaluation
	// BalancedAccuracy is the mean of the per-class accuracies.
	BalancedAccuracy float64 `json:"balanced_accuracy"`
	// Mode is "train->test" or "holdout"; Train and Test name the files.
	Mode  string `json:"mode"`
	Train string `json:"train"`
	Test  string `json:"test,omitempty"`
	Seed  uint64 `json:"seed,omitempty"`
	// Superclass is the accuracy on CIFAR-100's 20 superclasses (eval -run
	// of a CIFAR-100 run).
	Superclass *float64 `json:"knn_accuracy_map_superclass,omitempty"`
}

func runEval(e *env, args []string) error {
	var o evalOptions
	fset := flag.NewFlagSet("eval", flag.ContinueOnError)
	o.define(fset)
	if err := parseFlags(fset, e, args); err != nil {
		return err
	}
	switch {
	case (o.run == "") == (o.emb == ""):
		return usagef("give either -run or -embedding")
	case o.run != "" && (o.labels != "" || o.test != "" || o.testLabels != ""):
		return usagef("-labels, -test and -test-labels go with -embedding, not -run")
	case o.k < 1:
		return usagef("-k must be at least 1")
	case o.holdout < 0:
		return usagef("-holdout must be >= 0")
	case o.testLabels != "" && o.test == "":
		return usagef("-test-labels needs -test")
	}
	rep := evalReport{}
	var train, test *embedding.Embedding
	var err error
	jsonPath := o.json
	if o.run != "" {
		trainPath := filepath.Join(o.run, runs.TrainEmbedding+".csv")
		testPath := filepath.Join(o.run, runs.TestEmbedding+".csv")
		if train, err = embedding.Load(trainPath); err != nil {
			return fmt.Errorf("%w (is %s a finished run folder?)", err, o.run)
		}
		if test, err = embedding.Load(testPath); err != nil {
			return fmt.Errorf("%w (the run has no test images: was it trained on unlabelled images?)", err)
		}
		rep.Mode, rep.Train, rep.Test = "train->test", trainPath, testPath
		if jsonPath == "" {
			jsonPath = filepath.Join(o.run, fmt.Sprintf("eval_k%d.json", o.k))
		}
	} else {
		if train, err = loadLabelled(o.emb, o.labels); err != nil {
			return err
		}
		rep.Train = o.emb
		if jsonPath == "" {
			jsonPath = strings.TrimSuffix(o.emb, filepath.Ext(o.emb)) + fmt.Sprintf("_eval_k%d.json", o.k)
		}
		if o.test != "" {
			if test, err = loadLabelled(o.test, o.testLabels); err != nil {
				return err
			}
			rep.Mode, rep.Test = "train->test", o.test
		} else {
			n, err := runs.HoldoutSize(o.holdout, train.N, "points")
			if err != nil {
				return err
			}
			trIdx, teIdx, err := knn.HoldOutSplit(train.Labels, n, o.seed)
			if err != nil {
				return err
			}
			train, test = pickPoints(train, trIdx), pickPoints(train, teIdx)
			rep.Mode, rep.Seed = "holdout", o.seed
		}
	}
	if test.Dim != train.Dim {
		return fmt.Errorf("the reference points are %d-D and the test points %d-D: they must come from the same map", train.Dim, test.Dim)
	}
	if o.k > train.N {
		return fmt.Errorf("-k %d is more than the %d reference points", o.k, train.N)
	}
	res, err := knn.Accuracy(train.Points, train.Labels, test.Points, test.Labels, train.Dim, knn.WithK(o.k))
	if err != nil {
		return err
	}
	names := test.ClassNames
	if len(train.ClassNames) > len(names) {
		names = train.ClassNames
	}
	rep.Evaluation = tsimcne.Evaluation{K: o.k, NTrain: train.N, NTest: test.N, MapDim: train.Dim, MapAccuracy: res.Accuracy}
	rep.BalancedAccuracy = res.BalancedAccuracy
	for _, c := range res.PerClass {
		name := strconv.Itoa(c.Label)
		if c.Label < len(names) && names[c.Label] != "" {
			name = names[c.Label]
		}
		rep.MapPerClass = append(rep.MapPerClass, tsimcne.ClassAccuracy{Class: name, Accuracy: c.Accuracy, N: c.Total})
	}
	e.printf("kNN accuracy (k=%d, %s, %d-D, %d -> %d points): %.4f (balanced %.4f)\n",
		o.k, rep.Mode, train.Dim, train.N, test.N, res.Accuracy, res.BalancedAccuracy)
	printPerClass(e, rep.MapPerClass)
	if o.run != "" {
		if rep.Superclass, err = runSuperclassAccuracy(e, o.run, train, test, o.k); err != nil {
			return err
		}
		if rep.Superclass != nil {
			e.printf("superclass kNN accuracy: %.4f\n", *rep.Superclass)
		}
	}
	if err := tsimcne.WriteJSON(jsonPath, rep); err != nil {
		return err
	}
	e.printf("Wrote %s\n", jsonPath)
	return nil
}

func printPerClass(e *env, per []tsimcne.ClassAccuracy) {
	if len(per) > 20 {
		return
	}
	width := 0
	for _, c := range per {
		width = max(width, len(c.Class))
	}
	for _, c := range per {
		e.printf("  %-*s %.4f (%d)\n", width, c.Class, c.Accuracy, c.N)
	}
}

// pickPoints returns the points of e at idx.
func pickPoints(e *embedding.Embedding, idx []int) *embedding.Embedding {
	out := &embedding.Embedding{N: len(idx), Dim: e.Dim, ClassNames: e.ClassNames,
		Points: make([]float32, 0, len(idx)*e.Dim), Labels: make([]int, 0, len(idx))}
	for _, i := range idx {
		out.Points = append(out.Points, e.Point(i)...)
		out.Labels = append(out.Labels, e.Labels[i])
	}
	return out
}

// loadLabelled reads an embedding and, if labelsPath is set, its labels;
// an embedding without labels is an error.
func loadLabelled(path, labelsPath string) (*embedding.Embedding, error) {
	e, err := loadPoints(path, labelsPath)
	if err != nil {
		return nil, err
	}
	if e.Labels == nil {
		return nil, fmt.Errorf("%s has no labels: use a .csv with a label column, or pass a labels file", path)
	}
	return e, nil
}

// loadPoints reads an embedding (.npy or .csv) and, if labelsPath is set,
// its labels from there.
func loadPoints(path, labelsPath string) (*embedding.Embedding, error) {
	e, err := embedding.Load(path)
	if err != nil {
		return nil, err
	}
	if labelsPath != "" {
		labels, names, err := readLabels(labelsPath)
		if err != nil {
			return nil, err
		}
		if len(labels) != e.N {
			return nil, fmt.Errorf("%s has %d labels for the %d points of %s", labelsPath, len(labels), e.N, path)
		}
		e.Labels, e.ClassNames = labels, names
	}
	return e, nil
}

// readLabels reads labels from a .npy integer array, or from a text file
// with one label per line: integers, or class names (numbered in sorted
// order). A first line "label" or "class" is a header and skipped.
func readLabels(path string) ([]int, []string, error) {
	if strings.EqualFold(filepath.Ext(path), ".npy") {
		l, err := readNPYLabels(path)
		return l, nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	var words []string
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		w := strings.TrimSpace(sc.Text())
		if i := strings.IndexByte(w, ','); i >= 0 {
			w = strings.TrimSpace(w[:i]) // first column of a CSV
		}
		if line == 1 && (strings.EqualFold(w, "label") || strings.EqualFold(w, "class")) {
			continue
		}
		if w == "" {
			return nil, nil, fmt.Errorf("%s line %d: empty label", path, line)
		}
		words = append(words, w)
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	labels := make([]int, len(words))
	numeric := true
	for i, w := range words {
		n, err := strconv.Atoi(w)
		if err != nil || n < 0 {
			numeric = false
			break
		}
		labels[i] = n
	}
	if numeric {
		return labels, nil, nil
	}
	set := map[string]int{}
	for _, w := range words {
		set[w] = 0
	}
	names := sortedKeys(set)
	for i, n := range names {
		set[n] = i
	}
	for i, w := range words {
		labels[i] = set[w]
	}
	return labels, names, nil
}

// readNPYLabels reads a 1-D integer (or integral float) .npy array.
func readNPYLabels(path string) ([]int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := npy.NewReader(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if s := r.Header.Descr.Shape; len(s) != 1 && !(len(s) == 2 && s[1] == 1) {
		return nil, fmt.Errorf("%s: labels must be a 1-D array, got shape %v", path, s)
	}
	dtype := strings.Trim(r.Header.Descr.Type, `'"`)
	if len(dtype) < 3 {
		return nil, fmt.Errorf("%s: labels have dtype %q, want integers", path, dtype)
	}
	var out []int
	switch dtype[1:] {
	case "i8":
		out, err = readInts[int64](r)
	case "i4":
		out, err = readInts[int32](r)
	case "i2":
		out, err = readInts[int16](r)
	case "i1":
		out, err = readInts[int8](r)
	case "u8":
		out, err = readInts[uint64](r)
	case "u4":
		out, err = readInts[uint32](r)
	case "u2":
		out, err = readInts[uint16](r)
	case "u1":
		out, err = readInts[uint8](r)
	case "f8":
		out, err = readFloatLabels[float64](r)
	case "f4":
		out, err = readFloatLabels[float32](r)
	default:
		return nil, fmt.Errorf("%s: labels have dtype %s, want integers", path, dtype)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for i, l := range out {
		if l < 0 {
			return nil, fmt.Errorf("%s: label %d is negative (%d)", path, i, l)
		}
	}
	return out, nil
}

func readInts[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64](r *npy.Reader) ([]int, error) {
	var v []T
	if err := r.Read(&v); err != nil {
		return nil, err
	}
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out, nil
}

func readFloatLabels[T float32 | float64](r *npy.Reader) ([]int, error) {
	var v []T
	if err := r.Read(&v); err != nil {
		return nil, err
	}
	out := make([]int, len(v))
	for i, x := range v {
		if float64(x) != math.Trunc(float64(x)) {
			return nil, fmt.Errorf("label %d is %v, not a whole number", i, x)
		}
		out[i] = int(x)
	}
	return out, nil
}

// runSuperclassAccuracy is the superclass kNN accuracy of a CIFAR-100 run's
// maps (train, test: its embedding files), with the superclass labels of
// the run's images; nil for other data sets.
func runSuperclassAccuracy(e *env, runDir string, train, test *embedding.Embedding, k int) (*float64, error) {
	info, err := runs.ReadInfo(runDir)
	if err != nil || info.Data.Dataset != runs.CIFAR100 {
		return nil, nil // no run.json: the maps' own labels are all there is
	}
	info.Data.Warn = e.stderr
	rd, err := info.Data.Load()
	if err != nil {
		return nil, fmt.Errorf("superclass labels of the run's images: %w", err)
	}
	if rd.Test == nil || rd.Train.N != train.N || rd.Test.N != test.N {
		return nil, fmt.Errorf("superclass labels: the run's images (%d, %d) do not match its embedding files (%d, %d points)",
			rd.Train.N, testN(rd), train.N, test.N)
	}
	return runs.SuperclassAccuracy(train, test, rd.Train, rd.Test, k)
}

func testN(rd *runs.Images) int {
	if rd.Test == nil {
		return 0
	}
	return rd.Test.N
}
