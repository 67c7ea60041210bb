package engine

import "strings"

// The messages only a person can help with (S10), whatever the knowledge
// says: the built-in answerer hands them off without a search.

// needsPerson reports whether text is a message only a person can help
// with, whatever the knowledge says: a request for a person, a complaint,
// or a question about the shopper's own order or account.
func needsPerson(text string) bool {
	if strings.Contains(text, "@") && emailLike(text) {
		return true
	}
	ws := words(text)
	for i, w := range ws {
		switch {
		case personWords[w] && !(i > 0 && ws[i-1] == "in"): // "in person" is a place
			return true
		case talkWords[w] && someoneNear(ws[i+1:]):
			return true // "speak with someone", "prata med någon"
		case complaintWords[w] || hasAnyPrefix(w, complaintStems):
			return true
		case isOrderNumber(ws, i):
			return true
		case negations[w] && arrivalNear(ws[i+1:]) && !selfService(ws[max(0, i-4):min(len(ws), i+6)]):
			return true // "it hasn't arrived", "I never received my parcel"
		case (w == "charged" || w == "debited" || w == "dragits") && chargedTwice(ws[i+1:]):
			return true
		}
	}
	return false
}

var (
	personWords = setOf(`human humans person representative agent operator
		människa människor person handläggare medarbetare`)
	complaintWords = setOf(`worst terrible awful horrible unacceptable disgusting
		ridiculous furious angry disappointed disappointing scam fraud rude
		incompetent lawyer useless pathetic sämsta arg förbannad
		oacceptabelt bedrägeri skandal värdelös uselt usel`)
	complaintStems   = []string{"besvik", "jättebesvik", "oförskämd"}
	talkWords        = setOf(`speak talk chat prata tala chatta`)
	someoneWords     = setOf(`someone somebody anyone anybody någon nån`)
	selfServiceWords = setOf(`mail email confirmation link code koden länken mejl mejlet`)
	negations        = setOf(`not never hasnt havent hadnt didnt isnt wasnt inte aldrig ej`)
	arrivals         = setOf(`arrive arrived arriving come came received receive delivered
		kommit kom fått levererats levererad dykt`)
	currencies = setOf(`kr sek nok dkk eur euro euros usd gbp kronor`)
)

// someoneNear reports whether a word for somebody follows within three
// words: "talk to someone", "chat with a real human".
func someoneNear(ws []string) bool {
	for i, w := range ws {
		if i >= 3 {
			break
		}
		if someoneWords[w] || personWords[w] {
			return true
		}
	}
	return false
}

// selfService reports whether what has not arrived, said in ws, is
// something the help centre can help with (an e-mail, a link, a code), not
// a parcel or money.
func selfService(ws []string) bool {
	for _, w := range ws {
		if selfServiceWords[w] {
			return true
		}
	}
	return false
}

func arrivalNear(ws []string) bool {
	for i, w := range ws {
		if i >= 3 {
			break
		}
		if arrivals[w] {
			return true
		}
	}
	return false
}

func chargedTwice(ws []string) bool {
	for i, w := range ws {
		if i >= 3 {
			break
		}
		if w == "twice" || w == "double" || w == "två" {
			return true
		}
	}
	return false
}

// isOrderNumber reports whether ws[i] is a number of four digits or more
// that is not an amount of money: an order, parcel or customer number.
func isOrderNumber(ws []string, i int) bool {
	w := ws[i]
	if len(w) < 4 {
		return false
	}
	for _, r := range w {
		if r < '0' || r > '9' {
			return false
		}
	}
	return i+1 >= len(ws) || !currencies[ws[i+1]]
}

func hasAnyPrefix(w string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(w, p) {
			return true
		}
	}
	return false
}

// emailLike reports whether text has a word with an @ between letters and a
// dot after it: an e-mail address.
func emailLike(text string) bool {
	for _, f := range strings.Fields(text) {
		at := strings.IndexByte(f, '@')
		if at > 0 && strings.Contains(f[at+1:], ".") {
			return true
		}
	}
	return false
}
