package engine

import (
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The text analysis of the AI agent's search (S10): how a question and an
// article become the terms that are matched. One analysis serves English and
// Swedish alike, since a store writes in either and a shopper may write in
// the other: words are runs of Unicode letters and digits, lower-cased; an
// apostrophe inside a word is dropped ("don't" is "dont"); one-letter words
// and stop words are dropped; what is left is stemmed by stripping common
// English and Swedish endings. The stemmer is crude (it makes "order" and
// "orders" both "ord") but it is the same on both sides of the match, and
// that is all a match needs.

// words splits text into lower-cased words: runs of letters and digits, an
// apostrophe between two letters dropped. A word of lower-case ASCII (most
// words) is a piece of text, not a copy.
func words(text string) []string {
	out := make([]string, 0, len(text)/6+1) // English words average about 5 letters and a space
	for i := 0; i < len(text); {
		start, plain := i, true
		for i < len(text) {
			r, size := runeAt(text, i)
			if isWordRune(r) {
				plain = plain && r < utf8.RuneSelf && !('A' <= r && r <= 'Z')
			} else if (r == '\'' || r == '’') && i > start && letterAt(text, i+size) {
				plain = false // inside a word: "don't" is one word, "dont"
			} else {
				break
			}
			i += size
		}
		if i > start {
			out = append(out, word(text[start:i], plain))
			continue
		}
		_, size := runeAt(text, i)
		i += size // a rune between words
	}
	return out
}

// runeAt decodes the rune at text[i], quickly when it is ASCII.
func runeAt(text string, i int) (rune, int) {
	if c := text[i]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRuneInString(text[i:])
}

func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// word is w lower-cased without apostrophes, or w itself when plain.
func word(w string, plain bool) string {
	if plain {
		return w
	}
	return strings.Map(func(r rune) rune {
		if r == '\'' || r == '’' {
			return -1
		}
		return unicode.ToLower(r)
	}, w)
}

func letterAt(s string, i int) bool {
	r, _ := utf8.DecodeRuneInString(s[i:])
	return unicode.IsLetter(r)
}

// terms analyses text into the terms of the index: its words with the
// phrases and synonyms of a web shop's vocabulary replaced, without stop
// words and one-letter words, stemmed.
func terms(text string) []string {
	return termsOf(words(text))
}

// questionTerms are the terms of a question: its words' and its hints'.
func questionTerms(text string) []string {
	return termsOf(hints(words(text)))
}

func termsOf(ws []string) []string {
	ws = phrases(ws)
	out := ws[:0:0]
	for _, w := range ws {
		if t := termOf(w); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// termOf is the term of one word, "" if it is dropped.
func termOf(w string) string {
	if stopWords[w] || utf8.RuneCountInString(w) < 2 {
		return ""
	}
	if s, ok := synonyms[w]; ok {
		w = s
	}
	return stem(w)
}

// hints adds to the words of a question the word it means without saying
// it: "where is my parcel" asks to track it.
func hints(ws []string) []string {
	where, parcel := false, false
	for _, w := range ws {
		where = where || w == "where" || w == "wheres" || w == "var"
		parcel = parcel || parcelWords[w]
	}
	if where && parcel {
		ws = append(ws, "track")
	}
	return ws
}

var parcelWords = setOf(`parcel parcels package packages order orders shipment delivery
	paket paketet paketen ordern beställning beställningen försändelse`)

// phrases replaces the phrases of phraseTable in ws by their words; ws
// itself when it has none.
func phrases(ws []string) []string {
	var out []string
	for i := 0; i < len(ws); i++ {
		p, ok := phraseAt(ws, i)
		if !ok {
			if out != nil {
				out = append(out, ws[i])
			}
			continue
		}
		if out == nil {
			out = append(make([]string, 0, len(ws)+2), ws[:i]...)
		}
		out = append(out, p.with...)
		i += len(p.words) - 1
	}
	if out == nil {
		return ws
	}
	return out
}

// phraseAt is the phrase of phraseTable that starts at ws[i], if any.
func phraseAt(ws []string, i int) (phrase, bool) {
	for _, p := range phraseStarts[ws[i]] {
		if len(p.words) <= len(ws)-i && slices.Equal(ws[i:i+len(p.words)], p.words) {
			return p, true
		}
	}
	return phrase{}, false
}

type phrase struct{ words, with []string }

// phraseStarts are the phrases of phraseTable by their first word.
var phraseStarts = func() map[string][]phrase {
	m := map[string][]phrase{}
	for _, p := range phraseTable {
		ws := strings.Fields(p[0])
		m[ws[0]] = append(m[ws[0]], phrase{words: ws, with: strings.Fields(p[1])})
	}
	return m
}()

// phraseTable and synonyms are the few ways shoppers and stores say the
// same thing in other words, in English and Swedish: each phrase or word
// is replaced by the words after it before stemming, in questions and
// articles alike. They are a web shop's general vocabulary (delivery,
// parcels, refunds), never one store's.
var phraseTable = [][2]string{
	{"how much", "cost"},
	{"how long", "when"}, // asks when, as "when" does: not about length
	{"hur länge", "när"},
	{"close my account", "delete account"},
	{"close account", "delete account"},
	{"remove my account", "delete account"},
	{"cancel my account", "delete account"},
	{"next day", "express"},
	{"opt out", "unsubscribe"},
	{"mailing list", "newsletter"},
	{"marketing emails", "newsletter"},
	{"sign up", "create account"},
	{"gift voucher", "gift card"},
	{"gift vouchers", "gift card"},
	{"send back", "return"},
	{"sent back", "return"},
	{"send it back", "return"},
	{"send them back", "return"},
	{"money back", "refund"},
	{"size chart", "size guide"},
	{"sign in", "log in"},
	{"phone number", "telephone"},
	{"skicka tillbaka", "returnera"},
	{"lämna tillbaka", "returnera"},
	{"pengarna tillbaka", "återbetalning"},
}

var synonyms = synonymsOf(`
	parcel: package packages packet parcels shipment shipments
	ship: deliver delivers delivered delivery deliveries delivering shipping shipped ships
	countries: international internationally abroad overseas worldwide country
	home: door doorstep house
	refund: reimburse reimbursed reimbursement
	discount: promo coupon coupons voucher vouchers
	telephone: phone call ring
	mail: email emails mails
	color: colour colours colors
	store: shop shops
	log: login
	exchange: swap switch
	declined: rejected refused denied failed fails failing
	methods: options option alternatives
	express: faster fastest quicker urgent urgently asap overnight
	damaged: broke broken faulty defective torn ripped
	item: stuff things product products goods
	price: cheaper
	cost: fee fees charge charges
	change: update edit modify alter
	use: redeem
	paket: försändelse försändelsen
	trasig: sönder trasiga trasigt
`)

// synonymsOf reads lines "canonical: variant variant …" into a map from
// each variant to its canonical word.
func synonymsOf(list string) map[string]string {
	m := map[string]string{}
	for line := range strings.Lines(list) {
		canonical, variants, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		for _, v := range strings.Fields(variants) {
			m[v] = strings.TrimSpace(canonical)
		}
	}
	return m
}

// stopWords are words too common to say what a question is about: English
// and Swedish function words, and what shoppers add to be polite or to ask
// ("hi", "please", "want", "know").
var stopWords = setOf(`
a about after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing done down during each either else
even ever every few for from further had has have having he her here hers him his how i if
in into is it its itself just let me more most much many my myself no nor not now of off
on once only or other our ours out over own same she should so some such than that the
their theirs them then there these they this those through to too under until up us very
was we were what when where which while who whom whose why will with would you your yours
yourself may might must shall also okay ok yes hi hello hey thanks thank please pls get got
want wanted need needed know like tell let lets someone something anything one ones way
help question questions problem problems issue issues wondering wonder support
policy policies info information details
dont doesnt didnt cant couldnt wont wouldnt isnt arent wasnt werent hasnt havent hadnt
shouldnt im ive id ill youre youve theyre whats thats theres heres its hows
och att det som en ett är av för med till den har de inte om var jag du vi ni han hon man
sig så men eller från vid hur vad när vilka vilken vilket kan ska skulle vill får måste
min mitt mina din ditt dina er ert era vår vårt våra hej tack då nu här där detta dessa
denna alla någon något några mycket också bara än under efter över upp ut in hos mig dig
oss dem sin sitt sina blir blev vara varit finns gör göra går gå ju nog väl hade på
hjälp fråga frågor undrar problem
sen nån mej dej ha ta
`)

func setOf(list string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(list) {
		m[w] = true
	}
	return m
}

type suffix struct {
	end, repl string // ASCII
	min       int    // runes the stem must keep
	notAfter  string // letters the stem must not end in
}

// suffixes are the endings stem strips, English and Swedish together, each
// with the shortest stem it may leave and what replaces it. The longest
// ending that fits is stripped first.
var suffixes = []suffix{
	{"heterna", "", 3, ""}, {"ningarna", "", 5, ""}, {"ningar", "", 5, ""}, {"ningen", "", 5, ""},
	{"ations", "", 3, ""}, {"ation", "", 3, ""}, {"hetens", "", 3, ""}, {"arnas", "", 3, ""},
	{"ernas", "", 3, ""}, {"ornas", "", 3, ""}, {"andes", "", 3, ""}, {"arens", "", 3, ""},
	{"heten", "", 3, ""}, {"heter", "", 3, ""}, {"anden", "", 3, ""}, {"andet", "", 3, ""},
	{"ments", "", 3, ""}, {"ment", "", 3, ""}, {"ness", "", 3, ""}, {"able", "", 3, ""},
	{"ible", "", 3, ""}, {"ings", "", 3, ""}, {"ning", "", 5, "rn"}, {"arna", "", 3, ""},
	{"erna", "", 3, ""}, {"orna", "", 3, ""}, {"ande", "", 3, ""}, {"ende", "", 3, ""},
	{"arne", "", 3, ""}, {"aste", "", 3, ""}, {"aren", "", 3, ""}, {"ades", "", 3, ""},
	{"erns", "", 3, ""}, {"ing", "", 3, ""}, {"ies", "y", 3, ""}, {"ied", "y", 3, ""},
	{"ade", "", 3, ""}, {"are", "", 3, ""}, {"ern", "", 3, ""}, {"ens", "", 3, ""},
	{"het", "", 3, ""}, {"ast", "", 3, ""}, {"ed", "", 3, ""}, {"es", "", 3, ""},
	{"er", "", 3, ""}, {"ly", "", 3, ""}, {"ar", "", 3, ""}, {"or", "", 3, ""},
	{"en", "", 3, ""}, {"et", "", 3, ""}, {"at", "", 3, ""}, {"ad", "", 3, ""},
	{"na", "", 3, ""}, {"as", "", 3, ""}, {"s", "", 3, "siu"}, {"e", "", 3, ""},
	{"a", "", 3, ""}, {"y", "", 3, ""},
}

// stem strips up to three endings from a word (a word with a digit is left
// as it is), then a doubled final consonant: "shipping" and "shipped" are
// "ship", "cancellation" is "cancel", "betalningar" and "betala" "betal".
func stem(w string) string {
	for _, r := range w {
		if !unicode.IsLetter(r) {
			return w
		}
	}
	for range 3 {
		s, ok := stripSuffix(w)
		if !ok {
			break
		}
		w = s
	}
	return undouble(w)
}

// suffixesByLast are the suffixes by their last byte, longest first, so
// that "ings" is tried before "s".
var suffixesByLast = func() (m [256][]suffix) {
	sorted := slices.Clone(suffixes)
	sort.SliceStable(sorted, func(i, j int) bool { return len(sorted[i].end) > len(sorted[j].end) })
	for _, s := range sorted {
		b := s.end[len(s.end)-1]
		m[b] = append(m[b], s)
	}
	return m
}()

func stripSuffix(w string) (string, bool) {
	if w == "" {
		return w, false
	}
	n := utf8.RuneCountInString(w)
	for _, s := range suffixesByLast[w[len(w)-1]] {
		if !strings.HasSuffix(w, s.end) || n-len(s.end) < s.min {
			continue
		}
		stem := w[:len(w)-len(s.end)]
		if s.notAfter != "" && strings.ContainsRune(s.notAfter, lastRune(stem)) {
			continue // "address" and "status" keep their s, "returning" its n
		}
		return stem + s.repl, true
	}
	return w, false
}

func undouble(w string) string {
	n := len(w)
	if utf8.RuneCountInString(w) <= 3 || n < 2 || w[n-1] != w[n-2] || w[n-1] >= utf8.RuneSelf {
		return w
	}
	if strings.IndexByte("aeiouy", w[n-1]) >= 0 {
		return w
	}
	return w[:n-1]
}

func lastRune(s string) rune {
	r, _ := utf8.DecodeLastRuneInString(s)
	return r
}

// Languages an article or a question may be in, as language tells them.
const (
	langUnknown = ""
	langEnglish = "en"
	langSwedish = "sv"
)

// language guesses whether text is English or Swedish from its function
// words (and å, ä, ö): it needs a lead of two words, else it cannot tell.
func language(text string) string {
	return languageOf(words(text))
}

// languageOf is language of the words of a text, in one or more parts,
// judged on its first languageWords words.
func languageOf(parts ...[]string) string {
	en, sv, n := 0, 0, 0
	for _, ws := range parts {
		for _, w := range ws[:min(len(ws), languageWords-n)] {
			if englishWords[w] {
				en++
			} else if swedishWords[w] || (!isASCII(w) && strings.ContainsAny(w, "åäö")) {
				sv++
			}
		}
		n += min(len(ws), languageWords-n)
	}
	switch {
	case en >= sv+2 || (en > 0 && sv == 0):
		return langEnglish
	case sv >= en+2 || (sv > 0 && en == 0):
		return langSwedish
	}
	return langUnknown
}

// languageWords is how many words language reads: enough to tell a
// language by its function words.
const languageWords = 100

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

var (
	englishWords = setOf(`the a an and or is are do does did you your we our my me it of to
		in on for with can how what where when why which will would have has be this that not`)
	swedishWords = setOf(`och att det som en ett är av för med till den har de inte om jag du
		vi ni min mitt mina din ditt er era kan hur vad var när vilka ska vill`)
)
