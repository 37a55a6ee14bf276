//go:build unix

package plots

import (
	"bytes"
	"encoding/gob"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/janpfeifer/gonb/gonbui/protocol"
)

// TestDisplayInNotebook plays GoNB's side of the pipes that gonbui writes
// to (two FIFOs named by $GONB_PIPE and $GONB_PIPE_BACK) and checks what
// Display sends: a PNG for figures, an iframe for the page.
func TestDisplayInNotebook(t *testing.T) {
	if gonbui.IsNotebook {
		t.Skip("already in a notebook")
	}
	dir := t.TempDir()
	toGoNB, fromGoNB := filepath.Join(dir, "pipe"), filepath.Join(dir, "back")
	for _, p := range []string{toGoNB, fromGoNB} {
		if err := syscall.Mkfifo(p, 0o600); err != nil {
			t.Skipf("cannot make FIFO: %v", err)
		}
	}
	t.Setenv(protocol.GONB_PIPE_ENV, toGoNB)
	t.Setenv(protocol.GONB_PIPE_BACK_ENV, fromGoNB)
	back := make(chan *os.File, 1)
	go func() { // GoNB: open the back pipe (gonbui opens its end on the first message).
		f, _ := os.OpenFile(fromGoNB, os.O_WRONLY, 0)
		back <- f
	}()
	backPipe := sync.OnceValue(func() *os.File { return <-back })
	msgs := make(chan *protocol.DisplayData, 10)
	var syncs atomic.Int32
	go func() { // GoNB: read display messages, acknowledge gonbui.Sync requests.
		f, err := os.Open(toGoNB)
		if err != nil {
			close(msgs)
			return
		}
		dec := gob.NewDecoder(f)
		var enc *gob.Encoder
		for {
			var d protocol.DisplayData
			if dec.Decode(&d) != nil {
				close(msgs)
				return
			}
			var v protocol.CommValue // gob decodes the *CommValue sent as a CommValue
			switch x := d.Data[protocol.MIMECommValue].(type) {
			case protocol.CommValue:
				v = x
			case *protocol.CommValue:
				v = *x
			}
			if v.Address == protocol.GonbuiSyncAddress {
				if enc == nil {
					bp := backPipe()
					if bp == nil {
						close(msgs)
						return
					}
					enc = gob.NewEncoder(bp)
				}
				syncs.Add(1)
				_ = enc.Encode(&protocol.CommValue{Address: protocol.GonbuiSyncAckAddress, Value: v.Value})
				continue
			}
			msgs <- &d
		}
	}()
	recv := func() *protocol.DisplayData {
		t.Helper()
		select {
		case d, ok := <-msgs:
			if !ok {
				t.Fatal("display pipe closed")
			}
			return d
		case <-time.After(20 * time.Second):
			t.Fatal("nothing displayed after 20 s")
		}
		return nil
	}
	gonbui.IsNotebook = true
	defer func() { gonbui.IsNotebook = false }()

	xy, labels, names := blobs(3, 40, 71)
	f, err := Map(xy, labels, names, Size(300, 200))
	if err != nil {
		t.Fatal(err)
	}
	if path, err := f.Display(); err != nil || path != "" {
		t.Fatalf("Display in notebook: %q, %v", path, err)
	}
	d := recv()
	b, ok := d.Data[protocol.MIMEImagePNG].([]byte)
	if !ok {
		t.Fatalf("figure sent as %v, want image/png", d.Data)
	}
	if img, err := png.Decode(bytes.NewReader(b)); err != nil {
		t.Errorf("PNG sent does not decode: %v", err)
	} else if img.Bounds().Dx() != 300 {
		t.Errorf("PNG sent is %v, want 300 wide", img.Bounds())
	}
	if _, err := f.DisplaySVG(); err != nil {
		t.Fatal(err)
	}
	d = recv()
	if s, _ := d.Data[protocol.MIMETextHTML].(string); !strings.HasPrefix(s, "<div><svg") {
		t.Errorf("SVG sent as %.60q", s)
	}
	p, err := Interactive(xy, labels, names)
	if err != nil {
		t.Fatal(err)
	}
	if path, err := p.Display(); err != nil || path != "" {
		t.Fatalf("page Display in notebook: %q, %v", path, err)
	}
	d = recv()
	if s, _ := d.Data[protocol.MIMETextHTML].(string); !strings.HasPrefix(s, "<iframe srcdoc=") {
		t.Errorf("page sent as %.60q", s)
	}
	// A live picture: two updates of one display block, then the block
	// emptied and the last figure shown as an ordinary output.
	live := NewLive()
	for range 2 {
		if err := live.Update(f); err != nil {
			t.Fatal(err)
		}
		d = recv()
		if s, _ := d.Data[protocol.MIMETextHTML].(string); d.DisplayID == "" || !strings.HasPrefix(s, "<img width=\"300\"") {
			t.Errorf("live update sent as display %q, %.60q", d.DisplayID, s)
		}
	}
	id := d.DisplayID
	if _, err := live.Finish(f); err != nil {
		t.Fatal(err)
	}
	if d = recv(); d.DisplayID != id || d.Data[protocol.MIMETextHTML] != "" {
		t.Errorf("Finish sent display %q with %v, want block %q emptied", d.DisplayID, d.Data, id)
	}
	if d = recv(); d.DisplayID != "" || d.Data[protocol.MIMEImagePNG] == nil {
		t.Errorf("Finish's static figure sent as display %q, %v", d.DisplayID, d.Data)
	}
	if err := gonbui.Error(); err != nil {
		t.Errorf("gonbui error: %v", err)
	}
	// Each Display waited for GoNB's acknowledgement (gonbui.Sync): it
	// returned only after its message was read, before the next one.
	if n := syncs.Load(); n != 7 {
		t.Errorf("%d sync requests, want 3 (one per Display)", n)
	}
	if f := backPipe(); f != nil {
		defer f.Close()
	}
}
