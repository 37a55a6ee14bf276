package data

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// Archive describes a downloadable data set archive (a .tar.gz) and what it
// unpacks to below the data folder.
type Archive struct {
	// Name is the data set name used in messages, e.g. "CIFAR-10".
	Name string
	// URL is where the archive is downloaded from.
	URL string
	// MD5 is the hex MD5 checksum of the archive.
	MD5 string
	// Folder is the folder the archive unpacks into, below the data folder.
	Folder string
	// Files are the files that must exist in Folder after unpacking; when
	// they all exist the download is skipped.
	Files []string
}

// The official archives of the CIFAR binary versions
// (https://www.cs.toronto.edu/~kriz/cifar.html).
var (
	// CIFAR10Archive is cifar-10-binary.tar.gz (163 MB).
	CIFAR10Archive = Archive{
		Name:   "CIFAR-10",
		URL:    "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
		MD5:    "c32a1d4ab5d03f1284b67883e8d87530",
		Folder: CIFAR10Folder,
		Files:  append(append([]string{}, CIFAR10TrainFiles...), CIFAR10TestFile, CIFAR10MetaFile),
	}
	// CIFAR100Archive is cifar-100-binary.tar.gz (161 MB).
	CIFAR100Archive = Archive{
		Name:   "CIFAR-100",
		URL:    "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",
		MD5:    "03b5dce01913d631647c71ecec9e9cb8",
		Folder: CIFAR100Folder,
		Files:  []string{CIFAR100TrainFile, CIFAR100TestFile, CIFAR100FineNamesFile, CIFAR100CoarseNamesFile},
	}
)

// FileName returns the file name of the archive (the last element of its
// URL), e.g. "cifar-10-binary.tar.gz".
func (a Archive) FileName() string {
	u := a.URL
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	return path.Base(u)
}

// DownloadOption configures EnsureCIFAR10, EnsureCIFAR100 and Ensure.
type DownloadOption func(*downloadConfig)

type downloadConfig struct {
	progress       io.Writer
	url, md5       string
	client         *http.Client
	connectTimeout time.Duration
	stallTimeout   time.Duration
	keepArchive    bool
}

// Quiet turns off the progress bar.
func Quiet() DownloadOption { return func(c *downloadConfig) { c.progress = nil } }

// ProgressTo writes the progress bar to w instead of os.Stderr.
func ProgressTo(w io.Writer) DownloadOption { return func(c *downloadConfig) { c.progress = w } }

// WithURL downloads from url instead of the archive's URL (a mirror, or a
// test server).
func WithURL(url string) DownloadOption { return func(c *downloadConfig) { c.url = url } }

// WithMD5 expects the hex MD5 checksum sum instead of the archive's.
func WithMD5(sum string) DownloadOption { return func(c *downloadConfig) { c.md5 = sum } }

// WithHTTPClient uses client for the download; the connect and stall
// timeouts then apply only as far as client sets them.
func WithHTTPClient(client *http.Client) DownloadOption {
	return func(c *downloadConfig) { c.client = client }
}

// ConnectTimeout sets how long to wait for the connection (TCP and TLS) and
// for the response headers before failing; default 10 s, so that an offline
// machine fails fast.
func ConnectTimeout(d time.Duration) DownloadOption {
	return func(c *downloadConfig) { c.connectTimeout = d }
}

// StallTimeout sets how long the download may receive no data before it is
// abandoned; default 60 s. There is no limit on the total time.
func StallTimeout(d time.Duration) DownloadOption {
	return func(c *downloadConfig) { c.stallTimeout = d }
}

// KeepArchive keeps the downloaded .tar.gz in the data folder after
// unpacking; by default it is deleted to save space.
func KeepArchive() DownloadOption { return func(c *downloadConfig) { c.keepArchive = true } }

// EnsureCIFAR10 makes sure the binary version of CIFAR-10 is unpacked in
// <dir>/cifar-10-batches-bin/ (dir "" means DataDir()), downloading
// CIFAR10Archive if needed; see Ensure.
func EnsureCIFAR10(dir string, opts ...DownloadOption) error {
	return Ensure(dir, CIFAR10Archive, opts...)
}

// EnsureCIFAR100 makes sure the binary version of CIFAR-100 is unpacked in
// <dir>/cifar-100-binary/ (dir "" means DataDir()), downloading
// CIFAR100Archive if needed; see Ensure.
func EnsureCIFAR100(dir string, opts ...DownloadOption) error {
	return Ensure(dir, CIFAR100Archive, opts...)
}

// Ensure makes sure archive a is unpacked in dir (dir "" means DataDir()):
//
//  1. if all a.Files exist in <dir>/<a.Folder> it does nothing;
//  2. if <dir>/<a.FileName()> exists (e.g. put there by hand), its MD5 is
//     checked and it is unpacked;
//  3. otherwise a.URL is downloaded to a temporary file in dir, with a
//     progress bar on os.Stderr (see Quiet, ProgressTo); the file is renamed
//     to a.FileName() only after its MD5 matched, then unpacked into dir and
//     deleted (see KeepArchive).
//
// Unpacked files appear under their final names only when complete, so an
// interrupted run leaves nothing that looks valid. When the download fails
// (offline, HTTP error, bad checksum, cut short) the error names the URL and
// says where to put the files by hand.
func Ensure(dir string, a Archive, opts ...DownloadOption) error {
	cfg := downloadConfig{progress: os.Stderr, connectTimeout: 10 * time.Second, stallTimeout: 60 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.url != "" {
		a.URL = cfg.url
	}
	if cfg.md5 != "" {
		a.MD5 = cfg.md5
	}
	dir, err := resolveDir(dir)
	if err != nil {
		return err
	}
	if a.unpacked(dir) {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("data: creating data folder for %s: %w", a.Name, err)
	}
	archivePath := filepath.Join(dir, a.FileName())
	if _, err := os.Stat(archivePath); err == nil {
		// An archive put there by hand (or kept from before): check it.
		sum, err := fileMD5(archivePath)
		if err != nil {
			return fmt.Errorf("data: %s archive: %w", a.Name, err)
		}
		if !strings.EqualFold(sum, a.MD5) {
			return fmt.Errorf("data: %s archive %s has MD5 %s, want %s: it is corrupt or not %s; delete it and run again, or replace it with a good copy of %s",
				a.Name, archivePath, sum, a.MD5, a.FileName(), a.URL)
		}
	} else {
		if err := download(a, dir, archivePath, &cfg); err != nil {
			return err
		}
	}
	if err := unpackTarGz(archivePath, dir); err != nil {
		return fmt.Errorf("data: unpacking %s archive %s: %w", a.Name, archivePath, err)
	}
	if missing := a.missing(dir); len(missing) > 0 {
		return fmt.Errorf("data: %s archive %s unpacked, but %s lacks %s", a.Name, archivePath,
			filepath.Join(dir, a.Folder), strings.Join(missing, ", "))
	}
	if !cfg.keepArchive {
		if err := os.Remove(archivePath); err != nil {
			return fmt.Errorf("data: removing %s archive after unpacking: %w", a.Name, err)
		}
	}
	return nil
}

// missing returns the files of a that are not in <dir>/<a.Folder>.
func (a Archive) missing(dir string) []string {
	var missing []string
	for _, f := range a.Files {
		if fi, err := os.Stat(filepath.Join(dir, a.Folder, f)); err != nil || !fi.Mode().IsRegular() {
			missing = append(missing, f)
		}
	}
	return missing
}

func (a Archive) unpacked(dir string) bool { return len(a.Files) > 0 && len(a.missing(dir)) == 0 }

// byHand says where to put the files when the download cannot be done.
func (a Archive) byHand(dir string) string {
	return fmt.Sprintf("If this machine cannot download it, fetch %s elsewhere and put it at %s (it will be checked and unpacked on the next run), "+
		"or unpack it yourself so that %s holds %s",
		a.URL, filepath.Join(dir, a.FileName()), filepath.Join(dir, a.Folder), strings.Join(a.Files, ", "))
}

// download fetches a.URL to archivePath through a temporary file that is
// renamed only after the MD5 check.
func download(a Archive, dir, archivePath string, cfg *downloadConfig) (err error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("data: downloading %s from %s: %s. %s", a.Name, a.URL, fmt.Sprintf(format, args...), a.byHand(dir))
	}
	client := cfg.client
	if client == nil {
		dialer := &net.Dialer{Timeout: cfg.connectTimeout}
		client = &http.Client{Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           dialer.DialContext,
			TLSHandshakeTimeout:   cfg.connectTimeout,
			ResponseHeaderTimeout: cfg.connectTimeout,
			ForceAttemptHTTP2:     true,
		}}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.URL, nil)
	if err != nil {
		return fail("%v", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fail("%v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fail("HTTP status %s", resp.Status)
	}

	tmp, err := os.CreateTemp(dir, a.FileName()+".*.part")
	if err != nil {
		return fmt.Errorf("data: downloading %s: %w", a.Name, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()

	var body io.Reader = resp.Body
	if cfg.stallTimeout > 0 {
		body = newStallReader(resp.Body, cfg.stallTimeout, cancel)
	}
	hash := md5.New()
	dst := io.MultiWriter(tmp, hash)
	if cfg.progress != nil {
		bar := progressbar.NewOptions64(resp.ContentLength,
			progressbar.OptionSetWriter(cfg.progress),
			progressbar.OptionSetDescription("downloading "+a.FileName()),
			progressbar.OptionShowBytes(true),
			progressbar.OptionShowTotalBytes(true),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(200*time.Millisecond),
		)
		defer func() {
			if err == nil {
				bar.Finish()
			}
			bar.Exit()
			fmt.Fprintln(cfg.progress)
		}()
		dst = io.MultiWriter(dst, bar)
	}
	n, err := io.Copy(dst, body)
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("no data for %v", cfg.stallTimeout)
		}
		return fail("failed after %d of %d bytes: %v", n, resp.ContentLength, err)
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return fail("got %d of %d bytes", n, resp.ContentLength)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("data: writing %s: %w", tmp.Name(), err)
	}
	if sum := hex.EncodeToString(hash.Sum(nil)); !strings.EqualFold(sum, a.MD5) {
		return fail("the %d bytes received have MD5 %s, want %s (corrupt or incomplete download, deleted)", n, sum, a.MD5)
	}
	if err := os.Rename(tmp.Name(), archivePath); err != nil {
		return fmt.Errorf("data: downloading %s: %w", a.Name, err)
	}
	return nil
}

// stallReader cancels the download when no data arrives for a while: an
// http.Client timeout would bound the whole download instead, which a slow
// but working connection may exceed.
type stallReader struct {
	r     io.Reader
	d     time.Duration
	timer *time.Timer
	once  sync.Once
}

func newStallReader(r io.Reader, d time.Duration, cancel func()) *stallReader {
	return &stallReader{r: r, d: d, timer: time.AfterFunc(d, cancel)}
}

func (s *stallReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if n > 0 {
		s.timer.Reset(s.d)
	}
	if err != nil {
		s.once.Do(func() { s.timer.Stop() })
	}
	return n, err
}

// fileMD5 returns the hex MD5 of the file at path.
func fileMD5(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// unpackTarGz extracts the regular files and folders of a .tar.gz into dir.
// Entry names must stay inside dir. Each file is written under a temporary
// name and renamed when complete.
func unpackTarGz(archivePath, dir string) error {
	f, err := os.Open(archivePath)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("not a gzip file: %w", err)
	}
	defer gz.Close()
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name := filepath.FromSlash(strings.TrimPrefix(hdr.Name, "./"))
		if name == "" || name == "." {
			continue
		}
		if !filepath.IsLocal(name) {
			return fmt.Errorf("entry %q points outside the data folder", hdr.Name)
		}
		target := filepath.Join(dir, name)
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			if err := writeFileAtomic(target, tr); err != nil {
				return fmt.Errorf("entry %q: %w", hdr.Name, err)
			}
		default:
			// Links and special files have no place in a data archive.
		}
	}
}

// writeFileAtomic copies r to path through a temporary file in the same
// folder.
func writeFileAtomic(path string, r io.Reader) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.part")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = io.Copy(tmp, r); err != nil {
		return err
	}
	if err = tmp.Chmod(0o644); err != nil && !errors.Is(err, fs.ErrPermission) {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
