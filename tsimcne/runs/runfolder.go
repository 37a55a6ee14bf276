package runs

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gosimcne/gosimcne/tsimcne"
	"github.com/gosimcne/gosimcne/tsimcne/backend"
	"github.com/gosimcne/gosimcne/tsimcne/history"
)

// Files of a run folder (the pictures are named in pictures.go).
const (
	// CheckpointsDir holds the checkpoints (Config.CheckpointDir of the run).
	CheckpointsDir = tsimcne.RunCheckpointsDir
	// InfoFile is run.json (Info).
	InfoFile = "run.json"
	// ConfigFile is a copy of the run's settings (tsimcne.SaveConfig).
	ConfigFile = tsimcne.ConfigFileName
	// HistoryFile is the per-epoch history of every session (WriteHistory).
	HistoryFile = tsimcne.HistoryFileName
	// MetricsFile is metrics.json (Metrics).
	MetricsFile = "metrics.json"
	// HoldoutFile lists, in holdout mode, the indices of the kNN reference
	// and held-out images in the training images.
	HoldoutFile = "holdout.json"
	// TrainEmbedding and TestEmbedding, with .npy or .csv added, are the
	// maps of Images.Train and Images.Test.
	TrainEmbedding = "embedding_train"
	TestEmbedding  = "embedding_test"
	// PreparedDir holds, for image-folder data sets, the images decoded
	// once (Data.CacheDir).
	PreparedDir = "prepared"
)

// DefaultDir is the run folder of a run of preset on dataset when none is
// given: runs/<data set>-<preset>, relative to the working directory.
func DefaultDir(dataset, preset string) string {
	return filepath.Join("runs", ShortName(dataset)+"-"+preset)
}

// Info is run.json: how a run was started, so that a resumed run, embed,
// plot and notebooks use the same images without repeating the settings.
type Info struct {
	// Preset is the preset the configuration started from.
	Preset string `json:"preset"`
	// Data selects the images.
	Data Data `json:"data"`
	// K is the number of neighbours of the kNN evaluation; Features says
	// whether the backbone features are evaluated too.
	K        int  `json:"k"`
	Features bool `json:"features"`
	// Pretrained is the run folder whose pre-training (stage 1) this run
	// continues (train -pretrained, tsimcne.Model.Branch); empty for a run
	// trained from the start.
	Pretrained string `json:"pretrained,omitempty"`
	// Created is when the run was started; Command its command line.
	Created time.Time `json:"created"`
	Command []string  `json:"command"`
}

// Write writes info as run.json in the run folder dir.
func (info Info) Write(dir string) error {
	return tsimcne.WriteJSON(filepath.Join(dir, InfoFile), info)
}

// ReadInfo reads the run.json of the run folder dir; a missing file gives an
// error wrapping fs.ErrNotExist.
func ReadInfo(dir string) (Info, error) {
	var info Info
	err := tsimcne.ReadJSON(filepath.Join(dir, InfoFile), &info)
	return info, err
}

// Prepare readies the run folder dir for training: it makes its checkpoint
// folder and writes info as run.json. For a new run (resume false) it
// removes a config.json from the checkpoint folder: a run that died before
// its first checkpoint leaves one behind, which would block a new run with
// other settings.
func Prepare(dir string, info Info, resume bool) error {
	ckpt := filepath.Join(dir, CheckpointsDir)
	if err := os.MkdirAll(ckpt, 0o755); err != nil {
		return fmt.Errorf("creating the run folder: %w", err)
	}
	if !resume {
		if err := os.Remove(filepath.Join(ckpt, tsimcne.ConfigFileName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("run folder %s: %w", dir, err)
		}
	}
	return info.Write(dir)
}

// WriteHistory writes the per-epoch history of every session of a run (as
// Model.History returns it) to the run folder dir.
func WriteHistory(dir string, epochs []tsimcne.EpochStats) error {
	return history.Write(filepath.Join(dir, HistoryFile), epochs)
}

// Machine describes where a run was timed.
type Machine struct {
	// NumCPU and GOMAXPROCS are the logical CPUs and those Go runs on; CPU
	// is the CPU's model name (Linux only); GOOS, GOARCH and GoVersion are
	// Go's.
	NumCPU     int    `json:"num_cpu"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	CPU        string `json:"cpu,omitempty"`
	GOOS       string `json:"goos"`
	GOARCH     string `json:"goarch"`
	GoVersion  string `json:"go_version"`
	// Backend is the backend configuration ($GOMLX_BACKEND or the
	// default), BackendName the backend's name and description.
	Backend            string `json:"backend"`
	BackendName        string `json:"backend_name,omitempty"`
	BackendDescription string `json:"backend_description,omitempty"`
	XLALinked          bool   `json:"xla_linked"`
	// Revision is the VCS revision the binary was built from, if known.
	Revision string `json:"revision,omitempty"`
	// Env holds the TSIMCNE_* and GOMLX_* environment variables, which
	// select backends and kernels and so explain timings.
	Env map[string]string `json:"env,omitempty"`
}

// CurrentMachine describes this machine and process, with the backend of m
// (nil: none).
func CurrentMachine(m *tsimcne.Model) Machine {
	mi := Machine{
		NumCPU: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), CPU: cpuModel(),
		GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, GoVersion: runtime.Version(),
		Backend: backend.Config(), XLALinked: backend.XLALinked(),
	}
	if m != nil && m.Backend() != nil {
		mi.BackendName = m.Backend().Name()
		mi.BackendDescription = m.Backend().Description()
	}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "TSIMCNE_") || strings.HasPrefix(k, "GOMLX_") {
			if mi.Env == nil {
				mi.Env = map[string]string{}
			}
			mi.Env[k] = v
		}
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				mi.Revision = s.Value + mi.Revision
			case "vcs.modified":
				if s.Value == "true" {
					mi.Revision += "+modified"
				}
			}
		}
	}
	return mi
}

// cpuModel returns the CPU model name on Linux ("" elsewhere).
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
