package twilio

import "unicode/utf16"

// The capacity of one SMS, in GSM-7 septets or UCS-2 code units: alone, or
// as one part of a longer text, whose header takes the rest.
const (
	gsmSingle  = 160
	gsmPart    = 153
	ucs2Single = 70
	ucs2Part   = 67
)

// gsmBasic is the GSM 03.38 default alphabet (3GPP TS 23.038 §6.2.1): one
// septet each.
var gsmBasic = toSet("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")

// gsmExtension is its extension table: an escape and a septet each.
var gsmExtension = toSet("\f^{}\\[~]|€")

func toSet(s string) map[rune]bool {
	m := make(map[rune]bool)
	for _, r := range s {
		m[r] = true
	}
	return m
}

// Segments is how many SMS segments body costs, the unit carriers and
// Twilio charge by; 0 for an empty body.
//
// A text wholly in the GSM-7 alphabet (printable ASCII but the backtick,
// line breaks, and å, ä, ö, é, ñ, ü, £, € and a few more; ^ { } \ [ ~ ]
// | € and form feed cost two septets) takes 160 septets in one segment,
// and 153 in each segment of a longer one. Any other character, such as
// an emoji, a tab, ç or a curly quote, sends the whole text as UCS-2: 70
// UTF-16 code units in one segment, 67 in each of a longer one; an emoji
// outside the Basic Multilingual Plane costs two. A character is never
// split between two segments, so a part may hold one unit less.
//
// Not counted: Twilio's Smart Encoding, which a messaging service may turn
// on to replace some characters with GSM-7 ones first (fewer segments);
// and emoji made of several characters (a family, a flag), which Twilio's
// segment calculator keeps whole in one segment (which may cost a
// segment more).
func Segments(body string) int {
	if body == "" {
		return 0
	}
	gsm := true
	for _, r := range body {
		if !gsmBasic[r] && !gsmExtension[r] {
			gsm = false
			break
		}
	}
	size := func(r rune) int { // in the units of the encoding
		switch {
		case gsm && gsmExtension[r]:
			return 2
		case gsm:
			return 1
		}
		// 2 for a surrogate pair; ranging over a string yields only valid
		// runes (U+FFFD for an invalid byte), never -1.
		return utf16.RuneLen(r)
	}
	single, part := gsmSingle, gsmPart
	if !gsm {
		single, part = ucs2Single, ucs2Part
	}
	total := 0
	for _, r := range body {
		total += size(r)
	}
	if total <= single {
		return 1
	}
	segments, used := 1, 0
	for _, r := range body {
		n := size(r)
		if used+n > part {
			segments, used = segments+1, 0
		}
		used += n
	}
	return segments
}
