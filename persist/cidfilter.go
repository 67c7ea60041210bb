package persist

// cidFilter is a Bloom filter over the hashes of a conversation's stored
// client ids. Like an exact set it proves absence (a hash never added is
// never reported), so a new client id needs no read; a false positive only
// costs one read. It takes about 10 bits per id instead of a map entry's
// tens of bytes. It grows by doubling, rebuilt from storage when it has
// filled, up to cidFilterMaxIDs: a conversation longer than that (rare in
// support chats) has a saturated filter, no bits, that answers "maybe" to
// everything, so each of its messages costs one indexed read and its cache
// entry stays small however long it runs.
type cidFilter struct {
	bits  []uint64 // nil: saturated
	count int
}

const (
	cidFilterMinWords = 16 // 1,024 bits
	cidBitsPerID      = 10
	cidProbes         = 7
	cidFilterMaxIDs   = 512 // at most 1 KiB of bits per cached conversation
)

func newCIDFilter(ids int) *cidFilter {
	if ids >= cidFilterMaxIDs {
		return &cidFilter{}
	}
	room := min(ids*2, cidFilterMaxIDs) // room to double before the next rebuild
	words := cidFilterMinWords
	for words*64 < room*cidBitsPerID {
		words *= 2
	}
	return &cidFilter{bits: make([]uint64, words)}
}

func (f *cidFilter) saturated() bool { return f.bits == nil }

// full reports whether the filter holds as many ids as its size is for.
func (f *cidFilter) full() bool {
	return !f.saturated() && f.count*cidBitsPerID >= len(f.bits)*64
}

func (f *cidFilter) add(h uint64) {
	if f.saturated() {
		return
	}
	n := uint64(len(f.bits) * 64)
	h1, h2 := h, h>>32|h<<32|1
	for i := uint64(0); i < cidProbes; i++ {
		bit := (h1 + i*h2) % n
		f.bits[bit/64] |= 1 << (bit % 64)
	}
	f.count++
}

func (f *cidFilter) mayContain(h uint64) bool {
	if f.saturated() {
		return true
	}
	n := uint64(len(f.bits) * 64)
	h1, h2 := h, h>>32|h<<32|1
	for i := uint64(0); i < cidProbes; i++ {
		bit := (h1 + i*h2) % n
		if f.bits[bit/64]&(1<<(bit%64)) == 0 {
			return false
		}
	}
	return true
}
