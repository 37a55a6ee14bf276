package tsimcne

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/ml/context/checkpoints"
)

// Checkpoint checksums. GoMLX's checkpoints carry none, so a checkpoint
// damaged in place (a disk error, a bad copy) loads silently: in a test, 400
// bytes overwritten in a weights file gave a map collapsed to one point.
// After each save, Fit writes a sum file beside the checkpoint with the
// SHA-256 of its data and JSON files; the newest checkpoint is checked
// against it before it is loaded. Checkpoints without a sum file (written
// by earlier versions) are loaded as before.

// checksumSuffix names a checkpoint's sum file.
const checksumSuffix = ".sha256"

// checkpointSums is the content of a sum file.
type checkpointSums struct {
	JSON string `json:"json_sha256"`
	Bin  string `json:"bin_sha256"`
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// writeChecksums writes the sum file of the newest checkpoint in dir and
// removes the sum files of checkpoints that no longer exist.
func writeChecksums(dir string) error {
	names, err := checkpointFiles(dir)
	if err != nil || len(names) == 0 {
		return err
	}
	base := filepath.Join(dir, names[len(names)-1])
	var s checkpointSums
	if s.JSON, err = fileSHA256(base + checkpoints.JsonNameSuffix); err != nil {
		return fmt.Errorf("checksum of the new checkpoint: %w", err)
	}
	if s.Bin, err = fileSHA256(base + checkpoints.BinDataSuffix); err != nil {
		return fmt.Errorf("checksum of the new checkpoint: %w", err)
	}
	b, _ := json.Marshal(s)
	if err := os.WriteFile(base+checksumSuffix+".tmp", b, 0o644); err != nil {
		return fmt.Errorf("writing checkpoint checksums: %w", err)
	}
	if err := os.Rename(base+checksumSuffix+".tmp", base+checksumSuffix); err != nil {
		return fmt.Errorf("writing checkpoint checksums: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		n := e.Name()
		if !strings.HasSuffix(n, checksumSuffix) {
			continue
		}
		ckpt := filepath.Join(dir, strings.TrimSuffix(n, checksumSuffix)+checkpoints.JsonNameSuffix)
		if _, err := os.Stat(ckpt); errors.Is(err, fs.ErrNotExist) {
			_ = os.Remove(filepath.Join(dir, n))
		}
	}
	return nil
}

// checkpointDamage inspects the checkpoint with the given base path. It
// returns a reason when the files are damaged (missing, unreadable JSON,
// a data file shorter than its index says, or contents that differ from
// the sum file), "" when they look intact, and an error when they cannot
// be read at all (permissions, I/O): that is no evidence of damage, and
// nothing may be moved aside for it.
func checkpointDamage(base string) (reason string, err error) {
	jsonBytes, err := os.ReadFile(base + checkpoints.JsonNameSuffix)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "its JSON file is missing", nil
	case err != nil:
		return "", err
	}
	var index checkpointIndex
	if err := json.Unmarshal(jsonBytes, &index); err != nil {
		return fmt.Sprintf("its JSON file is unreadable (%v)", err), nil
	}
	st, err := os.Stat(base + checkpoints.BinDataSuffix)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "its data file is missing", nil
	case err != nil:
		return "", err
	}
	if reason := index.check(st.Size()); reason != "" {
		return reason, nil
	}
	if index.BinFormat == "uncompressed" {
		var end int64
		for _, v := range index.Variables {
			end = max(end, v.Pos+v.Length)
		}
		if st.Size() < end {
			return fmt.Sprintf("its data file has %d bytes, its index needs %d (truncated)", st.Size(), end), nil
		}
	}
	sumBytes, err := os.ReadFile(base + checksumSuffix)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", nil // written before checksums existed
	case err != nil:
		return "", err
	}
	var want checkpointSums
	if err := json.Unmarshal(sumBytes, &want); err != nil {
		return fmt.Sprintf("its sum file is unreadable (%v)", err), nil
	}
	gotJSON := sha256.Sum256(jsonBytes)
	if hex.EncodeToString(gotJSON[:]) != want.JSON {
		return "its JSON file differs from the checksum written with it", nil
	}
	gotBin, err := fileSHA256(base + checkpoints.BinDataSuffix)
	if err != nil {
		return "", err
	}
	if gotBin != want.Bin {
		return "its data file differs from the checksum written with it", nil
	}
	return "", nil
}

// checkpointIndex is the part of GoMLX's checkpoint JSON index that
// checkpointDamage checks.
type checkpointIndex struct {
	Variables []struct {
		ParameterName string
		DType         string
		Dimensions    []int
		Pos, Length   int64
	}
	BinFormat string
}

// maxInflation bounds how much larger than its data file a compressed
// checkpoint's variables may be (deflate's limit is about 1032:1).
const maxInflation = 1100

// check returns why the index cannot describe a data file of dataSize
// bytes, or "": every variable has a known dtype and non-negative
// dimensions, an uncompressed variable's length is its size, and the
// variables together fit the data file (times maxInflation when
// compressed). Without it, an index damaged to announce a huge variable
// (and no sum file to catch it) makes GoMLX's reader allocate it and the
// process run out of memory.
func (x *checkpointIndex) check(dataSize int64) string {
	var total int64
	limit := dataSize
	if x.BinFormat != "uncompressed" {
		limit = dataSize * maxInflation
	}
	for _, v := range x.Variables {
		dt, ok := dtypes.MapOfNames[v.DType]
		if !ok || dt.Size() <= 0 {
			return fmt.Sprintf("its index gives variable %q the unknown dtype %q", v.ParameterName, v.DType)
		}
		size := int64(dt.Size())
		for _, d := range v.Dimensions {
			if d < 0 || (d > 0 && size > limit/int64(d)) {
				return fmt.Sprintf("its index gives variable %q dimensions %v: larger than its data file", v.ParameterName, v.Dimensions)
			}
			size *= int64(d)
		}
		if x.BinFormat == "uncompressed" && v.Length != size {
			return fmt.Sprintf("its index gives variable %q %d bytes for dimensions %v of %s", v.ParameterName, v.Length, v.Dimensions, v.DType)
		}
		if v.Pos < 0 || v.Length < 0 {
			return fmt.Sprintf("its index gives variable %q a negative position or length", v.ParameterName)
		}
		if total += size; total > limit {
			return fmt.Sprintf("its index announces more data (%d bytes at least) than its %d-byte data file can hold", total, dataSize)
		}
	}
	return ""
}
