package main

import (
	"encoding/json"
	"reflect"
	"testing"
)

var benchFrameSamples = []string{
	`{"type":"ack","client_id":"m12","conversation":"01JD8Z3K4Q5R6S7T8V9W0XYZAB","seq":7}`,
	`{"type":"event","conversation":"01JD8Z3K4Q5R6S7T8V9W0XYZAB","seq":8,"at":"2026-11-25T10:00:00.123Z","event":{"kind":"message","from":"agent","author":"Ana","text":"Hi! <b>","attachments":[],"client_id":"a0-x-1"}}`,
	`{"type":"event","conversation":"c1","seq":1,"at":"2026-11-25T10:00:00Z","event":{"kind":"started","welcome":"Hej"}}`,
	`{"type":"event","conversation":"c1","seq":9,"at":"2026-11-25T10:00:00Z","event":{"kind":"message","from":"shopper","author":"","text":"a \"quoted\" text","attachments":[],"client_id":"m9"}}`,
	`{"type":"event","conversation":"c1","seq":9,"at":"2026-11-25T10:00:00Z","event":{"kind":"message","from":"shopper","author":"","text":"x","attachments":[{"url":"https://x/y","content_type":"image/png"}],"client_id":"m9"}}`,
	`{"type":"ack","conversation":"c1","client_id":"m1","seq":3}`,
	`{"type":"ack","client_id":"m\u0031","conversation":"c1","seq":3}`,
	`{"type":"ack","client_id":"m1","conversation":"c1","seq":3,"extra":true}`,
	`{"type":"ack","client_id":"m1","conversation":"c1","seq":03}`,
	`{"type":"ack","client_id":"m1","conversation":"c1","seq":99999999999999999999}`,
	`{"type":"ack","client_id":"m1","conversation":"c1","seq":3} `,
	`{"type":"welcome","conversation":{"id":"c1","last_seq":4}}`,
	`{"type":"welcome","conversation":null}`,
	`{"type":"error","code":"rate_limited","message":"slow down","client_id":"m4"}`,
	`{"type":"ack","client_id":"m1","conversation":"c1","seq":`,
	`not json`,
}

// The load tool's fast reading of ack and message frames gives exactly what
// encoding/json gives, for those frames and for every other shape (which it
// leaves to encoding/json).
func TestBenchDecodeFrameMatchesEncodingJSON(t *testing.T) {
	for _, s := range benchFrameSamples {
		var want, got benchFrame
		wantErr := json.Unmarshal([]byte(s), &want)
		gotErr := benchDecodeFrame([]byte(s), &got)
		if (wantErr != nil) != (gotErr != nil) {
			t.Errorf("%s: error %v, encoding/json %v", s, gotErr, wantErr)
			continue
		}
		if wantErr == nil && !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", s, got, want)
		}
	}
}

func FuzzBenchDecodeFrame(f *testing.F) {
	for _, s := range benchFrameSamples {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var want, got benchFrame
		wantErr := json.Unmarshal(b, &want)
		gotErr := benchDecodeFrame(b, &got)
		if (wantErr != nil) != (gotErr != nil) {
			t.Fatalf("%q: error %v, encoding/json %v", b, gotErr, wantErr)
		}
		if wantErr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\n got %+v\nwant %+v", b, got, want)
		}
	})
}
