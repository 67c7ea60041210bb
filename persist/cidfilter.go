package persist

// cidFilter is a Bloom filter over the hashes of a conversation's stored
// client ids. Like an exact set it proves absence (a hash never added is
// never reported), so a new client id needs no read; a false positive only
// costs one read. It takes about 10 bits per id instead of a map entry's
// tens of bytes, so a long conversation's cache stays small. It grows by
// doubling, rebuilt from storage when it has filled.
type cidFilter struct {
	bits  []uint64
	count int
}

const (
	cidFilterMinWords = 16 // 1,024 bits
	cidBitsPerID      = 10
	cidProbes         = 7
)

func newCIDFilter(ids int) *cidFilter {
	words := cidFilterMinWords
	for words*64 < ids*cidBitsPerID*2 { // room to double before the next rebuild
		words *= 2
	}
	return &cidFilter{bits: make([]uint64, words)}
}

// full reports whether the filter holds as many ids as its size is for.
func (f *cidFilter) full() bool { return f.count*cidBitsPerID >= len(f.bits)*64 }

func (f *cidFilter) add(h uint64) {
	n := uint64(len(f.bits) * 64)
	h1, h2 := h, h>>32|h<<32|1
	for i := uint64(0); i < cidProbes; i++ {
		bit := (h1 + i*h2) % n
		f.bits[bit/64] |= 1 << (bit % 64)
	}
	f.count++
}

func (f *cidFilter) mayContain(h uint64) bool {
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
