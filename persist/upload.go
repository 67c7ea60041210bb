package persist

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/parley-chat/parley/engine"
)

// Uploaded images are kept whole in the store, beside the conversations
// that show them, so that a checkpoint (parley backup) holds them with the
// messages that point at them, consistent to the same instant:
//
//	u/<name>/meta          the upload (engine.Upload) and its chunk size
//	u/<name>/d/<i:4 BE>    its bytes, in chunks of uploadChunkBytes
//	cfg/meta/uploads       count:8 BE, bytes:8 BE of every upload stored
//
// An upload is written in one batch, so a crash leaves it whole or absent.
// Its bytes are read a chunk at a time, each chunk one short call, so a
// client downloading slowly holds no iterator and no store call open.

// ErrExists is PutUpload's answer for a name that is taken: an upload never
// changes once stored.
var ErrExists = errors.New("persist: exists")

// uploadChunkBytes is the size of the chunks new uploads are written in. A
// stored upload records its own chunk size, so this may change.
const uploadChunkBytes = 64 << 10

const uploadTotalsMeta = "uploads"

// uploadRecord stores an Upload with the chunk size its bytes were written in.
type uploadRecord struct {
	engine.Upload
	ChunkBytes int `json:"chunk_bytes"`
}

func uploadMetaKey(name string) []byte { return append(key(uploadPrefix, name), "/meta"...) }

func uploadChunkKey(name string, i int) []byte {
	return binary.BigEndian.AppendUint32(append(key(uploadPrefix, name), "/d/"...), uint32(i))
}

// PutUpload stores an upload and its bytes durably, in one batch with the
// running totals; ErrExists if the name is taken. u.Size must be len(data).
func (s *Store) PutUpload(u engine.Upload, data []byte) error {
	if u.Name == "" || u.Size != int64(len(data)) {
		return fmt.Errorf("persist: upload without a name, or whose size is not its length")
	}
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	s.uploadMu.Lock()
	defer s.uploadMu.Unlock()
	if _, found, err := s.get(uploadMetaKey(u.Name)); err != nil || found {
		if err == nil {
			err = ErrExists
		}
		return err
	}
	count, total, err := s.uploadTotals()
	if err != nil {
		return err
	}
	b := s.db.NewBatch()
	err = setRecord(b, uploadMetaKey(u.Name), uploadRecord{u, uploadChunkBytes})
	for i := 0; err == nil && i*uploadChunkBytes < len(data); i++ {
		chunk := data[i*uploadChunkBytes : min(len(data), (i+1)*uploadChunkBytes)]
		err = b.Set(uploadChunkKey(u.Name, i), chunk, nil)
	}
	if err == nil {
		totals := binary.BigEndian.AppendUint64(nil, count+1)
		err = b.Set(key(metaPrefix, uploadTotalsMeta), binary.BigEndian.AppendUint64(totals, total+uint64(len(data))), nil)
	}
	if err != nil {
		b.Close()
		return fmt.Errorf("persist: upload batch: %w", err)
	}
	return s.apply(b)
}

// UploadTotals is how many uploads the store holds, and their bytes.
func (s *Store) UploadTotals() (count, bytes uint64, err error) {
	if err := s.enter(); err != nil {
		return 0, 0, err
	}
	defer s.leave()
	return s.uploadTotals()
}

func (s *Store) uploadTotals() (count, bytes uint64, err error) {
	v, found, err := s.get(key(metaPrefix, uploadTotalsMeta))
	if err != nil || !found {
		return 0, 0, err
	}
	if len(v) != 16 {
		return 0, 0, fmt.Errorf("%w: upload totals of %d bytes", errCorrupt, len(v))
	}
	return binary.BigEndian.Uint64(v[:8]), binary.BigEndian.Uint64(v[8:]), nil
}

// OpenUpload finds an upload; ErrNotFound if none. Its bytes are read with
// the io.ReaderAt, one chunk per call to the store; reading them after the
// store closed fails with ErrClosed.
func (s *Store) OpenUpload(name string) (engine.Upload, io.ReaderAt, error) {
	var r uploadRecord
	found, err := s.getRecord(uploadMetaKey(name), &r)
	switch {
	case err != nil:
		return engine.Upload{}, nil, err
	case !found:
		return engine.Upload{}, nil, ErrNotFound
	case r.ChunkBytes <= 0 || r.Size < 0:
		return engine.Upload{}, nil, fmt.Errorf("%w: upload %q: chunks of %d bytes", errCorrupt, name, r.ChunkBytes)
	}
	return r.Upload, &uploadReader{s: s, name: name, size: r.Size, chunk: int64(r.ChunkBytes)}, nil
}

// uploadReader reads an upload's bytes from its chunks.
type uploadReader struct {
	s           *Store
	name        string
	size, chunk int64
}

// ReadAt reads from the chunks that hold [off, off+len(p)), each with one
// point lookup, copying straight from Pebble's buffer into p.
func (r *uploadReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("persist: upload %q: negative offset", r.name)
	}
	if err := r.s.enter(); err != nil {
		return 0, err
	}
	defer r.s.leave()
	n := 0
	for n < len(p) && off+int64(n) < r.size {
		at := off + int64(n)
		i := at / r.chunk
		raw, closer, err := r.s.db.Get(uploadChunkKey(r.name, int(i)))
		if err != nil {
			return n, fmt.Errorf("persist: upload %q chunk %d: %w", r.name, i, err)
		}
		within := at - i*r.chunk
		short := int64(len(raw)) <= within || i*r.chunk+int64(len(raw)) > r.size
		if !short {
			n += copy(p[n:], raw[within:])
		}
		if err := closer.Close(); err != nil {
			return n, fmt.Errorf("persist: upload %q: %w", r.name, err)
		}
		if short {
			return n, fmt.Errorf("%w: upload %q chunk %d is %d bytes", errCorrupt, r.name, i, len(raw))
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
