package main

import (
	"fmt"
	"os"
	"path/filepath"
)

// describeFiles returns "name (size)" for each file, for the final report;
// a folder's size is that of the files in it, with their number.
func describeFiles(paths []string) []string {
	var out []string
	for _, p := range paths {
		s := filepath.Base(p)
		fi, err := os.Stat(p)
		switch {
		case err == nil && fi.IsDir():
			if ents, err := os.ReadDir(p); err == nil {
				var total int64
				for _, e := range ents {
					if info, err := e.Info(); err == nil && info.Mode().IsRegular() {
						total += info.Size()
					}
				}
				s += fmt.Sprintf("/ (%d files, %s)", len(ents), humanSize(total))
			}
		case err == nil:
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
