package actors

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/engine"
)

// An asynchronous post is answered once, after it is stored, also while the
// actor keeps passivating under the posts (2 ms idle): an answer lost to a
// stopping actor would come as a timeout instead. Refusals come the same way.
func TestShopperPostAsync(t *testing.T) {
	h := start(t, Config{PassivateAfter: 2 * time.Millisecond, ProfileIdleAfter: 2 * time.Millisecond, RequestTimeout: 3 * time.Second})
	v := engine.Visitor{ProfileID: "async-1", Name: "Async"}
	conv := h.startChat(v)
	post := func(v engine.Visitor, conv, cid string) (Posted, error) {
		type answer struct {
			p   Posted
			err error
		}
		got := make(chan answer, 2) // room for a second answer, which would be a bug
		h.sys.ShopperPostAsync(v, conv, "hi "+cid, nil, cid, func(p Posted, err error) { got <- answer{p, err} })
		a := <-got
		select {
		case b := <-got:
			t.Errorf("%s answered twice: %+v, then %+v", cid, a, b)
		case <-time.After(time.Millisecond):
		}
		return a.p, a.err
	}
	last := uint64(1) // the started event
	for n := range 60 {
		if n%6 == 0 {
			time.Sleep(3 * time.Millisecond) // let it passivate now and then
		}
		cid := fmt.Sprintf("a%d", n)
		p, err := post(v, conv, cid)
		if err != nil || p.Seq != last+1 || p.Conversation != conv || p.Duplicate {
			t.Fatalf("%s: %+v %v after seq %d", cid, p, err, last)
		}
		last = p.Seq
	}
	if p, err := post(v, conv, "a7"); err != nil || !p.Duplicate || p.Seq == 0 || p.Seq == last+1 {
		t.Errorf("a repeat: %+v %v", p, err)
	}
	for _, c := range []struct {
		v    engine.Visitor
		conv string
		want engine.Code
	}{
		{engine.Visitor{}, conv, engine.CodeNoOpenConversation},
		{v, "not an id!", engine.CodeNotFound},
		{engine.Visitor{ProfileID: "someone-else", Name: "X"}, conv, engine.CodeNotFound}, // not theirs: not even there
	} {
		if _, err := post(c.v, c.conv, "r1"); engine.ErrorCode(err) != c.want {
			t.Errorf("post by %q to %q: %v, want %s", c.v.ProfileID, c.conv, err, c.want)
		}
	}
	view, err := h.sys.Ticket(context.Background(), conv)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(view.Events); uint64(n) != last || view.Events[n-1].ClientID != "a59" {
		t.Errorf("%d events stored, the last %+v; want %d, the last a59", n, view.Events[n-1], last)
	}
}

// The answer of an asynchronous post comes once: the actor's or the
// timeout's, whichever is first.
func TestAsyncAnswerOnce(t *testing.T) {
	var calls []error
	a := &asyncAnswer{done: func(_ Posted, err error) { calls = append(calls, err) }}
	a.timer = time.AfterFunc(time.Hour, a.expire)
	a.answer(&result{Posted: Posted{Seq: 3}})
	a.expire()
	b := &asyncAnswer{done: func(_ Posted, err error) { calls = append(calls, err) }}
	b.timer = time.AfterFunc(time.Hour, b.expire)
	b.expire()
	b.answer(&result{Posted: Posted{Seq: 4}})
	if len(calls) != 2 || calls[0] != nil || !errors.Is(calls[1], errTimeout) {
		t.Errorf("answers %v, want nil then the timeout", calls)
	}
}

// panicky is a subscriber whose first delivery panics, as a bug in a
// subscriber would: the conversation's actor fails mid-message, after its
// commit and before its answer.
type panicky struct {
	recorder
	once sync.Once
}

func (p *panicky) Deliver(conv string, e engine.Event) bool {
	p.once.Do(func() { panic("a subscriber's bug") })
	return p.recorder.Deliver(conv, e)
}

// An actor that fails mid-message still answers an asynchronous post once,
// with the timeout, and nothing is lost: the message was stored, so its
// repeat is acknowledged with its seq, and the conversation goes on.
func TestShopperPostAsyncActorFails(t *testing.T) {
	h := start(t, Config{RequestTimeout: 300 * time.Millisecond})
	v := engine.Visitor{ProfileID: "async-2", Name: "Async"}
	conv := h.startChat(v)
	sub := &panicky{recorder: recorder{notify: make(chan struct{}, 1024)}}
	if err := h.sys.Subscribe(context.Background(), v, conv, 1, sub); err != nil {
		t.Fatal(err)
	}
	type answer struct {
		p   Posted
		err error
	}
	post := func(cid string) answer {
		got := make(chan answer, 2)
		h.sys.ShopperPostAsync(v, conv, "hi "+cid, nil, cid, func(p Posted, err error) { got <- answer{p, err} })
		var a answer
		select {
		case a = <-got:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s never answered", cid)
		}
		select {
		case b := <-got:
			t.Errorf("%s answered twice: %+v, then %+v", cid, a, b)
		case <-time.After(400 * time.Millisecond):
		}
		return a
	}
	if a := post("boom"); !errors.Is(a.err, errTimeout) {
		t.Fatalf("a post whose actor failed: %+v, want the timeout", a)
	}
	if a := post("boom"); a.err != nil || !a.p.Duplicate || a.p.Seq != 2 {
		t.Fatalf("its repeat: %+v, want a duplicate at seq 2", a)
	}
	if a := post("after"); a.err != nil || a.p.Duplicate || a.p.Seq != 3 {
		t.Fatalf("the next post: %+v, want seq 3", a)
	}
}
