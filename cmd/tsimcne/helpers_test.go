package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// result is the outcome of one in-process run of the command.
type result struct {
	code           int
	stdout, stderr string
}

// runCmd runs the command line args in-process.
func runCmd(t *testing.T, args ...string) result {
	t.Helper()
	return runCmdContext(t, context.Background(), args...)
}

func runCmdContext(t *testing.T, ctx context.Context, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := runContext(ctx, args, &out, &errb)
	r := result{code: code, stdout: out.String(), stderr: errb.String()}
	if testing.Verbose() {
		t.Logf("tsimcne %s -> exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, r.stdout, r.stderr)
	}
	return r
}

// wantCode fails the test unless r exited with code.
func (r result) wantCode(t *testing.T, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
}

// mustExist fails unless every file exists and is not empty.
func mustExist(t *testing.T, dir string, names ...string) {
	t.Helper()
	for _, n := range names {
		fi, err := os.Stat(filepath.Join(dir, n))
		if err != nil {
			t.Errorf("missing %s: %v", n, err)
			continue
		}
		if fi.Size() == 0 {
			t.Errorf("%s is empty", n)
		}
	}
}
