package data

import (
	"fmt"
	"os"
	"path/filepath"
)

// EnvDataDir is the environment variable that overrides the data folder
// (see DataDir).
const EnvDataDir = "TSIMCNE_DATA"

// DataDir returns the folder where data sets are kept and downloaded to:
//
//   - $TSIMCNE_DATA if that environment variable is set (a relative path is
//     made absolute against the current directory);
//   - otherwise gosimcne under the user's cache folder (os.UserCacheDir):
//     ~/.cache/gosimcne on Linux (or $XDG_CACHE_HOME/gosimcne),
//     ~/Library/Caches/gosimcne on macOS, %LocalAppData%\gosimcne on Windows.
//
// The layout below it is the one of the official archives, so files can be
// put there by hand:
//
//	<DataDir>/cifar-10-batches-bin/data_batch_1.bin ... test_batch.bin, batches.meta.txt
//	<DataDir>/cifar-100-binary/train.bin, test.bin, coarse_label_names.txt, fine_label_names.txt
//	<DataDir>/fashion-mnist/train-images-idx3-ubyte.gz ... (also gunzipped)
//	<DataDir>/mnist/train-images-idx3-ubyte.gz ...
//
// The folder is not created; the downloaders (EnsureCIFAR10, EnsureCIFAR100)
// create it when they need it.
func DataDir() (string, error) {
	if d := os.Getenv(EnvDataDir); d != "" {
		abs, err := filepath.Abs(d)
		if err != nil {
			return "", fmt.Errorf("data: $%s=%q: %w", EnvDataDir, d, err)
		}
		return abs, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("data: no data folder: set $%s or $HOME (%w)", EnvDataDir, err)
	}
	return filepath.Join(cache, "gosimcne"), nil
}

// resolveDir returns dir, or DataDir() when dir is empty.
func resolveDir(dir string) (string, error) {
	if dir != "" {
		return dir, nil
	}
	return DataDir()
}
