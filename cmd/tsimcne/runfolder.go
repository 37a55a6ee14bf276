package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gosimcne/gosimcne/tsimcne"
	"github.com/gosimcne/gosimcne/tsimcne/backend"
)

// Files of a run folder.
const (
	checkpointsDir = tsimcne.RunCheckpointsDir
	runInfoFile    = "run.json"
	historyFile    = tsimcne.HistoryFileName
	metricsFile    = "metrics.json"
	holdoutFile    = "holdout.json"
	trainEmbedding = "embedding_train"
	testEmbedding  = "embedding_test"
	runConfigFile  = tsimcne.ConfigFileName
)

// runInfo is run.json: how the run was started, so that -resume, embed and
// plot use the same images without repeating the flags.
type runInfo struct {
	// Preset is the preset the configuration started from.
	Preset string `json:"preset"`
	// Data selects the images.
	Data dataSpec `json:"data"`
	// K is the number of neighbours of the kNN evaluation; Features says
	// whether the backbone features are evaluated too.
	K        int  `json:"k"`
	Features bool `json:"features"`
	// Created is when the run was started; Command its command line.
	Created time.Time `json:"created"`
	Command []string  `json:"command"`
}

func writeRunInfo(dir string, info runInfo) error {
	return tsimcne.WriteJSON(filepath.Join(dir, runInfoFile), info)
}

// readRunInfo reads run.json; a missing file gives an error wrapping
// fs.ErrNotExist.
func readRunInfo(dir string) (runInfo, error) {
	var info runInfo
	b, err := os.ReadFile(filepath.Join(dir, runInfoFile))
	if err != nil {
		return info, err
	}
	if err := json.Unmarshal(b, &info); err != nil {
		return info, fmt.Errorf("%s: %w", filepath.Join(dir, runInfoFile), err)
	}
	return info, nil
}

// machineInfo describes where a run was timed.
type machineInfo struct {
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

func currentMachine(m *tsimcne.Model) machineInfo {
	mi := machineInfo{
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
