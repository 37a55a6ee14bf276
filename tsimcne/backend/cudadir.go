package backend

import (
	"os"
	"path/filepath"
	"strings"
)

// cudaDataDirFlag is XLA's flag for the folder that holds CUDA's libdevice
// and ptxas, which XLA's GPU compiler needs.
const cudaDataDirFlag = "--xla_gpu_cuda_data_dir"

// setCUDADataDir works around go-xla v0.1.4 (the version GoMLX v0.26.0
// uses): when it loads a CUDA plugin that has an nvidia/ folder of
// libraries beside it (the layout its own installer makes), it appends
// --xla_gpu_cuda_data_dir=/home/janpf/.local/lib/go-xla/nvidia, a folder
// of its author's machine, to XLA_FLAGS instead of the folder it found (the
// right call is commented out in its cuda_linux.go). It only does so when
// XLA_FLAGS names no such folder yet, so setting the right one first makes
// it keep ours. Nothing is changed when XLA_FLAGS already has the flag, for
// non-CUDA plugins, or when no nvidia/ folder is where go-xla would look.
//
// It returns the folder it set, or "".
func setCUDADataDir(config string) string {
	if strings.Contains(os.Getenv("XLA_FLAGS"), cudaDataDirFlag) {
		return ""
	}
	home, _ := os.UserHomeDir()
	dir := cudaDataDir(config, os.Getenv("PJRT_PLUGIN_LIBRARY_PATH"), home)
	if dir == "" {
		return ""
	}
	flags := strings.TrimSpace(os.Getenv("XLA_FLAGS") + " " + cudaDataDirFlag + "=" + dir)
	if err := os.Setenv("XLA_FLAGS", flags); err != nil {
		return ""
	}
	return dir
}

// cudaDataDir returns the nvidia/ folder go-xla's check would find for the
// XLA backend configuration config ("xla:cuda", "xla:/path/to/plugin.so",
// with options after a comma), given $PJRT_PLUGIN_LIBRARY_PATH and the home
// folder; "" when config is no CUDA plugin or there is none.
//
// go-xla's rule: the folder "nvidia" two levels up from the plugin file.
// Its installer puts the plugin in ~/.local/lib/go-xla/nvidia/ (so the
// folder is that same nvidia/), and installs it there on first use: a CUDA
// plugin named but not found yet is looked for there.
func cudaDataDir(config, pluginPaths, home string) string {
	name, ok := strings.CutPrefix(config, "xla")
	if !ok || (name != "" && name[0] != ':') {
		return ""
	}
	name = strings.TrimPrefix(name, ":")
	if i := strings.Index(name, ","); i >= 0 {
		name = name[:i]
	}
	if name == "" {
		name = "cuda" // GoMLX's first choice when it finds a CUDA plugin
	}
	upper := strings.ToUpper(name)
	if !strings.Contains(upper, "CUDA") && !strings.Contains(upper, "NVIDIA") {
		return ""
	}
	nvidiaBeside := func(plugin string) string {
		dir := filepath.Join(filepath.Dir(filepath.Dir(plugin)), "nvidia")
		if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
			return dir
		}
		return ""
	}
	if filepath.IsAbs(name) {
		return nvidiaBeside(name)
	}
	// The folders go-xla searches (the ones that can hold its own layout).
	homeXLA := "" // go-xla's installation in the home folder
	if home != "" {
		homeXLA = filepath.Join(home, ".local", "lib", "go-xla")
	}
	var dirs []string
	if pluginPaths != "" {
		dirs = strings.Split(pluginPaths, ":")
	} else {
		for _, d := range []string{homeXLA, "/usr/local/lib/go-xla"} {
			if d != "" {
				dirs = append(dirs, d, filepath.Join(d, "nvidia"))
			}
		}
	}
	file := "pjrt_c_api_" + name + "_plugin.so"
	for _, d := range dirs {
		if d == "" {
			continue
		}
		if p := filepath.Join(d, file); fileExists(p) {
			return nvidiaBeside(p)
		}
	}
	if pluginPaths == "" && homeXLA != "" {
		// Not installed yet: GoMLX installs it into this folder first.
		return filepath.Join(homeXLA, "nvidia")
	}
	return ""
}

func fileExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir()
}
