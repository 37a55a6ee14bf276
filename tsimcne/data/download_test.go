package data

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

type tarEntry struct {
	name string
	body []byte
	typ  byte
}

// tarGz builds a .tar.gz of the entries.
func tarGz(t *testing.T, entries ...tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		hdr := &tar.Header{Name: e.name, Mode: 0o600, Size: int64(len(e.body)), Typeflag: typ}
		if typ != tar.TypeReg {
			hdr.Size = 0
			hdr.Linkname = "/etc/passwd"
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if typ == tar.TypeReg {
			if _, err := tw.Write(e.body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func md5Hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// fakeCIFAR10Archive is a small stand-in for cifar-10-binary.tar.gz: the
// same file names, one record in each batch (labelled with the batch index).
func fakeCIFAR10Archive(t *testing.T) []byte {
	entries := []tarEntry{{name: CIFAR10Folder + "/", typ: tar.TypeDir}}
	for k, f := range append(slices.Clone(CIFAR10TrainFiles), CIFAR10TestFile) {
		entries = append(entries, tarEntry{name: CIFAR10Folder + "/" + f, body: cifarRecords(k, labels10(k)...)})
	}
	entries = append(entries, tarEntry{name: CIFAR10Folder + "/" + CIFAR10MetaFile, body: []byte(strings.Join(CIFAR10Classes, "\n") + "\n")})
	return tarGz(t, entries...)
}

// archiveServer serves body at /cifar-10-binary.tar.gz, counting requests.
func archiveServer(t *testing.T, handler func(w http.ResponseWriter, r *http.Request)) (*httptest.Server, *atomic.Int32) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		handler(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func serveBytes(body []byte) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/"+CIFAR10Archive.FileName() {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	}
}

// dirNames returns the names in dir, recursively, relative to it.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	var names []string
	filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err == nil && p != dir {
			rel, _ := filepath.Rel(dir, p)
			names = append(names, filepath.ToSlash(rel))
		}
		return err
	})
	return names
}

func TestEnsureCIFAR10Download(t *testing.T) {
	body := fakeCIFAR10Archive(t)
	srv, hits := archiveServer(t, serveBytes(body))
	dir := filepath.Join(t.TempDir(), "data") // created by Ensure
	url := srv.URL + "/" + CIFAR10Archive.FileName()
	var progress bytes.Buffer
	if err := EnsureCIFAR10(dir, WithURL(url), WithMD5(md5Hex(body)), ProgressTo(&progress)); err != nil {
		t.Fatal(err)
	}
	if hits.Load() != 1 {
		t.Errorf("%d requests, want 1", hits.Load())
	}
	want := []string{CIFAR10Folder}
	for _, f := range CIFAR10Archive.Files {
		want = append(want, CIFAR10Folder+"/"+f)
	}
	slices.Sort(want)
	if got := dirNames(t, dir); !slices.Equal(got, want) {
		t.Errorf("data folder holds %v, want %v (archive deleted, no temporary files)", got, want)
	}
	if !strings.Contains(progress.String(), "cifar-10-binary.tar.gz") {
		t.Errorf("progress output %q", progress.String())
	}
	paths := []string{}
	for _, f := range append(slices.Clone(CIFAR10TrainFiles), CIFAR10TestFile) {
		paths = append(paths, filepath.Join(dir, CIFAR10Folder, f))
	}
	ds, err := LoadCIFAR10Files(paths...)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ds.Labels, []int{0, 1, 2, 3, 4, 5}) {
		t.Errorf("labels %v", ds.Labels)
	}
	checkPixels(t, ds, 0)

	// Already unpacked: no request, even to a dead server.
	if err := EnsureCIFAR10(dir, WithURL("http://127.0.0.1:1/x.tar.gz"), Quiet()); err != nil {
		t.Fatal(err)
	}
	if hits.Load() != 1 {
		t.Errorf("%d requests after the second call, want 1", hits.Load())
	}

	// KeepArchive, and dir "" meaning $TSIMCNE_DATA.
	dir2 := t.TempDir()
	t.Setenv(EnvDataDir, dir2)
	if err := EnsureCIFAR10("", WithURL(url), WithMD5(strings.ToUpper(md5Hex(body))), Quiet(), KeepArchive()); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir2, CIFAR10Archive.FileName())); err != nil || !bytes.Equal(b, body) {
		t.Errorf("kept archive: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir2, CIFAR10Folder, CIFAR10TestFile)); err != nil {
		t.Error(err)
	}
}

// checkFailed checks that a failed download names the URL, says where to
// put the files by hand, and left nothing in dir.
func checkFailed(t *testing.T, err error, dir, url string, parts ...string) {
	t.Helper()
	t.Log(err)
	wantErr(t, err, append([]string{url, filepath.Join(dir, "cifar-10-binary.tar.gz"), filepath.Join(dir, CIFAR10Folder), "test_batch.bin"}, parts...)...)
	if names := dirNames(t, dir); len(names) > 0 {
		t.Errorf("failed download left %v", names)
	}
}

func TestEnsureCIFAR10Failures(t *testing.T) {
	body := fakeCIFAR10Archive(t)
	sum := md5Hex(body)

	t.Run("wrong checksum", func(t *testing.T) {
		srv, _ := archiveServer(t, serveBytes(body))
		dir := t.TempDir()
		url := srv.URL + "/cifar-10-binary.tar.gz"
		err := EnsureCIFAR10(dir, WithURL(url), WithMD5("0123456789abcdef0123456789abcdef"), Quiet())
		checkFailed(t, err, dir, url, "MD5 "+sum, "want 0123456789abcdef0123456789abcdef")
	})
	t.Run("truncated body", func(t *testing.T) {
		srv, _ := archiveServer(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.Write(body[:len(body)/2])
		})
		dir := t.TempDir()
		url := srv.URL + "/cifar-10-binary.tar.gz"
		err := EnsureCIFAR10(dir, WithURL(url), WithMD5(sum), Quiet())
		checkFailed(t, err, dir, url, "of "+strconv.Itoa(len(body))+" bytes")
	})
	t.Run("404", func(t *testing.T) {
		srv, _ := archiveServer(t, serveBytes(body))
		dir := t.TempDir()
		url := srv.URL + "/elsewhere/cifar-10-binary.tar.gz"
		err := EnsureCIFAR10(dir, WithURL(url), WithMD5(sum), Quiet())
		checkFailed(t, err, dir, url, "404")
	})
	t.Run("offline", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL + "/cifar-10-binary.tar.gz"
		srv.Close() // nothing listens there any more
		dir := t.TempDir()
		start := time.Now()
		err := EnsureCIFAR10(dir, WithURL(url), Quiet())
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("failing took %v", d)
		}
		checkFailed(t, err, dir, url, "cannot download it")
	})
	t.Run("stalled", func(t *testing.T) {
		release := make(chan struct{})
		srv, _ := archiveServer(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.Write(body[:100])
			w.(http.Flusher).Flush()
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})
		defer close(release)
		dir := t.TempDir()
		url := srv.URL + "/cifar-10-binary.tar.gz"
		err := EnsureCIFAR10(dir, WithURL(url), WithMD5(sum), Quiet(), StallTimeout(200*time.Millisecond))
		checkFailed(t, err, dir, url, "no data for 200ms")
	})
}

func TestEnsureArchiveByHand(t *testing.T) {
	body := fakeCIFAR10Archive(t)
	dead := "http://127.0.0.1:1/cifar-10-binary.tar.gz"

	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "cifar-10-binary.tar.gz"), body)
	if err := EnsureCIFAR10(dir, WithURL(dead), WithMD5(md5Hex(body)), Quiet()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, CIFAR10Folder, "data_batch_5.bin")); err != nil {
		t.Error(err)
	}

	// A wrong file put there by hand is reported, not deleted.
	dir = t.TempDir()
	p := filepath.Join(dir, "cifar-10-binary.tar.gz")
	writeFile(t, p, []byte("not an archive"))
	err := EnsureCIFAR10(dir, WithURL(dead), Quiet())
	wantErr(t, err, p, "MD5", CIFAR10Archive.MD5, "delete it")
	if _, err := os.Stat(p); err != nil {
		t.Error("the bad archive was deleted")
	}
}

func TestEnsureBadArchives(t *testing.T) {
	a := Archive{Name: "Test", URL: "http://127.0.0.1:1/t.tar.gz", Folder: "t", Files: []string{"x.bin"}}
	for _, c := range []struct {
		name    string
		archive []byte
		parts   []string
	}{
		{"escape", tarGz(t, tarEntry{name: "../evil.bin", body: []byte("x")}), []string{"outside the data folder"}},
		{"absolute", tarGz(t, tarEntry{name: "/tmp/evil.bin", body: []byte("x")}), []string{"outside the data folder"}},
		{"missing file", tarGz(t, tarEntry{name: "t/y.bin", body: []byte("x")},
			tarEntry{name: "t/link", typ: tar.TypeSymlink}), []string{"lacks x.bin"}},
		{"not gzip", []byte("plain text"), []string{"not a gzip file"}},
		{"truncated", tarGz(t, tarEntry{name: "t/x.bin", body: bytes.Repeat([]byte("abc"), 1000)})[:60], []string{"unpacking"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "t.tar.gz"), c.archive)
			a := a
			a.MD5 = md5Hex(c.archive)
			err := Ensure(dir, a, Quiet())
			wantErr(t, err, c.parts...)
			if _, err := os.Lstat(filepath.Join(dir, "t", "link")); err == nil {
				t.Error("symlink was created")
			}
		})
	}
	if got := (Archive{URL: "https://x.org/a/b.tar.gz?raw=1"}).FileName(); got != "b.tar.gz" {
		t.Errorf("FileName = %q", got)
	}
}
