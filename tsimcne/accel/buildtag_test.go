package accel

import (
	"go/build"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestBuildTagCompilesOutInternals checks, for both builds, which files the
// noaccel build tag leaves out: with it, no compiled file of the package
// (tests included) has a go:linkname directive, and without it the file
// that links simplego's internals is compiled.
func TestBuildTagCompilesOutInternals(t *testing.T) {
	for _, tags := range [][]string{nil, {BuildTag}} {
		ctx := build.Default
		ctx.BuildTags = append(slices.Clone(ctx.BuildTags), tags...)
		pkg, err := ctx.ImportDir(".", 0)
		if err != nil {
			t.Fatalf("tags %v: %v", tags, err)
		}
		files := slices.Concat(pkg.GoFiles, pkg.TestGoFiles, pkg.XTestGoFiles)
		var linked []string
		for _, name := range files {
			src, err := os.ReadFile(filepath.Join(pkg.Dir, name))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(src), "\n//go:linkname ") {
				linked = append(linked, name)
			}
		}
		switch {
		case len(tags) > 0 && len(linked) > 0:
			t.Errorf("with -tags %s, %v (go:linkname) are compiled", BuildTag, linked)
		case len(tags) > 0 && !slices.Contains(pkg.GoFiles, "noaccel.go"):
			t.Errorf("with -tags %s, noaccel.go is not compiled: %v", BuildTag, pkg.GoFiles)
		case len(tags) == 0 && !slices.Equal(linked, []string{"simplego_internals.go"}):
			t.Errorf("without -tags %s, the files with go:linkname are %v, want [simplego_internals.go]", BuildTag, linked)
		case len(tags) == 0 && slices.Contains(pkg.GoFiles, "noaccel.go"):
			t.Errorf("without -tags %s, noaccel.go is compiled", BuildTag)
		}
	}
}
