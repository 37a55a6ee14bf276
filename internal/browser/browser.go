// Package browser runs headless Chromium for the checks and benchmarks of
// the interactive map page: a screenshot of a page, or its DOM after the
// page's script has run. Chromium is an external program (Debian's
// chromium package); nothing here is needed by the library itself.
package browser

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
)

// EnvVar names a Chromium binary to use instead of the one found on $PATH.
const EnvVar = "TSIMCNE_BROWSER"

// Find returns a headless-capable Chromium: $TSIMCNE_BROWSER, else the
// first of the usual names on $PATH; "" when there is none.
func Find() string {
	if b := os.Getenv(EnvVar); b != "" {
		return b
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome", "headless_shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// args are the flags of every run: headless, no network chatter, a
// throw-away profile in dir.
func args(dir string, width, height int) []string {
	return []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + filepath.Join(dir, "profile"),
		"--window-size=" + strconv.Itoa(width) + "," + strconv.Itoa(height), "--hide-scrollbars"}
}

// Screenshot renders url in a window of width×height and writes a PNG
// screenshot to shot. virtualMS, if above 0, lets the page run that many
// milliseconds of virtual time first (timers and animation frames), so
// that the picture does not depend on the machine's speed.
func Screenshot(ctx context.Context, browser, url, shot string, width, height, virtualMS int) error {
	dir, err := os.MkdirTemp("", "tsimcne-browser-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	a := append(args(dir, width, height), "--screenshot="+shot)
	if virtualMS > 0 {
		a = append(a, "--virtual-time-budget="+strconv.Itoa(virtualMS))
	}
	out, err := exec.CommandContext(ctx, browser, append(a, url)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s --screenshot: %w\n%s", browser, err, out)
	}
	if _, err := os.Stat(shot); err != nil {
		return fmt.Errorf("no screenshot from %s: %w\n%s", browser, err, out)
	}
	return nil
}

// DumpDOM loads url in a window of width×height in real time and returns
// the DOM once the page has loaded (its synchronous script included).
func DumpDOM(ctx context.Context, browser, url string, width, height int) (string, error) {
	dir, err := os.MkdirTemp("", "tsimcne-browser-*")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	cmd := exec.CommandContext(ctx, browser, append(args(dir, width, height), "--dump-dom", url)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s --dump-dom: %w\n%s", browser, err, stderr.String())
	}
	return stdout.String(), nil
}

// PageBench is the report the interactive map page (plots.Interactive)
// writes into <body data-bench> when opened with #bench=F: the time from
// navigation to the end of the first drawing, and F frames of panning
// (by the plot's width and back) drawn one by one, Rasters of which drew
// the points anew (the others copied the already rasterised area).
type PageBench struct {
	OpenMS      float64    `json:"open_ms"`
	Frames      int        `json:"frames"`
	FrameMSMean float64    `json:"frame_ms_mean"`
	FrameMSMax  float64    `json:"frame_ms_max"`
	Start       [3]float64 `json:"start"` // view before panning: x, y, zoom
	View        [3]float64 `json:"view"`  // view after panning
	FarthestPx  float64    `json:"farthest_px"`
	Rasters     int        `json:"rasters"`
}

var benchAttr = regexp.MustCompile(`data-bench="([^"]*)"`)

// ReadPageBench extracts the PageBench from a DOM dumped by DumpDOM.
func ReadPageBench(dom string) (PageBench, error) {
	var r PageBench
	m := benchAttr.FindStringSubmatch(dom)
	if m == nil {
		return r, fmt.Errorf("no data-bench attribute in the page after #bench (did its script fail?)")
	}
	if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &r); err != nil {
		return r, fmt.Errorf("data-bench %q: %w", m[1], err)
	}
	return r, nil
}
