package transport

import (
	"crypto/tls"
	"net/http"
	"net/netip"
	"testing"
)

// testProxies trusts a private range, an IPv6 range and loopback.
var testProxies = newTrustedProxies([]netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("2001:db8:ffff::/48"),
	netip.MustParsePrefix("127.0.0.1/32"),
})

// Who a request came from, and what it asked for, as trusted proxies tell
// it: the rightmost untrusted hop, never anything a client wrote to the
// left of it, and nothing at all from a peer that is not trusted.
func TestClientBehindTrustedProxies(t *testing.T) {
	const proxy = "10.0.0.1:40000"
	type hdr = [][2]string
	for _, tc := range []struct {
		name   string
		peer   string // RemoteAddr
		tls    bool
		header hdr
		addr   string
		scheme string // default "http"
		host   string // default the request's own
	}{
		// Untrusted peers: every forwarding header ignored.
		{name: "untrusted peer, X-Forwarded-For", peer: "192.0.2.9:5555",
			header: hdr{{"X-Forwarded-For", "203.0.113.7"}, {"X-Forwarded-Proto", "https"}, {"X-Forwarded-Host", "chat.example.com"}},
			addr:   "192.0.2.9"},
		{name: "untrusted peer, Forwarded", peer: "192.0.2.9:5555",
			header: hdr{{"Forwarded", "for=203.0.113.7;proto=https;host=chat.example.com"}}, addr: "192.0.2.9"},
		{name: "untrusted peer over TLS", peer: "192.0.2.9:5555", tls: true,
			header: hdr{{"X-Forwarded-Proto", "http"}}, addr: "192.0.2.9", scheme: "https"},
		{name: "untrusted IPv6 peer", peer: "[2001:db8::9]:5555",
			header: hdr{{"X-Forwarded-For", "203.0.113.7"}}, addr: "2001:db8::9"},
		{name: "trusted peer, no headers", peer: proxy, addr: "10.0.0.1"},
		{name: "trusted peer over TLS, no headers", peer: proxy, tls: true, addr: "10.0.0.1", scheme: "https"},

		// X-Forwarded-For.
		{name: "XFF one address", peer: proxy, header: hdr{{"X-Forwarded-For", "203.0.113.7"}}, addr: "203.0.113.7"},
		{name: "XFF with spaces", peer: proxy, header: hdr{{"X-Forwarded-For", "  198.51.100.1 ,\t203.0.113.7  "}}, addr: "203.0.113.7"},
		{name: "XFF spoofed leftmost entries", peer: proxy,
			header: hdr{{"X-Forwarded-For", "10.9.9.9, 1.1.1.1, 203.0.113.7"}}, addr: "203.0.113.7"},
		{name: "XFF through several trusted proxies", peer: proxy,
			header: hdr{{"X-Forwarded-For", "1.1.1.1, 203.0.113.7, 10.1.1.1, 2001:db8:ffff::2"}}, addr: "203.0.113.7"},
		{name: "XFF in several headers", peer: proxy,
			header: hdr{{"X-Forwarded-For", "1.1.1.1, 203.0.113.7"}, {"X-Forwarded-For", "10.1.1.1"}}, addr: "203.0.113.7"},
		{name: "XFF every hop trusted: the leftmost", peer: proxy,
			header: hdr{{"X-Forwarded-For", "10.3.3.3, 10.1.1.1"}}, addr: "10.3.3.3"},
		{name: "XFF garbage in the rightmost place", peer: proxy,
			header: hdr{{"X-Forwarded-For", "203.0.113.7, not-an-address"}}, addr: "10.0.0.1"},
		{name: "XFF garbage behind a trusted hop", peer: proxy,
			header: hdr{{"X-Forwarded-For", "203.0.113.7, 999.1.1.1, 10.1.1.1"}}, addr: "10.1.1.1"},
		{name: "XFF garbage left of the client", peer: proxy,
			header: hdr{{"X-Forwarded-For", "<script>, 203.0.113.7"}}, addr: "203.0.113.7"},
		{name: "XFF unknown", peer: proxy, header: hdr{{"X-Forwarded-For", "203.0.113.7, unknown"}}, addr: "10.0.0.1"},
		{name: "XFF with ports", peer: proxy,
			header: hdr{{"X-Forwarded-For", "203.0.113.7:5555, [2001:db8::1]:4711"}}, addr: "2001:db8::1"},
		{name: "XFF IPv4 with a port", peer: proxy, header: hdr{{"X-Forwarded-For", "203.0.113.7:5555"}}, addr: "203.0.113.7"},
		{name: "XFF bare IPv6", peer: proxy, header: hdr{{"X-Forwarded-For", "2001:DB8::1"}}, addr: "2001:db8::1"},
		{name: "XFF IPv4-mapped", peer: proxy, header: hdr{{"X-Forwarded-For", "::ffff:203.0.113.7"}}, addr: "203.0.113.7"},
		{name: "XFF bad port", peer: proxy, header: hdr{{"X-Forwarded-For", "203.0.113.7:http"}}, addr: "10.0.0.1"},
		{name: "XFF empty entries", peer: proxy, header: hdr{{"X-Forwarded-For", ",203.0.113.7,, "}}, addr: "203.0.113.7"},
		{name: "XFF blank", peer: proxy, header: hdr{{"X-Forwarded-For", " "}}, addr: "10.0.0.1"},
		{name: "IPv4-mapped trusted peer", peer: "[::ffff:10.0.0.1]:40000",
			header: hdr{{"X-Forwarded-For", "203.0.113.7"}}, addr: "203.0.113.7"},
		{name: "trusted IPv6 peer", peer: "[2001:db8:ffff::1]:443",
			header: hdr{{"X-Forwarded-For", "203.0.113.7"}}, addr: "203.0.113.7"},
		{name: "XFF with proto and host", peer: proxy,
			header: hdr{{"X-Forwarded-For", "203.0.113.7"}, {"X-Forwarded-Proto", "HTTPS"}, {"X-Forwarded-Host", "chat.example.com"}},
			addr:   "203.0.113.7", scheme: "https", host: "chat.example.com"},
		{name: "X-Forwarded-Proto alone", peer: proxy, header: hdr{{"X-Forwarded-Proto", "https"}}, addr: "10.0.0.1", scheme: "https"},
		{name: "X-Forwarded-Proto http over TLS", peer: proxy, tls: true, header: hdr{{"X-Forwarded-Proto", "http"}}, addr: "10.0.0.1"},
		{name: "X-Forwarded-Proto list: the last", peer: proxy,
			header: hdr{{"X-Forwarded-Proto", "http"}, {"X-Forwarded-Proto", "http, https"}}, addr: "10.0.0.1", scheme: "https"},
		{name: "X-Forwarded-Proto not a web scheme", peer: proxy, header: hdr{{"X-Forwarded-Proto", "javascript"}}, addr: "10.0.0.1"},
		{name: "X-Forwarded-Host with a port", peer: proxy,
			header: hdr{{"X-Forwarded-Host", "chat.example.com:8443"}}, addr: "10.0.0.1", host: "chat.example.com:8443"},
		{name: "X-Forwarded-Host IPv6", peer: proxy, header: hdr{{"X-Forwarded-Host", "[2001:db8::1]:8080"}}, addr: "10.0.0.1", host: "[2001:db8::1]:8080"},
		{name: "X-Forwarded-Host with a path", peer: proxy, header: hdr{{"X-Forwarded-Host", "evil.example/x"}}, addr: "10.0.0.1"},
		{name: "X-Forwarded-Host with credentials", peer: proxy, header: hdr{{"X-Forwarded-Host", "user@evil.example"}}, addr: "10.0.0.1"},
		{name: "X-Forwarded-Host with a space", peer: proxy, header: hdr{{"X-Forwarded-Host", "a b"}}, addr: "10.0.0.1"},
		{name: "X-Forwarded-Host with a bad port", peer: proxy, header: hdr{{"X-Forwarded-Host", "chat.example.com:x"}}, addr: "10.0.0.1"},

		// Forwarded (RFC 7239).
		{name: "Forwarded one element", peer: proxy, header: hdr{{"Forwarded", "for=203.0.113.7"}}, addr: "203.0.113.7"},
		{name: "Forwarded quoted IPv6 with a port", peer: proxy,
			header: hdr{{"Forwarded", `for="[2001:db8::1]:4711"`}}, addr: "2001:db8::1"},
		{name: "Forwarded quoted IPv4 with a port", peer: proxy,
			header: hdr{{"Forwarded", `for="203.0.113.7:47011"`}}, addr: "203.0.113.7"},
		{name: "Forwarded obfuscated port", peer: proxy,
			header: hdr{{"Forwarded", `for="[2001:db8::1]:_abc"`}}, addr: "2001:db8::1"},
		{name: "Forwarded several elements and parameters", peer: proxy,
			header: hdr{{"Forwarded", `for=198.51.100.1;proto=http;host=evil.example, for=203.0.113.7;proto=https;host=chat.example.com;by=10.0.0.1`}},
			addr:   "203.0.113.7", scheme: "https", host: "chat.example.com"},
		{name: "Forwarded through trusted proxies: the client's hop", peer: proxy,
			header: hdr{{"Forwarded", `for=203.0.113.7;proto=https;host=chat.example.com, for=10.1.1.1;proto=http;host=parley.internal, for="[2001:db8:ffff::5]"`}},
			addr:   "203.0.113.7", scheme: "https", host: "chat.example.com"},
		{name: "Forwarded in several headers", peer: proxy,
			header: hdr{{"Forwarded", "for=1.1.1.1"}, {"Forwarded", "for=203.0.113.7;proto=https, for=10.1.1.1"}},
			addr:   "203.0.113.7", scheme: "https"},
		{name: "Forwarded case and spaces", peer: proxy,
			header: hdr{{"Forwarded", " For=203.0.113.7 ; PROTO=HTTPS ;Host=\"chat.example.com\" "}},
			addr:   "203.0.113.7", scheme: "https", host: "chat.example.com"},
		{name: "Forwarded quoted pair", peer: proxy,
			header: hdr{{"Forwarded", `for="203.0.113.7";host="chat\.example.com"`}}, addr: "203.0.113.7", host: "chat.example.com"},
		// A client's own Forwarded, passed through by a proxy that appends
		// to X-Forwarded-For only, does not choose its address.
		{name: "X-Forwarded-For wins over a passed-through Forwarded", peer: proxy,
			header: hdr{{"Forwarded", "for=203.0.113.7"}, {"X-Forwarded-For", "198.51.100.1"}, {"X-Forwarded-Proto", "https"}},
			addr:   "198.51.100.1", scheme: "https"},
		{name: "blank Forwarded: X-Forwarded-For", peer: proxy,
			header: hdr{{"Forwarded", " "}, {"X-Forwarded-For", "198.51.100.1"}}, addr: "198.51.100.1"},
		{name: "Forwarded obfuscated client", peer: proxy,
			header: hdr{{"Forwarded", "for=203.0.113.7, for=_hidden;proto=https"}}, addr: "10.0.0.1", scheme: "https"},
		{name: "Forwarded obfuscated behind a trusted hop", peer: proxy,
			header: hdr{{"Forwarded", "for=203.0.113.7, for=_hidden, for=10.1.1.1"}}, addr: "10.1.1.1"},
		{name: "Forwarded unknown", peer: proxy, header: hdr{{"Forwarded", "for=203.0.113.7, for=unknown"}}, addr: "10.0.0.1"},
		{name: "Forwarded element without for", peer: proxy,
			header: hdr{{"Forwarded", "for=203.0.113.7, proto=https;host=chat.example.com"}},
			addr:   "10.0.0.1", scheme: "https", host: "chat.example.com"},
		{name: "Forwarded empty elements", peer: proxy, header: hdr{{"Forwarded", "for=203.0.113.7, ,;, "}}, addr: "203.0.113.7"},
		{name: "Forwarded unterminated quote", peer: proxy,
			header: hdr{{"Forwarded", `for="evil, for=203.0.113.7`}}, addr: "10.0.0.1"},
		{name: "Forwarded unquoted IPv6", peer: proxy, header: hdr{{"Forwarded", "for=[2001:db8::1]"}}, addr: "10.0.0.1"},
		{name: "Forwarded IPv4 in brackets", peer: proxy, header: hdr{{"Forwarded", `for="[203.0.113.7]"`}}, addr: "10.0.0.1"},
		{name: "Forwarded repeated parameter", peer: proxy,
			header: hdr{{"Forwarded", "for=203.0.113.7, for=198.51.100.1;for=10.1.1.1"}}, addr: "10.0.0.1"},
		{name: "Forwarded garbage rightmost", peer: proxy,
			header: hdr{{"Forwarded", "for=203.0.113.7, hello"}}, addr: "10.0.0.1"},
		{name: "Forwarded garbage behind a trusted hop", peer: proxy,
			header: hdr{{"Forwarded", "for=203.0.113.7;proto=http, for=nonsense, for=10.1.1.1;proto=https"}}, addr: "10.1.1.1", scheme: "https"},
		{name: "Forwarded garbage in an earlier header", peer: proxy,
			header: hdr{{"Forwarded", `for=1.1.1.1, for="x`}, {"Forwarded", "for=203.0.113.7"}}, addr: "203.0.113.7"},
		{name: "Forwarded broken syntax hides the rest of its header", peer: proxy,
			header: hdr{{"Forwarded", `for=203.0.113.7, for=1.1.1.1;x, for=10.1.1.1`}}, addr: "10.0.0.1"},
		{name: "Forwarded bad proto and host ignored", peer: proxy,
			header: hdr{{"Forwarded", `for=203.0.113.7;proto=gopher;host="a/b"`}}, addr: "203.0.113.7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := http.NewRequest("GET", "http://parley.internal:8080/ws", nil)
			r.RemoteAddr = tc.peer
			if tc.tls {
				r.TLS = &tls.ConnectionState{}
			}
			for _, kv := range tc.header {
				r.Header.Add(kv[0], kv[1])
			}
			scheme, host := tc.scheme, tc.host
			if scheme == "" {
				scheme = "http"
			}
			if host == "" {
				host = "parley.internal:8080"
			}
			got := testProxies.client(r)
			if got.addr.String() != tc.addr || got.scheme != scheme || got.host != host {
				t.Fatalf("got %s %s://%s, want %s %s://%s", got.addr, got.scheme, got.host, tc.addr, scheme, host)
			}
			if want := peerAddr(r); got.peer != want {
				t.Fatalf("peer %s, want %s", got.peer, want)
			}
		})
	}
}

// With no trusted proxies, nothing a request says is believed, even from
// loopback.
func TestClientWithoutTrustedProxies(t *testing.T) {
	r, _ := http.NewRequest("GET", "http://parley.internal/ws", nil)
	r.RemoteAddr = "127.0.0.1:5555"
	r.Header.Set("X-Forwarded-For", "203.0.113.7")
	r.Header.Set("X-Forwarded-Proto", "https")
	r.Header.Set("Forwarded", "for=203.0.113.8;proto=https")
	got := newTrustedProxies(nil).client(r)
	if got.addr.String() != "127.0.0.1" || got.scheme != "http" || got.host != "parley.internal" {
		t.Fatalf("got %s %s://%s", got.addr, got.scheme, got.host)
	}
	r.RemoteAddr = "not an address"
	if got := newTrustedProxies(nil).client(r); got.addr.IsValid() || got.key(r) != "not an address" {
		t.Fatalf("an unreadable peer: %v %q", got.addr, got.key(r))
	}
}

// Ranges are masked, and an IPv4-mapped IPv6 range trusts the IPv4
// addresses it stands for.
func TestTrustedProxyRanges(t *testing.T) {
	tp := newTrustedProxies([]netip.Prefix{
		netip.MustParsePrefix("192.168.1.77/24"),
		netip.MustParsePrefix("::ffff:172.16.0.0/112"),
		netip.MustParsePrefix("::1/128"),
		{},
	})
	for addr, want := range map[string]bool{
		"192.168.1.1": true, "192.168.2.1": false, "::ffff:192.168.1.9": true,
		"172.16.5.5": true, "172.17.0.1": false, "::1": true, "fe80::1%eth0": false, "127.0.0.1": false,
	} {
		if got := tp.trusts(netip.MustParseAddr(addr)); got != want {
			t.Errorf("trusts(%s) = %v, want %v", addr, got, want)
		}
	}
}

// However a client writes the forwarding headers, the hop a trusted proxy
// appends decides: as a header of its own, it is the client; appended to
// the client's header on the same line, it is the client, or at worst the
// proxy itself (when the client's text swallows it) — never an address the
// client chose.
func FuzzClientCannotChooseItsAddress(f *testing.F) {
	for _, s := range []string{"", "for=1.1.1.1", `for="[2001:db8::1]:4711"`, `for="`, "1.1.1.1", "for=_x;proto=https",
		`for=1.1.1.1;host="a,b", for=2.2.2.2`, "unknown", "\\", `for="\"`, "for=10.1.1.1, for=10.2.2.2"} {
		f.Add(s)
	}
	const client = "203.0.113.9"
	f.Fuzz(func(t *testing.T, spoof string) {
		check := func(name string, header http.Header, wantProxyToo bool) {
			r, _ := http.NewRequest("GET", "http://parley.internal/ws", nil)
			r.RemoteAddr = "10.0.0.1:40000"
			r.Header = header
			got := testProxies.client(r)
			if got.addr.String() != client && !(wantProxyToo && got.addr.String() == "10.0.0.1") {
				t.Fatalf("%s %q: client %s", name, spoof, got.addr)
			}
			if got.scheme != "http" && got.scheme != "https" || got.host != r.Host && !validHost(got.host) {
				t.Fatalf("%s %q: %s://%s", name, spoof, got.scheme, got.host)
			}
		}
		check("own XFF header", http.Header{"X-Forwarded-For": {spoof, client}}, false)
		check("appended to XFF", http.Header{"X-Forwarded-For": {spoof + ", " + client}}, false)
		check("own Forwarded header", http.Header{"Forwarded": {spoof, "for=" + client}}, false)
		check("appended to Forwarded", http.Header{"Forwarded": {spoof + ", for=" + client}}, true)
	})
}
