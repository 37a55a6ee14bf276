package lab

import (
	"fmt"
	"image/png"
	"os"
	"path/filepath"

	"github.com/gosimcne/gosimcne/tsimcne/data"
)

// ExampleFolder writes images of ds as PNG files into dir, one sub-folder
// per class (dir/<class>/<index>.png), the layout data.LoadImageFolder and
// `tsimcne train -dataset folder:DIR` read: a stand-in for a folder of
// one's own photographs where none is at hand. Images idx of ds are
// written (all for nil); an existing dir is replaced. It returns dir.
func ExampleFolder(dir string, ds *data.Dataset, idx []int) (string, error) {
	if idx == nil {
		idx = make([]int, ds.N)
		for i := range idx {
			idx[i] = i
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return "", fmt.Errorf("lab: ExampleFolder: %w", err)
	}
	for _, i := range idx {
		class := "unlabelled"
		if ds.Labels != nil && len(ds.ClassNames) > ds.Labels[i] {
			class = ds.ClassNames[ds.Labels[i]]
		}
		sub := filepath.Join(dir, class)
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return "", fmt.Errorf("lab: ExampleFolder: %w", err)
		}
		f, err := os.Create(filepath.Join(sub, fmt.Sprintf("%05d.png", i)))
		if err != nil {
			return "", fmt.Errorf("lab: ExampleFolder: %w", err)
		}
		if err := png.Encode(f, ds.ToImage(i)); err != nil {
			f.Close()
			return "", fmt.Errorf("lab: ExampleFolder: image %d: %w", i, err)
		}
		if err := f.Close(); err != nil {
			return "", fmt.Errorf("lab: ExampleFolder: %w", err)
		}
	}
	return dir, nil
}
