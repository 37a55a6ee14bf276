// Package notebooks_test checks the GoNB notebooks of this folder.
//
// Two checks:
//
//   - TestCommittedNotebooks (always, milliseconds): every .ipynb is a valid
//     GoNB notebook under MaxNotebookBytes, committed with the outputs of a
//     clean run: every code cell executed, no error output, no panic, and the
//     pictures each notebook is expected to show.
//   - TestExecuteNotebooks (long: about 12 minutes on 2 cores): executes every
//     notebook headless with `jupyter nbconvert --execute` into a temporary
//     folder (the committed files are not touched) and applies the same checks
//     to the result. nbconvert exits 0 when a cell panics or calls os.Exit, so
//     the executed notebook is read, not just the exit status. It runs when
//     `jupyter` and the gonb kernel are installed (scripts/install-gonb.sh) and
//     skips otherwise, or fails when $TSIMCNE_REQUIRE_NOTEBOOKS=1 (CI). It is
//     skipped with -short, and needs a -timeout of 40m or more.
//
// To refresh the committed outputs after editing a notebook:
//
//	go test ./notebooks -run TestExecuteNotebooks -timeout 60m -update
//
// which copies each executed notebook over the committed one only if all of
// its checks passed.
package notebooks_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gosimcne/gosimcne/internal/datatest"
	"github.com/gosimcne/gosimcne/tsimcne/data"
)

var update = flag.Bool("update", false, "TestExecuteNotebooks: copy each executed notebook over the committed one when its checks pass")

// MaxNotebookBytes is the largest committed notebook allowed (outputs
// included), so that the notebooks stay quick to load on a code host.
const MaxNotebookBytes = 3 << 20

// EnvRequireNotebooks turns a missing Jupyter or GoNB from a skipped
// TestExecuteNotebooks into a failed one (CI sets it to "1").
const EnvRequireNotebooks = "TSIMCNE_REQUIRE_NOTEBOOKS"

// expectation is what a notebook must show.
type expectation struct {
	// minPictures is the least number of picture outputs (PNG, SVG, or
	// HTML holding <img>, <svg>, <canvas> or an <iframe> page).
	minPictures int
	// texts must each occur in the text outputs (stdout, text/plain,
	// text/markdown or text/html).
	texts []string
}

// expected lists the notebooks of this folder; each must exist. A notebook
// not listed must show at least one picture.
var expected = map[string]expectation{
	"quickstart.ipynb":    {minPictures: 4, texts: []string{"kNN accuracy", "Trained on"}},
	"method.ipynb":        {minPictures: 8, texts: []string{"after stage 3", "repulsion"}},
	"cifar10_map.ipynb":   {minPictures: 5, texts: []string{"kNN accuracy", "interactive page"}},
	"own_images.ipynb":    {minPictures: 4, texts: []string{"Trained on", "new images: kNN accuracy"}},
	"paper_figures.ipynb": {minPictures: 2, texts: []string{"pixel space", "Cauchy map above pixel space"}},
}

// executeTimeout bounds the execution of one notebook; the notebooks
// together take about 12 minutes on 2 shared cores.
const executeTimeout = 25 * time.Minute

// minTestTime is the least time go test's -timeout must leave for
// TestExecuteNotebooks to start.
const minTestTime = 30 * time.Minute

// cellTimeout is nbconvert's limit for one cell, in seconds.
const cellTimeout = 900

// notebook is the part of the .ipynb format (nbformat 4) that is checked.
type notebook struct {
	NBFormat int `json:"nbformat"`
	Metadata struct {
		KernelSpec struct {
			Name string `json:"name"`
		} `json:"kernelspec"`
	} `json:"metadata"`
	Cells []cell `json:"cells"`
}

type cell struct {
	CellType       string   `json:"cell_type"`
	Source         text     `json:"source"`
	ExecutionCount *int     `json:"execution_count"`
	Outputs        []output `json:"outputs"`
}

type output struct {
	OutputType string          `json:"output_type"`
	Name       string          `json:"name"` // stream: stdout or stderr
	Text       text            `json:"text"`
	Data       map[string]text `json:"data"`
	EName      string          `json:"ename"`
	EValue     string          `json:"evalue"`
	Traceback  []string        `json:"traceback"`
}

// text is a multi-line string of the .ipynb format: a string or a list of
// strings to be joined.
type text string

func (t *text) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*t = text(s)
		return nil
	}
	var parts []string
	if err := json.Unmarshal(b, &parts); err != nil {
		// Non-text data (e.g. application/json): keep it raw.
		*t = text(b)
		return nil
	}
	*t = text(strings.Join(parts, ""))
	return nil
}

// report is what checkNotebook finds in a notebook.
type report struct {
	// problems are failures: errors, panics, unexecuted cells.
	problems []string
	// pictures counts the picture outputs.
	pictures int
	// texts holds all text output, for the expected strings.
	texts strings.Builder
}

// exitStatus matches the line GoNB writes to stderr when a cell's program
// (or a !shell command) exits with a non-zero status.
var exitStatus = regexp.MustCompile(`(?m)^exit status \d+\s*\z`)

// pictureHTML matches HTML outputs that show a picture.
var pictureHTML = regexp.MustCompile(`(?i)<(img|svg|canvas|iframe)[\s>]`)

// parseNotebook decodes an .ipynb file's content.
func parseNotebook(b []byte) (*notebook, error) {
	var nb notebook
	if err := json.Unmarshal(b, &nb); err != nil {
		return nil, fmt.Errorf("not a valid notebook (JSON): %w", err)
	}
	if nb.NBFormat != 4 {
		return nil, fmt.Errorf("nbformat %d, want 4", nb.NBFormat)
	}
	return &nb, nil
}

// checkNotebook inspects the outputs of an executed notebook.
func checkNotebook(nb *notebook) *report {
	r := &report{}
	if nb.Metadata.KernelSpec.Name != "gonb" {
		r.problems = append(r.problems, fmt.Sprintf("kernel %q, want gonb", nb.Metadata.KernelSpec.Name))
	}
	codeCell := 0
	for i, c := range nb.Cells {
		if c.CellType != "code" {
			continue
		}
		codeCell++
		where := fmt.Sprintf("cell %d (code cell %d, %q)", i, codeCell, firstLine(string(c.Source)))
		if strings.TrimSpace(string(c.Source)) != "" && c.ExecutionCount == nil {
			r.problems = append(r.problems, where+": not executed")
		}
		for _, o := range c.Outputs {
			switch o.OutputType {
			case "error":
				r.problems = append(r.problems, fmt.Sprintf("%s: error %s: %s\n%s", where, o.EName, o.EValue,
					strings.Join(o.Traceback, "\n")))
			case "stream":
				s := string(o.Text)
				if o.Name == "stderr" && (strings.Contains(s, "panic:") || exitStatus.MatchString(s)) {
					r.problems = append(r.problems, fmt.Sprintf("%s: failed, stderr:\n%s", where, tail(s, 3000)))
				}
				if o.Name == "stdout" {
					r.texts.WriteString(s)
				}
			case "display_data", "execute_result", "update_display_data":
				if isPicture(o.Data) {
					r.pictures++
				}
				for _, mime := range []string{"text/plain", "text/markdown", "text/html"} {
					r.texts.WriteString(string(o.Data[mime]))
				}
			}
		}
	}
	return r
}

// isPicture reports whether a display output shows a picture.
func isPicture(d map[string]text) bool {
	if len(d["image/png"]) > 0 || len(d["image/jpeg"]) > 0 || len(d["image/svg+xml"]) > 0 {
		return true
	}
	return pictureHTML.MatchString(string(d["text/html"]))
}

// verify applies checkNotebook and the expectations of name to nb.
func verify(name string, nb *notebook) []string {
	r := checkNotebook(nb)
	problems := r.problems
	exp, ok := expected[name]
	if !ok {
		exp = expectation{minPictures: 1}
	}
	if r.pictures < exp.minPictures {
		problems = append(problems, fmt.Sprintf("%d pictures shown, want at least %d", r.pictures, exp.minPictures))
	}
	all := r.texts.String()
	for _, s := range exp.texts {
		if !strings.Contains(all, s) {
			problems = append(problems, fmt.Sprintf("no output contains %q", s))
		}
	}
	return problems
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 60 {
		s = s[:60] + "..."
	}
	return s
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// notebookFiles returns the .ipynb files of this folder, sorted, and checks
// that every expected notebook is there.
func notebookFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.ipynb")
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	have := map[string]bool{}
	for _, f := range files {
		have[f] = true
	}
	for name := range expected {
		if !have[name] {
			t.Errorf("notebook %s is missing", name)
		}
	}
	return files
}

// TestCommittedNotebooks checks the notebooks as committed: size, format,
// and the outputs of a clean run (see the package documentation).
func TestCommittedNotebooks(t *testing.T) {
	for _, name := range notebookFiles(t) {
		t.Run(strings.TrimSuffix(name, ".ipynb"), func(t *testing.T) {
			b, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			if len(b) >= MaxNotebookBytes {
				t.Errorf("%s is %.2f MB, want < %.0f MB: make its pictures smaller", name,
					float64(len(b))/(1<<20), float64(MaxNotebookBytes)/(1<<20))
			}
			nb, err := parseNotebook(b)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			for _, p := range verify(name, nb) {
				t.Errorf("%s as committed: %s\n(run it again: see the package documentation)", name, p)
			}
		})
	}
}

// TestCheckNotebook makes sure the checker catches the failures nbconvert
// does not report: a panic, an exit status, an error output, an unexecuted
// cell, missing pictures.
func TestCheckNotebook(t *testing.T) {
	one := 1
	mk := func(outs ...output) *notebook {
		nb := &notebook{NBFormat: 4}
		nb.Metadata.KernelSpec.Name = "gonb"
		nb.Cells = []cell{{CellType: "markdown", Source: "# Title"},
			{CellType: "code", Source: "%%\nfmt.Println(1)", ExecutionCount: &one, Outputs: outs}}
		return nb
	}
	png := output{OutputType: "display_data", Data: map[string]text{"image/png": "iVBOR"}}
	svg := output{OutputType: "display_data", Data: map[string]text{"text/html": `<div><svg width="3"></svg></div>`}}
	iframe := output{OutputType: "display_data", Data: map[string]text{"text/html": `<iframe srcdoc="..."></iframe>`}}
	plain := output{OutputType: "display_data", Data: map[string]text{"text/html": `<b>kNN accuracy</b> 0.5`}}
	logs := output{OutputType: "stream", Name: "stderr", Text: "I1125 GoNB log line\n"}
	cases := []struct {
		name     string
		nb       *notebook
		problems int
		pictures int
	}{
		{"clean", mk(png, svg, iframe, plain, logs), 0, 3},
		{"panic", mk(png, output{OutputType: "stream", Name: "stderr", Text: "panic: boom\n\ngoroutine 1 [running]:\n"}), 1, 1},
		{"exit status", mk(output{OutputType: "stream", Name: "stderr", Text: "cannot load data\nexit status 3\n"}), 1, 0},
		{"exit status mid-text is fine", mk(output{OutputType: "stream", Name: "stderr", Text: "exit status 3 is documented\nmore\n"}), 0, 0},
		{"error output", mk(output{OutputType: "error", EName: "ERROR", EValue: "compile failed"}), 1, 0},
		{"stdout panic text is fine", mk(output{OutputType: "stream", Name: "stdout", Text: "we never panic: see\n"}), 0, 0},
	}
	for _, c := range cases {
		r := checkNotebook(c.nb)
		if len(r.problems) != c.problems || r.pictures != c.pictures {
			t.Errorf("%s: %d problems %q and %d pictures, want %d and %d", c.name, len(r.problems), r.problems,
				r.pictures, c.problems, c.pictures)
		}
	}

	unexecuted := mk()
	unexecuted.Cells[1].ExecutionCount = nil
	if r := checkNotebook(unexecuted); len(r.problems) != 1 || !strings.Contains(r.problems[0], "not executed") {
		t.Errorf("unexecuted cell: problems %q", r.problems)
	}
	python := mk()
	python.Metadata.KernelSpec.Name = "python3"
	if r := checkNotebook(python); len(r.problems) != 1 {
		t.Errorf("python kernel: problems %q", r.problems)
	}
	trained := output{OutputType: "stream", Name: "stdout", Text: "Trained on 10 images"}
	if p := verify("quickstart.ipynb", mk(png, plain, trained)); len(p) != 1 || !strings.Contains(p[0], "pictures") {
		t.Errorf("quickstart with one picture: problems %q, want one about pictures", p)
	}
	if p := verify("quickstart.ipynb", mk(png, png, png, png, trained)); len(p) != 1 || !strings.Contains(p[0], "kNN accuracy") {
		t.Errorf("quickstart without its text: problems %q, want one about the text", p)
	}

	// Both forms of multi-line text of the format.
	nb, err := parseNotebook([]byte(`{"nbformat": 4, "metadata": {"kernelspec": {"name": "gonb"}}, "cells": [
		{"cell_type": "code", "execution_count": 2, "source": ["%%\n", "panic(1)"], "outputs": [
			{"output_type": "stream", "name": "stderr", "text": ["pan", "ic: 1\n"]},
			{"output_type": "display_data", "data": {"image/png": "iVBOR", "application/json": {"a": 1}}}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if r := checkNotebook(nb); len(r.problems) != 1 || r.pictures != 1 {
		t.Errorf("parsed notebook: problems %q, %d pictures; want 1 problem, 1 picture", r.problems, r.pictures)
	}
	if _, err := parseNotebook([]byte(`{"nbformat": 3}`)); err == nil {
		t.Error("nbformat 3 accepted")
	}
}

// needJupyter returns the jupyter command, or skips (fails with
// $TSIMCNE_REQUIRE_NOTEBOOKS=1) when it or the gonb kernel is missing.
func needJupyter(t *testing.T) string {
	t.Helper()
	missing := func(msg string) {
		t.Helper()
		msg += ": install Jupyter (apt-get install jupyter-nbconvert python3-nbclient jupyter-client) " +
			"and GoNB (scripts/install-gonb.sh); see notebooks/README.md"
		if os.Getenv(EnvRequireNotebooks) == "1" {
			t.Fatalf("%s (%s=1)", msg, EnvRequireNotebooks)
		}
		t.Skip(msg)
	}
	jupyter, err := exec.LookPath("jupyter")
	if err != nil {
		missing("jupyter not found on $PATH")
	}
	out, err := exec.Command(jupyter, "kernelspec", "list").CombinedOutput()
	if err != nil {
		missing(fmt.Sprintf("`jupyter kernelspec list` failed: %v\n%s", err, out))
	}
	if !regexp.MustCompile(`(?m)^\s*gonb\s`).Match(out) {
		missing("the gonb Jupyter kernel is not installed")
	}
	if _, err := exec.LookPath("jupyter-nbconvert"); err != nil {
		missing("jupyter-nbconvert not found on $PATH")
	}
	return jupyter
}

// TestExecuteNotebooks executes every notebook headless and checks the
// result (see the package documentation).
func TestExecuteNotebooks(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: not executing the notebooks (about 12 minutes)")
	}
	jupyter := needJupyter(t)
	dataDir := datatest.NeedTestData(t, data.CIFAR10Folder, "test_batch.bin")
	dataDir = filepath.Dir(filepath.Dir(dataDir))
	if dataDir, err := filepath.Abs(dataDir); err == nil {
		// The kernels run in this folder: a relative path would not do.
		t.Setenv(data.EnvDataDir, dataDir)
	}
	files := notebookFiles(t)
	if deadline, ok := t.Deadline(); ok && time.Until(deadline) < minTestTime {
		msg := fmt.Sprintf("go test's -timeout leaves %v, too little to execute %d notebooks: use -timeout 60m",
			time.Until(deadline).Round(time.Second), len(files))
		if os.Getenv(EnvRequireNotebooks) == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}

	before := folderDigest(t)
	out := t.TempDir()
	start := time.Now()
	for _, name := range files {
		t.Run(strings.TrimSuffix(name, ".ipynb"), func(t *testing.T) {
			executed, took := execute(t, jupyter, name, out)
			t.Logf("%s executed in %.0f s", name, took.Seconds())
			b, err := os.ReadFile(executed)
			if err != nil {
				t.Fatal(err)
			}
			nb, err := parseNotebook(b)
			if err != nil {
				t.Fatalf("executed %s: %v", name, err)
			}
			problems := verify(name, nb)
			for _, p := range problems {
				t.Errorf("%s: %s", name, p)
			}
			if len(b) >= MaxNotebookBytes {
				t.Errorf("executed %s is %.2f MB, want < %.0f MB", name, float64(len(b))/(1<<20),
					float64(MaxNotebookBytes)/(1<<20))
			}
			if *update && !t.Failed() {
				if err := os.WriteFile(name, b, 0o644); err != nil {
					t.Fatal(err)
				}
				t.Logf("%s updated with the outputs of this run", name)
			}
		})
	}
	t.Logf("all notebooks executed in %.0f s", time.Since(start).Seconds())
	if !*update {
		if after := folderDigest(t); after != before {
			t.Errorf("executing the notebooks changed the files of the notebooks folder:\nbefore:\n%s\nafter:\n%s", before, after)
		}
	}
}

// execute runs nbconvert on name, writing the executed notebook into dir,
// and returns its path and how long it took.
func execute(t *testing.T, jupyter, name, dir string) (string, time.Duration) {
	t.Helper()
	base := strings.TrimSuffix(name, ".ipynb") + ".executed"
	ctx, cancel := context.WithTimeout(context.Background(), executeTimeout)
	defer cancel()
	// The kernel runs in the notebook's folder (nbconvert's default), which
	// is what the notebooks' go.work cell relies on.
	cmd := exec.CommandContext(ctx, jupyter, "nbconvert", "--to", "notebook", "--execute",
		fmt.Sprintf("--ExecutePreprocessor.timeout=%d", cellTimeout),
		"--ExecutePreprocessor.record_timing=False",
		"--output-dir", dir, "--output", base, name)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	if ctx.Err() != nil {
		t.Fatalf("%s: not done after %v\n%s", name, executeTimeout, tail(stderr.String(), 4000))
	}
	if err != nil {
		// A cell that does not compile, or a failing kernel.
		t.Fatalf("%s: nbconvert failed (%v) after %.0f s:\n%s", name, err, took.Seconds(),
			tail(cleanLog(stderr.String()), 6000))
	}
	return filepath.Join(dir, base+".ipynb"), took
}

// cleanLog drops GoNB's log lines (glog format, "I1125 22:16:31.32 ...")
// from nbconvert's output, keeping the error report.
func cleanLog(s string) string {
	glog := regexp.MustCompile(`^[IWE]\d{4} \d\d:\d\d:\d\d\.\d+ `)
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if !glog.MatchString(l) {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// folderDigest returns the names and SHA-256 of the files of this folder.
func folderDigest(t *testing.T) string {
	t.Helper()
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for _, e := range entries {
		if e.IsDir() {
			fmt.Fprintf(&sb, "%s/\n", e.Name())
			continue
		}
		b, err := os.ReadFile(e.Name())
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&sb, "%s %x\n", e.Name(), sha256.Sum256(b))
	}
	return sb.String()
}
