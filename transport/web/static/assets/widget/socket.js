// The shopper's WebSocket (PROTOCOL §2): one at a time, said hello on every
// open, and opened again after any close the widget did not ask for — a
// server going away (1001), a bug on its side (1011), a restart (1012), a
// busy server (1013), a dropped network (1006) — after a back-off that grows
// from half a second to 15 s, each wait drawn at random between half and
// all of it. A close the server sends to every shopper at once (going
// away, restarting, busy) is answered after a wait drawn from the whole of
// SPREAD: thousands of widgets then come back over seconds, not as one
// wave at the moment the server is up again. Coming back online or to the
// tab tries again at once.

const MAX_DELAY = 15000;
const SPREAD = 4000;
const EVERYONE = new Set([1001, 1012, 1013]); // closes the server sends to all its sockets
const HELLO_TIMEOUT = 10000; // no welcome by then: try again

export class Connection {
  // url is the socket's address; hello() returns the hello frame for a new
  // socket; onFrame(frame) gets every frame the server sends; onState(s)
  // hears "connecting", "online" or "offline".
  constructor(url, { hello, onFrame, onState }) {
    this.url = url;
    this.hello = hello;
    this.onFrame = onFrame;
    this.onState = onState;
    this.ws = null;
    this.online = false;
    this.attempts = 0;
    this.timer = 0;
    this.stopped = true;
    this.refused = false; // the server refused the token: do not retry with it
    this.onRefused = null;
    addEventListener("online", () => this.now());
    addEventListener("offline", () => this.drop());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") this.now();
    });
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  // restart closes the socket and opens a new one at once: a new token, or a
  // conversation whose whole log is wanted.
  restart() {
    this.stopped = false;
    this.attempts = 0;
    this.connect();
  }

  // send writes a frame on a socket that has been welcomed; false if there
  // is none (the caller keeps what must not be lost).
  send(frame) {
    if (!this.online || !this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  // now reconnects at once if the widget is waiting to.
  now() {
    if (!this.stopped && !this.ws) {
      clearTimeout(this.timer);
      this.connect();
    }
  }

  // drop gives up on the current socket (the browser went offline: it is
  // dead even if no close has come yet) and waits to reconnect.
  drop() {
    if (this.ws) {
      this.close();
      this.lost();
    }
  }

  close() {
    clearTimeout(this.timer);
    const ws = this.ws;
    this.ws = null;
    this.online = false;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      try {
        ws.close(1000);
      } catch {}
    }
  }

  connect() {
    this.close(); // one socket at a time
    this.onState("connecting");
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch {
      this.lost();
      return;
    }
    this.ws = ws;
    this.refused = false;
    ws.onopen = () => ws.send(JSON.stringify(this.hello()));
    ws.onmessage = (e) => this.message(ws, e);
    ws.onclose = (e) => this.closed(ws, e);
    this.timer = setTimeout(() => {
      if (this.ws === ws && !this.online) this.drop();
    }, HELLO_TIMEOUT);
  }

  message(ws, e) {
    if (this.ws !== ws || typeof e.data !== "string") return;
    let f;
    try {
      f = JSON.parse(e.data);
    } catch {
      return;
    }
    if (!f || typeof f !== "object") return;
    if (f.type === "welcome") {
      clearTimeout(this.timer);
      this.online = true;
      this.attempts = 0;
      this.onState("online");
    } else if (f.type === "error" && f.code === "unauthorized" && !this.online) {
      this.refused = true;
    }
    this.onFrame(f);
  }

  closed(ws, e) {
    if (this.ws !== ws) return;
    this.ws = null;
    this.online = false;
    if (this.refused && e.code === 1008 && this.onRefused) {
      this.onRefused(); // decides what to say hello with next, and restarts
      return;
    }
    this.lost(e.code);
  }

  // lost waits, then tries again.
  lost(code) {
    if (this.stopped) return;
    this.onState("offline");
    // Offline, trying is pointless: the online event calls now().
    const base = navigator.onLine === false ? MAX_DELAY : Math.min(MAX_DELAY, 500 * 2 ** this.attempts);
    let delay = base * (0.5 + Math.random() * 0.5);
    if (EVERYONE.has(code) && this.attempts === 0) delay = Math.random() * SPREAD;
    this.attempts = Math.min(this.attempts + 1, 10);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delay);
  }
}
