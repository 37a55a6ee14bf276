package main

import (
	"fmt"
	"os"
	"path/filepath"
)

// describeFiles returns "name (size)" for each file, for the final report.
func describeFiles(paths []string) []string {
	var out []string
	for _, p := range paths {
		s := filepath.Base(p)
		if fi, err := os.Stat(p); err == nil {
			s += " (" + humanSize(fi.Size()) + ")"
		}
		out = append(out, s)
	}
	return out
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}
