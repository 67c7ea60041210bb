package transport

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// rawDial opens a socket with a hand-written handshake and says hello with
// one masked frame, then leaves it idle: the client holds no goroutine and
// almost no memory, so what the process gains per socket is the server's.
func rawDial(tb testing.TB, addr, hello string) net.Conn {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	var key [16]byte
	_, _ = rand.Read(key[:])
	fmt.Fprintf(conn, "GET /ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", addr, base64.StdEncoding.EncodeToString(key[:]))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		tb.Fatalf("handshake: %v %v", err, resp)
	}
	if _, err := conn.Write(maskedText([]byte(hello))); err != nil {
		tb.Fatal(err)
	}
	// Read the welcome frame's header and payload.
	var hdr [4]byte
	if _, err := br.Read(hdr[:2]); err != nil {
		tb.Fatal(err)
	}
	n := int(hdr[1] & 0x7f)
	if n == 126 {
		if _, err := br.Read(hdr[2:4]); err != nil {
			tb.Fatal(err)
		}
		n = int(binary.BigEndian.Uint16(hdr[2:4]))
	}
	welcome := make([]byte, n)
	if _, err := io_ReadFull(br, welcome); err != nil || !strings.Contains(string(welcome), `"welcome"`) {
		tb.Fatalf("welcome %q %v", welcome, err)
	}
	return conn
}

// maskedText is one client text frame (FIN, masked) carrying payload, which
// must be shorter than 64 KiB.
func maskedText(payload []byte) []byte {
	frame := []byte{0x81, 0x80 | byte(len(payload))}
	if len(payload) >= 126 {
		frame = []byte{0x81, 0x80 | 126, byte(len(payload) >> 8), byte(len(payload))}
	}
	var mask [4]byte
	binary.BigEndian.PutUint32(mask[:], 0x01020304)
	frame = append(frame, mask[:]...)
	for i, b := range payload {
		frame = append(frame, b^mask[i%4])
	}
	return frame
}

func io_ReadFull(r *bufio.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := r.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func memInUse() (heap, stack uint64) {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse, m.StackInuse
}

// BenchmarkIdleShopperMemory reports the memory the process holds per idle,
// connected shopper after its welcome (B/conn). Target: at most 28 KB.
//
//	go test -run '^$' -bench IdleShopperMemory -benchtime 1x ./transport/
func BenchmarkIdleShopperMemory(b *testing.B) {
	for _, who := range []string{"anonymous", "logged_in"} {
		b.Run(who, func(b *testing.B) {
			const n = 2000
			h := start(b, Config{HelloTimeout: time.Hour, RateBurst: 1 << 20})
			addr := strings.TrimPrefix(h.ts.URL, "http://")
			hello := `{"type":"hello"}`
			if who == "logged_in" {
				hello = `{"type":"hello","token":"` + token(b, "p1", "Ada") + `"}`
			}
			for i := 0; i < 20; i++ { // warm pools and the actor
				rawDial(b, addr, hello).Close()
			}
			time.Sleep(200 * time.Millisecond)
			heap0, stack0 := memInUse()
			conns := make([]net.Conn, 0, n)
			for i := 0; i < n; i++ {
				conns = append(conns, rawDial(b, addr, hello))
			}
			time.Sleep(200 * time.Millisecond)
			heap1, stack1 := memInUse()
			b.ReportMetric(float64(heap1+stack1-heap0-stack0)/n, "B/conn")
			b.ReportMetric(float64(heap1-heap0)/n, "heapB/conn")
			b.ReportMetric(float64(stack1-stack0)/n, "stackB/conn")
			for _, c := range conns {
				c.Close()
			}
		})
	}
}

// BenchmarkSendAck measures one shopper message from the socket to its ack:
// frame decode, actor round trip, durable commit (fsync), ack and echo, over
// real WebSockets on loopback. With 64 shoppers the commits share fsyncs.
func BenchmarkSendAck(b *testing.B) {
	for _, shoppers := range []int{1, 64} {
		b.Run(fmt.Sprintf("shoppers=%d", shoppers), func(b *testing.B) {
			h := start(b, Config{RateLimit: 1e9, RateBurst: 1 << 30})
			clients := make([]*client, shoppers)
			for i := range clients {
				clients[i], _ = h.hello(token(b, fmt.Sprintf("bench-%d", i), "Bench"))
				clients[i].send(frame{"type": "chat.start"})
				clients[i].readType("event")
			}
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			for _, c := range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						n := next.Add(1)
						if n > int64(b.N) {
							return
						}
						id := "m" + strconv.FormatInt(n, 10)
						c.send(frame{"type": "message.send", "client_id": id, "text": "hello"})
						for {
							f, err := c.next(10 * time.Second)
							if err != nil {
								b.Error(err)
								return
							}
							if f["type"] == "ack" && f["client_id"] == id {
								break
							}
						}
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "acks/s")
		})
	}
}
