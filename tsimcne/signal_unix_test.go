//go:build unix

package tsimcne

import (
	"bytes"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"
)

// TestInterruptContext: the first SIGINT cancels Fit's context and then
// stops being caught by it (a second Ctrl-C is left to the program: Go's
// default ends it). The test keeps its own handler so that neither signal
// ends the test binary.
func TestInterruptContext(t *testing.T) {
	keep := make(chan os.Signal, 4)
	signal.Notify(keep, os.Interrupt)
	defer signal.Stop(keep)
	ctx, stop := interruptContext()
	defer stop()
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("SIGINT did not cancel the context")
	}
}

// TestProgressModeFollowsLog: GoMLX's bar writes to os.Stdout, so a model
// logging elsewhere reports progress as lines in its log.
func TestProgressModeFollowsLog(t *testing.T) {
	var buf bytes.Buffer
	for _, tc := range []struct {
		log  *bytes.Buffer
		mode Progress
		want Progress
	}{
		{&buf, ProgressBar, ProgressLines},
		{&buf, ProgressAuto, ProgressLines},
		{&buf, ProgressOff, ProgressOff},
		{nil, ProgressBar, ProgressBar},
	} {
		m := &Model{cfg: Config{Progress: tc.mode}, log: os.Stdout}
		if tc.log != nil {
			m.log = tc.log
		}
		if got := m.progressMode(); got != tc.want {
			t.Errorf("Progress %v with log %T: %v, want %v", tc.mode, m.log, got, tc.want)
		}
	}
}
