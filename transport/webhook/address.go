package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/net/idna"
)

// MaxURL is the longest endpoint URL CheckURL accepts, in bytes.
const MaxURL = 2048

// LookupTimeout bounds CheckURL's look-up of a host name, within the
// context it is given.
const LookupTimeout = 5 * time.Second

// allowHint ends every refusal of an address that is not public.
const allowHint = "webhooks go to public addresses unless Parley runs with --webhook-allow-private"

// CheckURL reports whether raw may be a webhook endpoint, for the API to
// refuse a bad one when it is registered: an absolute http or https URL
// of at most MaxURL bytes, with a host, without a user name or password
// and without a fragment. Unless allowPrivate, its host must also be
// public: an IP literal that is public, or a name whose every address,
// looked up with resolver (nil: net.DefaultResolver), is public. The names
// "localhost" and those ending in ".localhost", ".local", ".internal" or
// ".home.arpa" are refused without a look-up, and so are IPv4 addresses
// written other than as four decimal numbers ("2130706433", "0x7f.1").
// A name that does not resolve is refused too: it cannot be shown public.
//
// Its errors read as the end of a sentence that starts "url: ".
//
// CheckURL is advice given early, not the protection: a name's addresses
// can change after the check (DNS rebinding), so the Sender checks again
// every address it connects to.
func CheckURL(ctx context.Context, raw string, allowPrivate bool, resolver *net.Resolver) error {
	if len(raw) > MaxURL {
		return fmt.Errorf("is longer than %d bytes", MaxURL)
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return errors.New("is not a valid URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return errors.New("must start with https:// or http://")
	case u.Opaque != "" || u.Hostname() == "":
		return errors.New("has no host")
	case u.User != nil:
		return errors.New("must not carry a user name or password; Parley signs its deliveries instead")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return errors.New("must not have a fragment (#…): it is never sent")
	case !validPort(u.Port()):
		return fmt.Errorf("has the port %s, outside 1 to 65535", u.Port())
	}
	if allowPrivate {
		return nil
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if a, err := netip.ParseAddr(host); err == nil {
		if kind := nonPublic(a); kind != "" {
			return fmt.Errorf("points at %s, %s address; %s", a.WithZone(""), kind, allowHint)
		}
		return nil
	}
	// An internationalised name is looked up as DNS knows it (punycode),
	// as the delivery's own dial does.
	ascii, err := idna.Lookup.ToASCII(host)
	if err != nil {
		return fmt.Errorf("has the host %s, which is not a valid host name", host)
	}
	host = ascii
	if localName(host) {
		return fmt.Errorf("names %s, a local host; %s", host, allowHint)
	}
	if numericName(host) {
		return fmt.Errorf("has the host %s, which is neither a name nor an IP address written in the standard form", host)
	}
	if resolver == nil {
		resolver = net.DefaultResolver
	}
	ctx, cancel := context.WithTimeout(ctx, LookupTimeout)
	defer cancel()
	addrs, err := resolver.LookupNetIP(ctx, "ip", host)
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound, err == nil && len(addrs) == 0:
		return fmt.Errorf("has the host %s, which has no address in DNS", host)
	case err != nil:
		return fmt.Errorf("has the host %s, whose address could not be looked up: %v", host, err)
	}
	for _, a := range addrs {
		if kind := nonPublic(a); kind != "" {
			return fmt.Errorf("has the host %s, which resolves to %s, %s address; %s", host, a.WithZone(""), kind, allowHint)
		}
	}
	return nil
}

// validPort reports whether p, a URL's port, is empty (the scheme's own)
// or one a connection can be made to.
func validPort(p string) bool {
	if p == "" {
		return true
	}
	n, err := strconv.Atoi(p)
	return err == nil && n >= 1 && n <= 65535
}

// localName reports whether host is a name that only means something
// on the local machine or network.
func localName(host string) bool {
	if host == "localhost" {
		return true
	}
	for _, suffix := range []string{".localhost", ".local", ".internal", ".home.arpa"} {
		if strings.HasSuffix(host, suffix) {
			return true
		}
	}
	return false
}

// numericName reports whether host's last label is a number, decimal or
// hexadecimal: no top-level domain is (RFC 3696 §2), so host is an IPv4
// address in one of the forms inet_aton also reads ("2130706433",
// "127.1", "0x7f.0.0.1"), which some resolvers turn into an address and
// others do not.
func numericName(host string) bool {
	last := host[strings.LastIndexByte(host, '.')+1:]
	if last == "" {
		return false
	}
	digits := strings.TrimPrefix(last, "0x")
	hex := digits != last
	if digits == "" {
		return hex // "0x"
	}
	for _, r := range digits {
		if !('0' <= r && r <= '9' || hex && ('a' <= r && r <= 'f')) {
			return false
		}
	}
	return true
}

// A span of addresses that is not public, and what to call it.
type span struct {
	prefix netip.Prefix
	kind   string
}

// special4 are the IPv4 blocks of IANA's special-purpose registry that are
// not globally reachable, plus multicast and the reserved 240/4.
var special4 = []span{
	{netip.MustParsePrefix("0.0.0.0/8"), "an unspecified"}, // "this network"
	{netip.MustParsePrefix("10.0.0.0/8"), "a private"},
	{netip.MustParsePrefix("100.64.0.0/10"), "a shared (carrier-grade NAT)"},
	{netip.MustParsePrefix("127.0.0.0/8"), "a loopback"},
	{netip.MustParsePrefix("169.254.0.0/16"), "a link-local"}, // with the clouds' metadata service, 169.254.169.254
	{netip.MustParsePrefix("172.16.0.0/12"), "a private"},
	{netip.MustParsePrefix("192.0.0.0/24"), "a reserved"},
	{netip.MustParsePrefix("192.0.2.0/24"), "a documentation"},
	{netip.MustParsePrefix("192.88.99.0/24"), "a reserved"}, // the 6to4 relays' anycast
	{netip.MustParsePrefix("192.168.0.0/16"), "a private"},
	{netip.MustParsePrefix("198.18.0.0/15"), "a benchmarking"},
	{netip.MustParsePrefix("198.51.100.0/24"), "a documentation"},
	{netip.MustParsePrefix("203.0.113.0/24"), "a documentation"},
	{netip.MustParsePrefix("224.0.0.0/4"), "a multicast"},
	{netip.MustParsePrefix("240.0.0.0/4"), "a reserved"}, // with the broadcast address
}

// special6 are the blocks inside 2000::/3, IPv6's global unicast space,
// that are not globally reachable.
var special6 = []span{
	{netip.MustParsePrefix("2001::/23"), "a reserved"}, // IETF protocol assignments, Teredo
	{netip.MustParsePrefix("2001:db8::/32"), "a documentation"},
	{netip.MustParsePrefix("2002::/16"), "a reserved"}, // 6to4, which tunnels to an IPv4 address
	{netip.MustParsePrefix("3fff::/20"), "a documentation"},
}

var (
	globalUnicast6 = netip.MustParsePrefix("2000::/3")
	uniqueLocal6   = netip.MustParsePrefix("fc00::/7")
	siteLocal6     = netip.MustParsePrefix("fec0::/10")
	nat64          = netip.MustParsePrefix("64:ff9b::/96") // the well-known NAT64 prefix: an IPv4 address inside
)

// nonPublic is "" for an address on the public internet, and otherwise
// what kind of address a is, with its article: "a loopback".
func nonPublic(a netip.Addr) string {
	a = a.WithZone("").Unmap() // ::ffff:127.0.0.1 is 127.0.0.1
	if a.Is4() {
		for _, s := range special4 {
			if s.prefix.Contains(a) {
				return s.kind
			}
		}
		return ""
	}
	switch {
	case !a.IsValid():
		return "an invalid"
	case a.IsUnspecified():
		return "an unspecified"
	case a.IsLoopback():
		return "a loopback"
	case a.IsLinkLocalUnicast():
		return "a link-local"
	case a.IsMulticast():
		return "a multicast"
	case uniqueLocal6.Contains(a), siteLocal6.Contains(a):
		return "a private"
	case nat64.Contains(a):
		b := a.As16()
		return nonPublic(netip.AddrFrom4([4]byte(b[12:])))
	case !globalUnicast6.Contains(a):
		return "a reserved"
	}
	for _, s := range special6 {
		if s.prefix.Contains(a) {
			return s.kind
		}
	}
	return ""
}

// refusedError is a connection the dialer would not make.
type refusedError struct {
	addr netip.Addr
	kind string
}

func (e *refusedError) Error() string {
	return fmt.Sprintf("%s is %s address, not a public one", e.addr, e.kind)
}

// refusePrivate is the net.Dialer's ControlContext of a Sender that only
// connects to public addresses. It is called with the address actually
// being dialled, after any DNS look-up, once per address tried, so that
// neither a name that changes its answer nor a redirect can get past it.
func refusePrivate(_ context.Context, network, address string, _ syscall.RawConn) error {
	if network != "tcp4" && network != "tcp6" {
		return fmt.Errorf("webhook: refusing to dial %s over %s", address, network)
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("webhook: refusing to dial %q: %w", address, err)
	}
	if kind := nonPublic(ap.Addr()); kind != "" {
		return &refusedError{ap.Addr().WithZone("").Unmap(), kind}
	}
	return nil
}
