package main

import (
	"fmt"
	"net/netip"
	"strings"
)

// parseTrustedProxies reads --trusted-proxies: comma-separated CIDR
// ranges, an address without a mask meaning itself alone (/32 or /128).
// One entry that is neither stops the server: trusting less than the
// operator meant would quietly lump every client behind the proxy into
// one, and a typo must not be read as anything else.
func parseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, e := range strings.Split(s, ",") {
		if e = strings.TrimSpace(e); e == "" {
			continue
		}
		p, err := netip.ParsePrefix(e)
		if err != nil {
			a, aerr := netip.ParseAddr(e)
			if aerr != nil || a.Zone() != "" {
				return nil, fmt.Errorf("--trusted-proxies: %q is not an address or a CIDR range, such as 10.0.0.0/8 or ::1", e)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
