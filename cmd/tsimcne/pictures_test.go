package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestDescribeFiles: a file shows its size, a folder the number and total
// size of its files, a missing path its name alone.
func TestDescribeFiles(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "map.html"), make([]byte, 3000), 0o644); err != nil {
		t.Fatal(err)
	}
	sheets := filepath.Join(dir, "map_files")
	if err := os.Mkdir(sheets, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a.jpg", "b.jpg"} {
		if err := os.WriteFile(filepath.Join(sheets, n), make([]byte, 1<<20), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got := describeFiles([]string{filepath.Join(dir, "map.html"), sheets, filepath.Join(dir, "gone.png")})
	want := []string{"map.html (2 KB)", "map_files/ (2 files, 2.0 MB)", "gone.png"}
	if !slices.Equal(got, want) {
		t.Errorf("describeFiles: %q, want %q", got, want)
	}
}
