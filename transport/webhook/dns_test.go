package webhook_test

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"strings"
)

// fakeDNS is a resolver that asks no real server: each query it makes is
// answered by a stand-in DNS server over an in-memory connection, with the
// A and AAAA records of names, and NXDOMAIN for a name not in it. It is Go's
// own resolver that parses the answers, as it would a real server's.
func fakeDNS(names map[string][]string) *net.Resolver {
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
			client, server := net.Pipe() // not a PacketConn: the resolver frames messages as over TCP
			go serveDNS(server, names)
			return client, nil
		},
	}
}

// serveDNS answers one query on c (RFC 1035 §4.2.2 framing).
func serveDNS(c net.Conn, names map[string][]string) {
	defer c.Close()
	var n [2]byte
	if _, err := io.ReadFull(c, n[:]); err != nil {
		return
	}
	q := make([]byte, binary.BigEndian.Uint16(n[:]))
	if _, err := io.ReadFull(c, q); err != nil {
		return
	}
	if a := dnsAnswer(q, names); a != nil {
		c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(a))), a...))
	}
}

// dnsAnswer is the answer to query q, or nil if q is malformed.
func dnsAnswer(q []byte, names map[string][]string) []byte {
	if len(q) < 12 {
		return nil
	}
	i := 12
	var labels []string
	for i < len(q) && q[i] != 0 {
		n := int(q[i])
		if i+1+n > len(q) {
			return nil
		}
		labels = append(labels, string(q[i+1:i+1+n]))
		i += 1 + n
	}
	if i+5 > len(q) {
		return nil
	}
	question := q[12 : i+5] // the name, its root label, type and class
	qtype := binary.BigEndian.Uint16(q[i+1:])
	addrs, known := names[strings.ToLower(strings.Join(labels, "."))]

	var answers [][]byte
	for _, s := range addrs {
		a := netip.MustParseAddr(s)
		typ := uint16(1) // A
		if a.Is6() {
			typ = 28 // AAAA
		}
		if typ != qtype {
			continue
		}
		rr := []byte{0xc0, 12} // the name: a pointer to the question's
		rr = binary.BigEndian.AppendUint16(rr, typ)
		rr = binary.BigEndian.AppendUint16(rr, 1)  // class IN
		rr = binary.BigEndian.AppendUint32(rr, 60) // TTL
		rr = binary.BigEndian.AppendUint16(rr, uint16(a.BitLen()/8))
		answers = append(answers, append(rr, a.AsSlice()...))
	}

	flags := uint16(0x8000|0x0400|0x0080) | binary.BigEndian.Uint16(q[2:])&0x0100 // QR, AA, RA, the query's RD
	if !known {
		flags |= 3 // NXDOMAIN
	}
	out := append([]byte(nil), q[0:2]...) // the query's id
	out = binary.BigEndian.AppendUint16(out, flags)
	out = binary.BigEndian.AppendUint16(out, 1) // one question
	out = binary.BigEndian.AppendUint16(out, uint16(len(answers)))
	out = binary.BigEndian.AppendUint32(out, 0) // no authority, no additional records
	out = append(out, question...)
	for _, rr := range answers {
		out = append(out, rr...)
	}
	return out
}
