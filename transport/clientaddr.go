package transport

import (
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// Behind a reverse proxy every request comes from the proxy's address, over
// the proxy's scheme, and what the proxy knows of the client is in headers
// that anyone can write. Parley believes those headers only from the peers
// it is told to trust (Config.TrustedProxies), and of them only what a
// trusted hop wrote: it reads the chain of hops from the right, the end the
// proxy next to Parley appended to, and stops at the first hop that is not
// itself a trusted proxy. That hop is the client. Whatever a client put to
// the left of itself is never read, so no client chooses its own address.

// trustedProxies are the peers whose forwarding headers Parley believes.
// Empty, it believes none, and a request is what its connection says.
type trustedProxies []netip.Prefix

// newTrustedProxies keeps the valid prefixes, masked, with an IPv4-mapped
// IPv6 range (::ffff:10.0.0.0/104) read as the IPv4 range it stands for:
// addresses are compared unmapped.
func newTrustedProxies(prefixes []netip.Prefix) trustedProxies {
	var t trustedProxies
	for _, p := range prefixes {
		if !p.IsValid() {
			continue
		}
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		t = append(t, p.Masked())
	}
	return t
}

// trusts reports whether a is one of the trusted proxies.
func (t trustedProxies) trusts(a netip.Addr) bool {
	a = a.Unmap().WithZone("")
	for _, p := range t {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientInfo is who a request came from and what it asked for: as trusted
// proxies tell it, or as the connection says when no trusted proxy passed
// it on.
type clientInfo struct {
	addr   netip.Addr // the client; the peer itself unless a trusted proxy names another; invalid when RemoteAddr is no address
	peer   netip.Addr // the direct peer (RemoteAddr)
	scheme string     // "https" or "http": the scheme the client used
	host   string     // the Host the client asked for
}

// key is the client's address as a limiter key.
func (c clientInfo) key(r *http.Request) string {
	if !c.addr.IsValid() {
		return r.RemoteAddr
	}
	return c.addr.String()
}

// LogValue is the client's address, and the proxy's when a proxy passed the
// request on.
func (c clientInfo) LogValue() slog.Value {
	if c.addr == c.peer {
		return slog.StringValue(c.addr.String())
	}
	return slog.GroupValue(slog.String("addr", c.addr.String()), slog.String("proxy", c.peer.String()))
}

// client reads r. From a trusted peer:
//
//   - The address is the rightmost untrusted hop of X-Forwarded-For
//     (every header, comma lists) when the request has one, else of
//     Forwarded's for= (RFC 7239): hops that are trusted
//     proxies are skipped. When every hop is trusted, the leftmost is the
//     client. A hop the walk cannot see past — "unknown", an obfuscated
//     identifier ("_hidden"), a Forwarded element without for=, a value
//     that does not parse — ends it there, and the client is the last hop
//     read by address (a trusted proxy), or the peer.
//     X-Forwarded-For comes first because nearly every proxy appends to it
//     (nginx, Caddy, HAProxy, the clouds' load balancers) while few touch
//     Forwarded: a client's own Forwarded, passed through untouched, must
//     not choose its address.
//   - The scheme and host are, with Forwarded, the proto= and host= of the
//     hop the walk ended on (the client's own hop: the proxy that received
//     the client's request wrote them), or of the nearest readable hop to
//     its right when that one does not parse; else the last value of
//     X-Forwarded-Proto and X-Forwarded-Host, which the proxy next to
//     Parley sets. A proto that is not http or https, or a host that is not
//     a host[:port], is ignored.
//
// Anything not told is the request's own: the peer, https when r came over
// TLS, r.Host. From any other peer every forwarding header is ignored.
func (t trustedProxies) client(r *http.Request) clientInfo {
	c := clientInfo{addr: peerAddr(r), scheme: "http", host: r.Host}
	c.peer = c.addr
	if r.TLS != nil {
		c.scheme = "https"
	}
	if len(t) == 0 || !t.trusts(c.peer) {
		return c
	}
	var proto, host string
	if fwd := nonBlank(r.Header.Values("Forwarded")); fwd != nil && nonBlank(r.Header.Values("X-Forwarded-For")) == nil {
		var hops []hop
		for _, line := range fwd {
			hops = appendForwarded(hops, line)
		}
		var at int
		c.addr, at = t.walk(hops, c.peer)
		if at >= 0 {
			proto, host = hops[at].proto, hops[at].host
		}
	} else {
		var hops []hop
		for _, line := range r.Header.Values("X-Forwarded-For") {
			hops = appendXFF(hops, line)
		}
		c.addr, _ = t.walk(hops, c.peer)
		proto = lastValue(r.Header.Values("X-Forwarded-Proto"))
		host = lastValue(r.Header.Values("X-Forwarded-Host"))
	}
	if p := strings.ToLower(proto); p == "http" || p == "https" {
		c.scheme = p
	}
	if validHost(host) {
		c.host = host
	}
	return c
}

// hop is one entry of a forwarding header: a proxy saying whom it received
// the request from.
type hop struct {
	addr        netip.Addr // invalid: a hop not known by address (unknown, obfuscated, no for=)
	readable    bool       // false: a value that does not parse
	proto, host string     // Forwarded's proto= and host=, raw
}

// walk goes through hops from the right and returns the client's address
// and the index of the hop the walk ended on, the one whose proto= and
// host= describe the client's request (-1: none could be read).
func (t trustedProxies) walk(hops []hop, peer netip.Addr) (netip.Addr, int) {
	addr, at := peer, -1
	for i := len(hops) - 1; i >= 0; i-- {
		h := hops[i]
		if !h.readable {
			break
		}
		at = i
		if !h.addr.IsValid() {
			break
		}
		addr = h.addr
		if !t.trusts(addr) {
			break
		}
	}
	return addr, at
}

// peerAddr is the address of the request's direct peer, unmapped and
// without a zone; invalid when RemoteAddr holds none (a test's request).
func peerAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		a, _ := netip.ParseAddr(r.RemoteAddr)
		return a.Unmap().WithZone("")
	}
	return ap.Addr().Unmap().WithZone("")
}

// appendXFF appends the hops of one X-Forwarded-For header: addresses,
// with or without a port, separated by commas. Empty entries are skipped.
func appendXFF(hops []hop, line string) []hop {
	for _, v := range strings.Split(line, ",") {
		if v = strings.TrimSpace(v); v == "" {
			continue
		}
		addr, known, ok := parseNode(v)
		if ok && !known {
			ok = strings.EqualFold(v, "unknown")
		}
		hops = append(hops, hop{addr: addr, readable: ok})
	}
	return hops
}

// parseNode reads a node of RFC 7239 §6 (an address with an optional
// port, "unknown", or an obfuscated identifier), also in the looser form
// X-Forwarded-For uses (an IPv6 address without brackets). known is false
// for a node that names no address.
func parseNode(s string) (addr netip.Addr, known, ok bool) {
	switch {
	case strings.EqualFold(s, "unknown"):
		return netip.Addr{}, false, true
	case strings.HasPrefix(s, "_"):
		return netip.Addr{}, false, obfuscated(s[1:])
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone(""), true, true
	}
	var host, port string
	var v6, hasPort bool
	if rest, ok := strings.CutPrefix(s, "["); ok {
		var after string
		if host, after, ok = strings.Cut(rest, "]"); !ok {
			return netip.Addr{}, false, false
		}
		v6 = true
		if after != "" {
			if port, ok = strings.CutPrefix(after, ":"); !ok {
				return netip.Addr{}, false, false
			}
		}
		hasPort = after != ""
	} else if host, port, hasPort = strings.Cut(s, ":"); !hasPort {
		return netip.Addr{}, false, false // an IPv4 address with a port: else ParseAddr took it
	}
	a, err := netip.ParseAddr(host)
	if err != nil || a.Is6() != v6 || hasPort && !validPort(port) {
		return netip.Addr{}, false, false
	}
	return a.Unmap().WithZone(""), true, true
}

// validPort is a node-port of RFC 7239: up to five digits, or an
// obfuscated port.
func validPort(p string) bool {
	if strings.HasPrefix(p, "_") {
		return obfuscated(p[1:])
	}
	if len(p) > 5 {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
	}
	return p != ""
}

// obfuscated is the part of an obfuscated identifier after its "_":
// letters, digits, ".", "_" and "-".
func obfuscated(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return s != ""
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// nonBlank is values, or nil when every one is blank.
func nonBlank(values []string) []string {
	for _, v := range values {
		if strings.TrimSpace(v) != "" {
			return values
		}
	}
	return nil
}

// lastValue is the last entry of a comma-separated header that may come
// several times.
func lastValue(values []string) string {
	for i := len(values) - 1; i >= 0; i-- {
		parts := strings.Split(values[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			if v := strings.TrimSpace(parts[j]); v != "" {
				return v
			}
		}
	}
	return ""
}

// validHost reports whether h is a host name or address with an optional
// port and nothing else, fit to build a URL on.
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; !isAlnum(c) && !strings.ContainsRune("-._:[]", rune(c)) {
			return false
		}
	}
	u, err := url.Parse("http://" + h)
	return err == nil && u.Host == h && u.Hostname() != "" && u.User == nil && u.Path == ""
}

// appendForwarded appends the hops of one Forwarded header (RFC 7239 §4):
// elements separated by commas, each of pairs separated by semicolons, a
// pair being token=value, the value a token or a quoted string. An element
// whose for= is not a node is an unreadable hop; where the header stops
// parsing it gets one too, and the rest of it is not read. A walk from the
// right stops at either.
func appendForwarded(hops []hop, line string) []hop {
	p := fwdParser{s: line}
	for {
		p.skipSpace()
		switch {
		case p.i == len(p.s):
			return hops
		case p.s[p.i] == ',': // an empty element
			p.i++
			continue
		}
		h, pairs, ok := p.element()
		if !ok {
			return append(hops, hop{})
		}
		if pairs > 0 { // else an element of semicolons alone: empty
			hops = append(hops, h)
		}
	}
}

// fwdParser reads a Forwarded header from s[i:].
type fwdParser struct {
	s string
	i int
}

// element reads pairs up to the comma that ends the element, which it
// consumes, or the end of the header. It returns the hop (unreadable when
// its for= is no node or a parameter repeats), how many pairs it had, and
// false if it does not parse: then where the next element begins is
// unknown.
func (p *fwdParser) element() (hop, int, bool) {
	h := hop{readable: true}
	var seen []string
	for {
		p.skipSpace()
		if p.i == len(p.s) {
			return h, len(seen), true
		}
		switch p.s[p.i] {
		case ',':
			p.i++
			return h, len(seen), true
		case ';':
			p.i++
			continue
		}
		key := strings.ToLower(p.token())
		if key == "" || p.i == len(p.s) || p.s[p.i] != '=' {
			return hop{}, 0, false
		}
		p.i++
		val, ok := p.value()
		if !ok {
			return hop{}, 0, false
		}
		for _, k := range seen {
			if k == key { // a parameter may appear once in an element
				h.readable = false
			}
		}
		seen = append(seen, key)
		switch key {
		case "for":
			addr, _, ok := parseNode(val)
			h.addr, h.readable = addr, h.readable && ok
		case "proto":
			h.proto = val
		case "host":
			h.host = val
		}
		p.skipSpace()
		if p.i < len(p.s) && p.s[p.i] != ';' && p.s[p.i] != ',' {
			return hop{}, 0, false
		}
	}
}

func (p *fwdParser) skipSpace() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

// token reads a token (RFC 9110 §5.6.2).
func (p *fwdParser) token() string {
	start := p.i
	for p.i < len(p.s) && (isAlnum(p.s[p.i]) || strings.IndexByte("!#$%&'*+-.^_`|~", p.s[p.i]) >= 0) {
		p.i++
	}
	return p.s[start:p.i]
}

// value reads a token or a quoted string, which it unquotes.
func (p *fwdParser) value() (string, bool) {
	if p.i == len(p.s) || p.s[p.i] != '"' {
		v := p.token()
		return v, v != ""
	}
	p.i++
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		switch {
		case c == '"':
			return b.String(), true
		case c == '\\' && p.i < len(p.s):
			c = p.s[p.i]
			p.i++
		case c == '\\':
			return "", false
		}
		if c < ' ' && c != '\t' || c == 0x7f {
			return "", false
		}
		b.WriteByte(c)
	}
	return "", false // no closing quote
}
