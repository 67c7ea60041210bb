package webhook_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/parley-chat/parley/transport/webhook"
)

// dns is the stand-in DNS of CheckURL's tests; any other name is NXDOMAIN.
var dns = map[string][]string{
	"hooks.example.com":    {"93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"},
	"v6.example.com":       {"2606:4700:4700::1111"},
	"mixed.example.com":    {"93.184.216.34", "10.0.0.7"},
	"loopback.example.com": {"127.0.0.1"},
	"metadata.example.com": {"169.254.169.254"},
	"ula.example.com":      {"fd12:3456::1"},
	"empty.example.com":    {},
	// bücher.example.com and intern.bücher.example.com, as DNS knows them
	"xn--bcher-kva.example.com":        {"93.184.216.34"},
	"intern.xn--bcher-kva.example.com": {"10.0.0.9"},
}

func TestCheckURL(t *testing.T) {
	resolver := fakeDNS(dns)
	for _, tc := range []struct {
		url  string
		want string // "" when accepted; otherwise a part of the error
	}{
		// public
		{"https://93.184.216.34/hook", ""},
		{"http://93.184.216.34:8080/hook?token=abc", ""},
		{"https://[2606:4700:4700::1111]/hook", ""},
		{"https://[64:ff9b::5db8:d822]/hook", ""}, // NAT64 of 93.184.216.34
		{"https://hooks.example.com/parley", ""},
		{"HTTPS://Hooks.Example.COM./parley", ""},
		{"https://v6.example.com:8443/parley", ""},
		{"https://bücher.example.com/hook", ""}, // an internationalised name is looked up as DNS knows it
		{"https://intern.bücher.example.com/hook", "10.0.0.9"},

		// not public, as literals
		{"http://10.0.0.1/", "points at 10.0.0.1, a private address"},
		{"http://172.16.5.4/", "a private address"},
		{"http://192.168.1.1/", "a private address"},
		{"http://127.0.0.1:8080/", "points at 127.0.0.1, a loopback address"},
		{"http://127.255.255.254/", "a loopback address"},
		{"http://[::1]/", "points at ::1, a loopback address"},
		{"http://169.254.169.254/latest/meta-data/", "points at 169.254.169.254, a link-local address"},
		{"http://[fe80::1%25eth0]/", "points at fe80::1, a link-local address"},
		{"http://[::ffff:127.0.0.1]/", "points at ::ffff:127.0.0.1, a loopback address"},
		{"http://[::ffff:a00:1]/", "points at ::ffff:10.0.0.1, a private address"},
		{"http://[64:ff9b::a00:1]/", "a private address"}, // NAT64 of 10.0.0.1
		{"http://[fc00::1]/", "a private address"},
		{"http://[fd00:ec2::254]/", "a private address"}, // AWS's IPv6 metadata service
		{"http://100.64.0.1/", "a shared (carrier-grade NAT) address"},
		{"http://0.0.0.0/", "an unspecified address"},
		{"http://0.1.2.3/", "an unspecified address"},
		{"http://[::]/", "an unspecified address"},
		{"http://224.0.0.1/", "a multicast address"},
		{"http://[ff02::1]/", "a multicast address"},
		{"http://255.255.255.255/", "a reserved address"},
		{"http://192.0.2.10/", "a documentation address"},
		{"http://[2001:db8::1]/", "a documentation address"},
		{"http://198.18.0.1/", "a benchmarking address"},
		{"http://[::7f00:1]/", "a reserved address"}, // IPv4-compatible, long deprecated
		{"http://[2002:7f00:1::]/", "a reserved address"},

		// not public, by name
		{"http://localhost:8080/", "names localhost, a local host"},
		{"http://LOCALHOST./", "names localhost, a local host"},
		{"http://api.localhost/", "a local host"},
		{"http://printer.local/", "a local host"},
		{"http://metadata.google.internal/computeMetadata/v1/", "a local host"},
		{"http://router.home.arpa/", "a local host"},
		{"http://2130706433/", "neither a name nor an IP address written in the standard form"},
		{"http://127.1/", "neither a name nor an IP address"},
		{"http://0x7f000001/", "neither a name nor an IP address"},
		{"http://mixed.example.com/", "has the host mixed.example.com, which resolves to 10.0.0.7, a private address"},
		{"http://loopback.example.com/", "resolves to 127.0.0.1, a loopback address"},
		{"http://metadata.example.com/", "resolves to 169.254.169.254, a link-local address"},
		{"http://ula.example.com/", "resolves to fd12:3456::1, a private address"},
		{"http://nxdomain.example.com/", "which has no address in DNS"},
		{"http://empty.example.com/", "which has no address in DNS"},

		// not a URL to post to
		{"http://user:pw@example.com/", "must not carry a user name or password"},
		{"https://token@example.com/", "must not carry a user name or password"},
		{"ftp://example.com/", "must start with https:// or http://"},
		{"ws://example.com/", "must start with https:// or http://"},
		{"//example.com/hook", "must start with https:// or http://"},
		{"example.com/hook", "must start with https:// or http://"},
		{"mailto:ops@example.com", "must start with https:// or http://"},
		{"", "must start with https:// or http://"},
		{"https://", "has no host"},
		{"http:///hook", "has no host"},
		{"http://:8080/hook", "has no host"},
		{"https:example.com", "has no host"},
		{"https://example.com/hook#top", "must not have a fragment"},
		{"https://example.com/hook#", "must not have a fragment"},
		{"https://exa mple.com/", "is not a valid URL"},
		{"https://example.com:port/", "is not a valid URL"},
		{"https://example.com:0/", "has the port 0, outside 1 to 65535"},
		{"https://example.com:65536/", "has the port 65536, outside 1 to 65535"},
		{"https://93.184.216.34:65535/", ""},
		{"https://93.184.216.34/" + strings.Repeat("a", 2048), "is longer than 2048 bytes"},
	} {
		err := webhook.CheckURL(context.Background(), tc.url, false, resolver)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("CheckURL(%q) = %v; want it accepted", tc.url, err)
		case tc.want != "" && err == nil:
			t.Errorf("CheckURL(%q) accepted it; want %q", tc.url, tc.want)
		case err != nil && !strings.Contains(err.Error(), tc.want):
			t.Errorf("CheckURL(%q) = %q; want it to say %q", tc.url, err, tc.want)
		case err != nil && (!unicode.IsLower(rune(err.Error()[0])) || strings.HasPrefix(err.Error(), "webhook")):
			t.Errorf("CheckURL(%q) = %q; want it to read on after \"url: \"", tc.url, err)
		case err != nil && strings.Contains(err.Error(), "pw"):
			t.Errorf("CheckURL(%q) = %q quotes the password", tc.url, err)
		}
	}
}

// With allowPrivate, every address will do, with no look-up, but the URL
// must still be one to post to.
func TestCheckURLAllowPrivate(t *testing.T) {
	resolver := fakeDNS(nil) // every name NXDOMAIN: none is looked up
	for _, u := range []string{
		"http://127.0.0.1:8080/hook", "http://localhost/hook", "http://[::1]/", "http://10.0.0.1/",
		"http://crm.internal/parley", "http://nxdomain.example.com/",
	} {
		if err := webhook.CheckURL(context.Background(), u, true, resolver); err != nil {
			t.Errorf("CheckURL(%q, allowPrivate) = %v; want it accepted", u, err)
		}
	}
	for _, u := range []string{"ftp://127.0.0.1/", "http://u:p@127.0.0.1/", "http://127.0.0.1/#x", "http:///x"} {
		if err := webhook.CheckURL(context.Background(), u, true, resolver); err == nil {
			t.Errorf("CheckURL(%q, allowPrivate) accepted it", u)
		}
	}
}

// A DNS server that never answers holds the API's request no longer than
// its context allows.
func TestCheckURLHonoursItsContext(t *testing.T) {
	// Go's resolver goes on with a look-up its caller gave up on (for
	// other callers to share) until its own per-query timeout: the
	// silent server hangs up when the test ends, so that the look-up
	// ends too.
	over := make(chan struct{})
	t.Cleanup(func() { close(over) })
	silent := &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
			select {
			case <-over:
				return nil, errors.New("the test is over")
			default:
			}
			client, server := net.Pipe()
			go io.Copy(io.Discard, server) // reads the query, answers nothing
			go func() { <-over; server.Close() }()
			return client, nil
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := webhook.CheckURL(ctx, "https://hooks.example.com/", false, silent)
	if err == nil || !strings.Contains(err.Error(), "could not be looked up") {
		t.Errorf("CheckURL with no answer from DNS = %v; want a failed look-up", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("CheckURL took %v with a 100ms context", took)
	}
}
