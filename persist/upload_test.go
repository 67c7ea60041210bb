package persist

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/parley-chat/parley/engine"
)

func upload(name string, data []byte) engine.Upload {
	return engine.Upload{Name: name, ContentType: "image/png", Size: int64(len(data)), Width: 1, Height: 1,
		By: engine.PartyShopper, ByID: "cust_1", At: t0}
}

// An upload comes back whole, at any offset and across chunk boundaries; a
// name is never stored twice; the totals count what is stored.
func TestUploadRoundTrip(t *testing.T) {
	s := memStore(t)
	rng := rand.New(rand.NewPCG(1, 2))
	sizes := []int{1, uploadChunkBytes - 1, uploadChunkBytes, uploadChunkBytes + 1, 3*uploadChunkBytes + 17}
	var total uint64
	for i, n := range sizes {
		data := make([]byte, n)
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		name := engine.NewUploadName("image/png")
		if err := s.PutUpload(upload(name, data), data); err != nil {
			t.Fatal(err)
		}
		total += uint64(n)
		u, r, err := s.OpenUpload(name)
		if err != nil || u.Size != int64(n) || u.ByID != "cust_1" || !u.At.Equal(t0) {
			t.Fatalf("upload %d: %+v %v", i, u, err)
		}
		got, err := io.ReadAll(io.NewSectionReader(r, 0, u.Size))
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("upload of %d bytes read back as %d bytes, err %v", n, len(got), err)
		}
		for _, off := range []int{0, n / 2, n - 1, uploadChunkBytes - 3} {
			if off < 0 || off >= n {
				continue
			}
			p := make([]byte, min(10, n-off))
			if k, err := r.ReadAt(p, int64(off)); k != len(p) || err != nil || !bytes.Equal(p, data[off:off+k]) {
				t.Fatalf("ReadAt(%d) of %d: %d %v", off, n, k, err)
			}
		}
		if k, err := r.ReadAt(make([]byte, 4), int64(n)); k != 0 || err != io.EOF {
			t.Fatalf("ReadAt past the end: %d %v", k, err)
		}
		if err := s.PutUpload(upload(name, []byte{1}), []byte{1}); !errors.Is(err, ErrExists) {
			t.Fatalf("a second upload under one name: %v", err)
		}
	}
	if count, b, err := s.UploadTotals(); err != nil || count != uint64(len(sizes)) || b != total {
		t.Fatalf("totals %d uploads, %d bytes, %v; want %d, %d", count, b, err, len(sizes), total)
	}
	if _, _, err := s.OpenUpload(engine.NewUploadName("image/png")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("an unknown upload: %v", err)
	}
	if err := s.PutUpload(upload("", nil), nil); err == nil {
		t.Fatal("an upload without a name was stored")
	}
}

// An upload is durable once PutUpload returns, and a reader that outlives
// the store fails cleanly.
func TestUploadSurvivesACrash(t *testing.T) {
	fs := vfs.NewCrashableMem()
	s, err := Open(Options{Dir: "db", FS: fs, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("parley"), 30000)
	name := engine.NewUploadName("image/gif")
	if err := s.PutUpload(upload(name, data), data); err != nil {
		t.Fatal(err)
	}
	crashed := fs.CrashClone(vfs.CrashCloneCfg{})
	_, r, err := s.OpenUpload(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadAt(make([]byte, 8), 0); !errors.Is(err, ErrClosed) {
		t.Fatalf("read after close: %v", err)
	}
	s2 := openOn(t, crashed, "db")
	u, r, err := s2.OpenUpload(name)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(io.NewSectionReader(r, 0, u.Size))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("after a crash: %d bytes, %v", len(got), err)
	}
}
