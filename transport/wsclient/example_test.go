package wsclient_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/parley-chat/parley/transport/wsclient"
)

// A logged-in shopper starts a chat and sends a message; the echo of the
// message comes back as an event after its ack. (Not run: it needs a
// server on 127.0.0.1:8080 and a token its identity secret signed.)
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := wsclient.Dial(ctx, "ws://127.0.0.1:8080/ws", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Hello(ctx, "<identity token>", nil); err != nil {
		log.Fatal(err)
	}
	started, err := c.StartChat(ctx)
	if err != nil {
		log.Fatal(err)
	}
	ack, err := c.SendMessage(ctx, wsclient.Message{ClientID: "m1", Text: "Where is my parcel?"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("conversation %s: message m1 is event %d\n", started.Conversation, ack.Seq)
	for {
		f, err := c.Read(ctx)
		if err != nil {
			log.Fatal(err)
		}
		if f.Type == "event" && f.Event.Kind == "message" {
			fmt.Printf("%d %s: %s\n", f.Seq, f.Event.From, f.Event.Text)
		}
	}
}

// A client that reconnects resumes after the last seq it saw: the welcome,
// then exactly the events it missed, in order.
func ExampleConn_Hello_resume() {
	ctx := context.Background()
	c, err := wsclient.Dial(ctx, "ws://127.0.0.1:8080/ws", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	w, err := c.Hello(ctx, "<identity token>", &wsclient.Resume{Conversation: "<id>", After: 7})
	if err != nil {
		log.Fatal(err)
	}
	for seq := uint64(8); w.Conversation != nil && seq <= w.Conversation.LastSeq; seq++ {
		f, err := c.Read(ctx)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(f.Seq, f.Event.Kind)
	}
}
