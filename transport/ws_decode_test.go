package transport

import (
	"encoding/json"
	"reflect"
	"testing"
)

// Frames of every other shape: decodeFrame must agree with encoding/json on
// each, by either path.
var decodeFrameSeeds = []string{
	`{"type":"message.send","client_id":"m1","text":"a \"quote\""}`,
	`{"type":"message.send","client_id":"m1","text":"tab\there"}`,
	`{"TYPE":"message.send","Client_ID":"m1","text":"case"}`,
	`{"type":"message.send","client_id":"m1","client_id":"m2","text":"last wins"}`,
	`{"type":"hello","token":"abc"}`,
	`{"type":"hello","token":null,"resume":{"conversation":"c","after":2}}`,
	`{"type":"message.send","client_id":"m1","text":"x","attachments":[{"url":"https://a/b","content_type":"image/png"}]}`,
	`{"type":1}`, `{"type":"a",}`, `{"type":"a"} x`, `[]`, `"type"`, ``, `{`, `{"type"`, `{"type":"a"`,
	`{"type":"h\u00e9"}`, "{\"type\":\"h\xffllo\"}", "{\"text\":\"line\nbreak\"}", `{"text":"émoji 🎉"}`,
	`{"seq":0}`, `{"seq":01}`, `{"seq":-1}`, `{"seq":1.5}`, `{"seq":1e3}`, `{"seq":null}`, `{"seq":"3"}`,
	`{"seq":9999999999999999999}`, `{"seq":18446744073709551615}`, `{"seq":18446744073709551616}`,
	`{"resume":{}}`, `{"resume":null}`, `{"token":null}`, `{"resume":{"Conversation":"c"}}`,
	`{"resume":{"after":1},"resume":{"conversation":"c"}}`, `{"resume":{"conversation":"c","after":3,"x":1}}`,
	`{"resume":{"conversation":"c","after":3}`, `{"resume":{"conversation":"c",}}`, `{"resume":[]}`,
	`{"type":"hello","jwt":"abc"}`, `{"type":"message.send","client_id":"m1","text":"x","attachments":[{"url":"https://a/b","kind":"x"}]}`,
}

// The frames a chat sends all the time: each must take the fast path.
var fastFrames = []string{
	`{"type":"message.send","client_id":"m1","text":"Hello, where is my order?"}`,
	` { "type" : "read" , "conversation" : "c1" , "seq" : 3 } `,
	`{"type":"typing","conversation":"01J"}`,
	`{"type":"chat.start"}`,
	`{}`,
	`{"type":"faq.pick","faq":"shipping"}`,
	`{"type":"hello","token":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwIn0.c2ln"}`,
	`{"type":"hello","token":"t","resume":{"conversation":"01JD","after":42}}`,
	`{"type":"hello","resume":{ "after" : 0 , "conversation" : "c" }}`,
}

// The fast reader of flat frames gives exactly what encoding/json gives,
// and hands everything else to it.
func TestDecodeFrameMatchesEncodingJSON(t *testing.T) {
	for _, s := range decodeFrameSeeds {
		checkDecodeFrame(t, []byte(s))
	}
	for _, s := range fastFrames {
		if !checkDecodeFrame(t, []byte(s)) {
			t.Errorf("%s did not take the fast path", s)
		}
	}
}

func FuzzDecodeFrame(f *testing.F) {
	for _, s := range append(decodeFrameSeeds, fastFrames...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkDecodeFrame(t, data) })
}

// checkDecodeFrame compares decodeFrame with json.Unmarshal on data and
// reports whether the fast path took it.
func checkDecodeFrame(t *testing.T, data []byte) bool {
	t.Helper()
	var want inFrame
	wantErr := strictUnmarshal(data, &want)
	var flat inFrame
	fast := decodeFlatFrame(data, &flat)
	if fast && (wantErr != nil || !reflect.DeepEqual(flat, want)) {
		t.Fatalf("%q: fast path %+v, encoding/json %+v (err %v)", data, flat, want, wantErr)
	}
	var got inFrame
	err := decodeFrame(data, &got)
	if (err == nil) != (wantErr == nil) || err == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: decodeFrame %+v (err %v), encoding/json %+v (err %v)", data, got, err, want, wantErr)
	}
	return fast
}

// BenchmarkDecodeFrame compares the fast reader with encoding/json on the
// frame every shopper message is.
func BenchmarkDecodeFrame(b *testing.B) {
	for name, data := range map[string][]byte{
		"message": []byte(`{"type":"message.send","client_id":"m123","text":"Hello, where is my order #12345?"}`),
		"hello":   []byte(`{"type":"hello","token":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwIn0.c2ln","resume":{"conversation":"01JD","after":42}}`),
	} {
		b.Run(name+"/fast", func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				var f inFrame
				_ = decodeFrame(data, &f)
			}
		})
		b.Run(name+"/encoding_json", func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				var f inFrame
				_ = json.Unmarshal(data, &f)
			}
		})
	}
}
