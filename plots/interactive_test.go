package plots

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// checkSelfContained fails if the page refers to anything outside itself.
func checkSelfContained(t *testing.T, page string) {
	t.Helper()
	low := strings.ToLower(page)
	for _, bad := range []string{"http://", "https://", "//cdn", "<link", "@import", "<iframe", "ftp://"} {
		if i := strings.Index(low, bad); i >= 0 {
			t.Errorf("page contains %q: ...%s...", bad, low[max(0, i-60):min(len(low), i+60)])
		}
	}
	// Attributes of the markup (script and style bodies removed).
	markup := regexp.MustCompile(`(?is)(<script[^>]*>).*?(</script>)|(<style[^>]*>).*?(</style>)`).ReplaceAllString(page, "$1$2$3$4")
	attr := regexp.MustCompile(`(?i)\s(src|href|action|poster|srcset)\s*=\s*["']?([^"'\s>]*)`)
	for _, m := range attr.FindAllStringSubmatch(markup, -1) {
		if v := m[2]; v != "" && !strings.HasPrefix(v, "data:") && !strings.HasPrefix(v, "#") {
			t.Errorf("page has %s=%q, which is not inline", m[1], v)
		}
	}
}

// checkWellFormed checks the page's tag structure: every non-void element is
// closed in order, script and style hold raw text, and there is exactly one
// html, head and body. (golang.org/x/net/html is not in the module graph;
// this is enough for a page we write ourselves.)
func checkWellFormed(t *testing.T, page string) {
	t.Helper()
	void := map[string]bool{"meta": true, "br": true, "input": true, "img": true, "hr": true, "link": true}
	tag := regexp.MustCompile(`^<(/?)([a-zA-Z][a-zA-Z0-9]*)\b[^>]*?(/?)>`)
	if !strings.HasPrefix(page, "<!DOCTYPE html>") {
		t.Errorf("page does not start with <!DOCTYPE html>")
	}
	var stack []string
	count := map[string]int{}
	for i := 0; i < len(page); {
		j := strings.IndexByte(page[i:], '<')
		if j < 0 {
			break
		}
		i += j
		switch {
		case strings.HasPrefix(page[i:], "<!--"):
			k := strings.Index(page[i:], "-->")
			if k < 0 {
				t.Fatalf("unterminated comment at %d", i)
			}
			i += k + 3
			continue
		case strings.HasPrefix(page[i:], "<!"):
			i += strings.IndexByte(page[i:], '>') + 1
			continue
		}
		m := tag.FindStringSubmatch(page[i:])
		if m == nil {
			t.Fatalf("stray '<' at %d: %q", i, page[i:min(len(page), i+40)])
		}
		name := strings.ToLower(m[2])
		i += len(m[0])
		switch {
		case m[1] == "/":
			if len(stack) == 0 || stack[len(stack)-1] != name {
				t.Fatalf("</%s> at %d closes %v", name, i, stack)
			}
			stack = stack[:len(stack)-1]
		case void[name] || m[3] == "/":
		default:
			count[name]++
			stack = append(stack, name)
			if name == "script" || name == "style" {
				k := strings.Index(strings.ToLower(page[i:]), "</"+name)
				if k < 0 {
					t.Fatalf("<%s> not closed", name)
				}
				i += k
			}
		}
	}
	if len(stack) != 0 {
		t.Errorf("unclosed elements %v", stack)
	}
	for _, n := range []string{"html", "head", "body", "title"} {
		if count[n] != 1 {
			t.Errorf("%d <%s> elements, want 1", count[n], n)
		}
	}
}

// pageJSON extracts and decodes the data the script reads.
func pageJSON(t *testing.T, page string) pageData {
	t.Helper()
	const open = `<script type="application/json" id="map-data">`
	i := strings.Index(page, open)
	if i < 0 {
		t.Fatal("no data script in page")
	}
	rest := page[i+len(open):]
	j := strings.Index(rest, "</script>")
	var d pageData
	if err := json.Unmarshal([]byte(rest[:j]), &d); err != nil {
		t.Fatalf("page data is not JSON: %v", err)
	}
	return d
}

func TestInteractivePage(t *testing.T) {
	xy, labels, names := blobs(4, 300, 31)
	names[2] = `</script><script>alert("x")</script> & http://example`
	ds := solidImages(labels)
	p, err := Interactive(xy, labels, names, Images(ds), Title(`Map <b>"1"</b>`),
		Highlight(3, 7))
	if err != nil {
		t.Fatal(err)
	}
	page := string(p.HTML())
	checkSelfContained(t, strings.ReplaceAll(page, "http://example", "")) // user text, not a reference
	checkWellFormed(t, page)
	if strings.Count(page, "<script") != 2 {
		t.Errorf("page has %d <script> elements, want 2 (data and code)", strings.Count(page, "<script"))
	}
	if !strings.Contains(page, "<title>Map &lt;b&gt;&#34;1&#34;&lt;/b&gt;</title>") {
		t.Errorf("title not escaped")
	}
	d := pageJSON(t, page)
	if d.N != 1200 || len(d.Classes) != 4 || d.Classes[2] != names[2] || len(d.Colors) != 4 || d.Counts[1] != 300 {
		t.Errorf("page data: n %d, classes %q, colors %q, counts %v", d.N, d.Classes, d.Colors, d.Counts)
	}
	if len(d.Highlight) != 2 {
		t.Errorf("highlight %v", d.Highlight)
	}
	// Positions survive the 16-bit quantisation.
	q, _ := base64.StdEncoding.DecodeString(d.XY)
	for i := 0; i < d.N; i++ {
		for k := 0; k < 2; k++ {
			lo, hi := d.Bounds[k], d.Bounds[k+2]
			v := lo + float64(binary.LittleEndian.Uint16(q[4*i+2*k:]))*(hi-lo)/65535
			if math.Abs(v-float64(xy[2*i+k])) > (hi-lo)/65535 {
				t.Fatalf("point %d coordinate %d: %v decodes as %v", i, k, xy[2*i+k], v)
			}
		}
	}
	lb, _ := base64.StdEncoding.DecodeString(*d.Labels)
	for i, l := range labels {
		if int(lb[i]) != l {
			t.Fatalf("label %d: %d decodes as %d", i, l, lb[i])
		}
	}
	// Thumbnails: one sheet of 64 columns and ceil(1200/64) rows of 8 px.
	if d.Thumbs == nil || len(d.Thumbs.Sheets) != 1 || d.Thumbs.Size != 8 {
		t.Fatalf("thumbs %+v", d.Thumbs)
	}
	jb, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(d.Thumbs.Sheets[0], "data:image/jpeg;base64,"))
	sheet, err := jpeg.Decode(bytes.NewReader(jb))
	if err != nil {
		t.Fatal(err)
	}
	if b := sheet.Bounds(); b.Dx() != 64*8 || b.Dy() != 19*8 {
		t.Errorf("sprite sheet is %v, want 512x152", b)
	}
}

// TestInteractiveThumbnailFolder: with ThumbnailFolder the sheets are
// files beside the page, referred to by the given path, and the page
// embeds no image.
func TestInteractiveThumbnailFolder(t *testing.T) {
	xy, labels, names := blobs(3, 3000, 33) // 9 000 points: 3 sheets of 4 096
	dir := t.TempDir()
	p, err := Interactive(xy, labels, names, Images(solidImages(labels)),
		ThumbnailFolder(filepath.Join(dir, "map_files"), "map_files/"))
	if err != nil {
		t.Fatal(err)
	}
	page := string(p.HTML())
	if strings.Contains(page, "data:image") {
		t.Error("the page embeds images despite ThumbnailFolder")
	}
	d := pageJSON(t, page)
	if d.Thumbs == nil || len(d.Thumbs.Sheets) != 3 {
		t.Fatalf("thumbs %+v, want 3 sheets", d.Thumbs)
	}
	for k, ref := range d.Thumbs.Sheets {
		if want := fmt.Sprintf("map_files/thumbs-%04d.jpg", k); ref != want {
			t.Errorf("sheet %d is %q, want %q", k, ref, want)
		}
		f, err := os.Open(filepath.Join(dir, filepath.FromSlash(ref)))
		if err != nil {
			t.Fatal(err)
		}
		sheet, err := jpeg.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("sheet %d: %v", k, err)
		}
		rows := 64
		if k == 2 {
			rows = (9000 - 2*4096 + 63) / 64
		}
		if b := sheet.Bounds(); b.Dx() != 64*8 || b.Dy() != rows*8 {
			t.Errorf("sheet %d is %v, want %dx%d", k, b, 64*8, rows*8)
		}
	}
}

// TestInteractivePointNames: names are embedded, or with ThumbnailFolder
// written as script files of 4 096 names that the page refers to.
func TestInteractivePointNames(t *testing.T) {
	xy, labels, names := blobs(3, 1500, 34) // 4 500 points: 2 name files
	files := make([]string, len(labels))
	for i := range files {
		files[i] = fmt.Sprintf("class%d/img <%d>.png", labels[i], i)
	}
	p, err := Interactive(xy, labels, names, PointNames(files))
	if err != nil {
		t.Fatal(err)
	}
	if d := pageJSON(t, string(p.HTML())); !slices.Equal(d.Names, files) || d.NameFiles != nil {
		t.Errorf("embedded names: %d names, name files %v", len(d.Names), d.NameFiles)
	}
	if _, err := Interactive(xy, labels, names, PointNames(files[1:])); err == nil {
		t.Error("one name short: no error")
	}

	dir := t.TempDir()
	p, err = Interactive(xy, labels, names, PointNames(files), ThumbnailFolder(filepath.Join(dir, "map_files"), "map_files"))
	if err != nil {
		t.Fatal(err)
	}
	d := pageJSON(t, string(p.HTML()))
	if d.Names != nil || d.NamesPer != 4096 || !slices.Equal(d.NameFiles, []string{"map_files/names-0000.js", "map_files/names-0001.js"}) {
		t.Fatalf("names in files: embedded %d, per file %d, files %v", len(d.Names), d.NamesPer, d.NameFiles)
	}
	if strings.Contains(string(p.HTML()), files[7]) {
		t.Error("the page embeds a name despite ThumbnailFolder")
	}
	for k, want := range [][]string{files[:4096], files[4096:]} {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(d.NameFiles[k])))
		if err != nil {
			t.Fatal(err)
		}
		prefix, suffix := fmt.Sprintf("tsimcneNames(%d, ", k), ");\n"
		js := string(b)
		if !strings.HasPrefix(js, prefix) || !strings.HasSuffix(js, suffix) {
			t.Fatalf("name file %d: %.60q", k, js)
		}
		var got []string
		if err := json.Unmarshal([]byte(js[len(prefix):len(js)-len(suffix)]), &got); err != nil || !slices.Equal(got, want) {
			t.Errorf("name file %d holds %d names (%v), want %d", k, len(got), err, len(want))
		}
	}
}

func TestInteractiveUnlabelledLarge(t *testing.T) {
	xy, _, _ := blobs(5, 12000, 32) // 60 000 points
	p, err := Interactive(xy, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	page := string(p.HTML())
	checkSelfContained(t, page)
	checkWellFormed(t, page)
	d := pageJSON(t, page)
	if d.N != 60000 || d.Labels != nil || d.Thumbs != nil || len(d.Colors) != 1 {
		t.Errorf("unlabelled page data: n %d, labels %v, thumbs %v, colors %v", d.N, d.Labels, d.Thumbs, d.Colors)
	}
	if len(page) > 500_000 {
		t.Errorf("60 000 points without images take %d bytes, want < 500 kB", len(page))
	}
	if _, err := Interactive(xy, nil, nil, Highlight(-1)); err == nil {
		t.Errorf("bad highlight index: no error")
	}
}

func TestIFrame(t *testing.T) {
	xy, labels, names := blobs(2, 10, 33)
	p, _ := Interactive(xy, labels, names, Size(700, 500))
	fr := p.IFrame()
	if !strings.HasPrefix(fr, `<iframe srcdoc="&lt;!DOCTYPE html&gt;`) || !strings.Contains(fr, "height:500px") ||
		strings.Count(fr, `"`) != 6 {
		t.Errorf("iframe: %s", fr[:min(200, len(fr))])
	}
}
