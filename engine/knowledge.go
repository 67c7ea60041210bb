package engine

import (
	"math"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"
)

// Knowledge is a search index over the store's published FAQs and articles
// (C4), the AI agent's knowledge (S10). It ranks articles with BM25F: the
// BM25 formula over two fields, the title (an FAQ's question) weighted above
// the body. Build it with NewKnowledge whenever the FAQs change; it is
// cheap (tens of milliseconds for 1,000 articles, see
// docs/architecture.md). A Knowledge never changes once built and is safe
// for concurrent use.
type Knowledge struct {
	articles []Article
	lang     []string         // each article's language, if language can tell
	ids      map[string]int32 // each term's id
	postings [][]posting      // by term id, by article
	vocab    []string         // the terms, sorted, for prefix matches
	titleLen []float64
	bodyLen  []float64
	avgTitle float64
	avgBody  float64
}

// posting is one article's use of a term: how often it is in each field.
type posting struct {
	doc         int32
	title, body uint16
}

// Hit is an article found by a search, with its BM25F score: higher is
// better; scores compare within one search only.
type Hit struct {
	Article Article
	Score   float64
}

// The ranking's parameters. BM25's usual k1 and b did as well as any other
// on the dev questions of testdata/knowledge.
const (
	bm25K1      = 1.2  // how soon repeating a term stops adding to the score
	bm25BTitle  = 0.3  // how much a long title is penalised
	bm25BBody   = 0.75 // how much a long body is penalised
	titleWeight = 2.5  // a term in the title counts as 2.5 in the body
)

// NewKnowledge indexes articles. Articles with no searchable words are
// kept but can never be found.
func NewKnowledge(articles []Article) *Knowledge {
	k := &Knowledge{
		articles: slices.Clone(articles),
		ids:      map[string]int32{},
		lang:     make([]string, len(articles)),
		titleLen: make([]float64, len(articles)),
		bodyLen:  make([]float64, len(articles)),
	}
	x := indexer{k: k, memo: map[string]wordInfo{}}
	for i, a := range k.articles {
		tw, bw := words(a.Title), words(a.Body)
		k.lang[i] = languageOf(tw, bw)
		k.titleLen[i] = float64(x.add(tw, true))
		k.bodyLen[i] = float64(x.add(bw, false))
		k.avgTitle += k.titleLen[i]
		k.avgBody += k.bodyLen[i]
		x.flush(int32(i))
	}
	if n := float64(len(articles)); n > 0 {
		k.avgTitle /= n
		k.avgBody /= n
	}
	k.avgTitle = max(k.avgTitle, 1) // no titles: no division by 0
	k.avgBody = max(k.avgBody, 1)
	k.vocab = make([]string, 0, len(k.ids))
	for t := range k.ids {
		k.vocab = append(k.vocab, t)
	}
	sort.Strings(k.vocab)
	return k
}

// indexer counts the terms of one article at a time, remembering each
// word's term: a help centre says the same words many times over.
type indexer struct {
	k           *Knowledge
	memo        map[string]wordInfo
	title, body []uint16 // the article's count of each term, by id
	touched     []int32  // the ids counted
}

// wordInfo is what the indexer remembers of a word: its term's id (-1
// for a word dropped) and whether a phrase may start with it.
type wordInfo struct {
	id     int32
	phrase bool
}

// add counts the terms of the words of one field, and returns how many.
// Questions get hints (see hints); articles say what they mean.
func (x *indexer) add(ws []string, title bool) int {
	n := 0
	for i := 0; i < len(ws); i++ {
		info := x.info(ws[i])
		if info.phrase {
			if p, ok := phraseAt(ws, i); ok {
				for _, w := range p.with {
					n += x.count(x.info(w).id, title)
				}
				i += len(p.words) - 1
				continue
			}
		}
		n += x.count(info.id, title)
	}
	return n
}

func (x *indexer) info(w string) wordInfo {
	if info, ok := x.memo[w]; ok {
		return info
	}
	info := wordInfo{id: -1, phrase: phraseStarts[w] != nil}
	if t := termOf(w); t != "" {
		id, ok := x.k.ids[t]
		if !ok {
			id = int32(len(x.k.postings))
			x.k.ids[t] = id
			x.k.postings = append(x.k.postings, nil)
			x.title = append(x.title, 0)
			x.body = append(x.body, 0)
		}
		info.id = id
	}
	x.memo[w] = info
	return info
}

func (x *indexer) count(id int32, title bool) int {
	if id < 0 {
		return 0
	}
	if x.title[id] == 0 && x.body[id] == 0 {
		x.touched = append(x.touched, id)
	}
	if title {
		x.title[id] = satAdd(x.title[id])
	} else {
		x.body[id] = satAdd(x.body[id])
	}
	return 1
}

// flush files the counts of article doc under their terms.
func (x *indexer) flush(doc int32) {
	for _, id := range x.touched {
		x.k.postings[id] = append(x.k.postings[id], posting{doc: doc, title: x.title[id], body: x.body[id]})
		x.title[id], x.body[id] = 0, 0
	}
	x.touched = x.touched[:0]
}

func satAdd(n uint16) uint16 {
	if n == math.MaxUint16 {
		return n
	}
	return n + 1
}

// Len is the number of articles indexed.
func (k *Knowledge) Len() int {
	if k == nil {
		return 0
	}
	return len(k.articles)
}

// Search returns the at most n articles that best match query, best first;
// articles that match no word of the query are never returned.
func (k *Knowledge) Search(query string, n int) []Hit {
	if k.Len() == 0 || n <= 0 {
		return nil
	}
	r := k.rank(k.query(query, 1, nil, map[string]bool{}), language(query))
	return r.top(n)
}

// queryTerm is a term of a query: the indexed term it matches, its weight
// in the query (less than 1 for a word of an earlier message, or a word
// matched by prefix only) and its inverse document frequency.
type queryTerm struct {
	id     int32 // the indexed term it matches; -1 if none
	weight float64
	idf    float64
}

// query analyses text into query terms of weight w, added to q; seen holds
// the terms q has already, which are not added again. A word that no
// article has is matched to the indexed term it begins with, or else that
// begins with it, at a reduced weight: Swedish writes compounds as one
// word ("betalningsalternativ"), English adds endings the stemmer does not
// know. A word with no match at all still counts, at a fifth of the weight
// of the rarest word, so that a question about something the store never
// wrote about scores a low coverage.
func (k *Knowledge) query(text string, w float64, q []queryTerm, seen map[string]bool) []queryTerm {
	for _, t := range questionTerms(text) {
		if seen[t] {
			continue
		}
		seen[t] = true
		if id, ok := k.ids[t]; ok {
			q = append(q, queryTerm{id: id, weight: w, idf: k.idf(id)})
			continue
		}
		if p := k.prefixMatch(t); p != "" && !seen[p] {
			seen[p] = true
			id := k.ids[p]
			q = append(q, queryTerm{id: id, weight: w * prefixWeight, idf: k.idf(id)})
			continue
		}
		q = append(q, queryTerm{id: -1, weight: w, idf: unknownIDF * k.idfOf(0)})
	}
	return q
}

const (
	prefixWeight = 0.7 // a word matched by prefix counts this much
	minPrefix    = 5   // runes a prefix match needs on its shorter side
	unknownIDF   = 0.2 // an unknown word weighs as the rarest word, times this
)

// prefixMatch returns the longest indexed term of at least minPrefix runes
// that t begins with, or else the shortest that begins with t, or "".
func (k *Knowledge) prefixMatch(t string) string {
	if k == nil || utf8.RuneCountInString(t) < minPrefix {
		return ""
	}
	for i := len(t) - 1; i > 0; i-- {
		p := t[:i]
		if !utf8.RuneStart(t[i]) {
			continue
		}
		if utf8.RuneCountInString(p) < minPrefix {
			break
		}
		if _, ok := k.ids[p]; ok {
			return p
		}
	}
	i := sort.SearchStrings(k.vocab, t)
	best := ""
	for ; i < len(k.vocab) && strings.HasPrefix(k.vocab[i], t); i++ {
		if best == "" || len(k.vocab[i]) < len(best) {
			best = k.vocab[i]
		}
	}
	return best
}

// idf is BM25's inverse document frequency of an indexed term (never
// negative, as in Lucene).
func (k *Knowledge) idf(id int32) float64 {
	return k.idfOf(len(k.postings[id]))
}

func (k *Knowledge) idfOf(df int) float64 {
	n := float64(k.Len())
	return math.Log(1 + (n-float64(df)+0.5)/(float64(df)+0.5))
}

// ranking is the outcome of scoring every article against a query: the
// score of each, and the share of the query's weight each one matched.
type ranking struct {
	k       *Knowledge
	q       []queryTerm
	score   []float64
	matched []float64 // sum of weight×idf of the query terms the article has, less for the body only
	total   float64   // sum of weight×idf over every query term
}

const (
	// bodyOnly is how much a query term found in an article's body but not
	// its title counts towards the article's coverage of the query.
	bodyOnly = 0.6
	// otherLanguage scales the score of an article in another language
	// than the question's, when both can be told: a shopper is answered in
	// their language when the store has an article in it.
	otherLanguage = 0.6
)

// rank scores every article against q, written in lang.
func (k *Knowledge) rank(q []queryTerm, lang string) ranking {
	r := ranking{k: k, q: q}
	if k.Len() == 0 {
		return r
	}
	r.score = make([]float64, len(k.articles))
	r.matched = make([]float64, len(k.articles))
	for _, qt := range q {
		r.total += qt.weight * qt.idf
		if qt.id < 0 {
			continue
		}
		for _, p := range k.postings[qt.id] {
			d := p.doc
			tf := titleWeight*float64(p.title)/(1-bm25BTitle+bm25BTitle*k.titleLen[d]/k.avgTitle) +
				float64(p.body)/(1-bm25BBody+bm25BBody*k.bodyLen[d]/k.avgBody)
			r.score[d] += qt.weight * qt.idf * tf * (bm25K1 + 1) / (bm25K1 + tf)
			if p.title > 0 {
				r.matched[d] += qt.weight * qt.idf
			} else {
				r.matched[d] += bodyOnly * qt.weight * qt.idf
			}
		}
	}
	if lang != langUnknown {
		for d, l := range k.lang {
			if l != langUnknown && l != lang {
				r.score[d] *= otherLanguage
			}
		}
	}
	return r
}

// order returns the at most n articles with a positive score, best first
// (ties by position, for a stable answer).
func (r ranking) order(n int) []int {
	if n <= 0 {
		return nil
	}
	var docs []int
	for d, s := range r.score {
		if s <= 0 {
			continue
		}
		if len(docs) == n && s <= r.score[docs[n-1]] {
			continue
		}
		i := sort.Search(len(docs), func(i int) bool { return r.score[docs[i]] < s })
		if len(docs) < n {
			docs = append(docs, 0)
		}
		copy(docs[i+1:], docs[i:])
		docs[i] = d
	}
	return docs
}

func (r ranking) top(n int) []Hit {
	docs := r.order(n)
	hits := make([]Hit, len(docs))
	for i, d := range docs {
		hits[i] = Hit{Article: r.k.articles[d], Score: r.score[d]}
	}
	return hits
}
