// What the widget keeps between page views, in the store's localStorage, one
// record per Parley server and profile: the conversation, the last seq
// shown, the read mark, the messages sent but not yet acknowledged, and a
// copy of the thread so that the next page shows it at once. Nothing here is
// trusted: a record that does not parse is dropped.

const PREFIX = "parley:v1:";
const MAX_BYTES = 256 * 1024; // beyond this the thread is not kept; the next page replays it

export class Storage {
  constructor(server, profile) {
    this.key = PREFIX + server + ":" + profile;
  }

  // load returns the record, or an empty one.
  load() {
    const empty = { conversation: null, ended: false, lastSeq: 0, readSeq: 0, events: null, pending: [] };
    try {
      const rec = JSON.parse(localStorage.getItem(this.key) || "null");
      if (!rec || typeof rec !== "object") return empty;
      return {
        conversation: typeof rec.conversation === "string" ? rec.conversation : null,
        ended: rec.ended === true,
        lastSeq: Number.isSafeInteger(rec.lastSeq) && rec.lastSeq >= 0 ? rec.lastSeq : 0,
        readSeq: Number.isSafeInteger(rec.readSeq) && rec.readSeq >= 0 ? rec.readSeq : 0,
        events: Array.isArray(rec.events) ? rec.events : null,
        pending: Array.isArray(rec.pending) ? rec.pending.filter(validPending) : [],
      };
    } catch {
      return empty;
    }
  }

  // save writes the record. The thread's copy is kept only while it starts
  // at seq 1 and fits; otherwise the next page view replays the log.
  save(rec) {
    let out = { ...rec };
    let json = JSON.stringify(out);
    if (json.length > MAX_BYTES) {
      out = { ...rec, events: null };
      json = JSON.stringify(out);
    }
    try {
      localStorage.setItem(this.key, json);
    } catch {
      // Storage full or denied (a private window): the widget works, it
      // only replays the thread on the next page view.
    }
  }

  clear() {
    try {
      localStorage.removeItem(this.key);
    } catch {}
  }
}

function validPending(p) {
  return p && typeof p.client_id === "string" && typeof p.text === "string" && Array.isArray(p.attachments);
}

// profileOf reads the profile id (the sub claim) out of an identity token,
// only to choose the record: the server verifies the token, the widget
// cannot and does not need to.
export function profileOf(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(part), (c) => c.charCodeAt(0));
    const sub = JSON.parse(new TextDecoder().decode(bytes)).sub;
    return typeof sub === "string" && sub ? sub : null;
  } catch {
    return null;
  }
}

// The panel's open state lasts for the browser tab (sessionStorage): a
// shopper who opened the chat and follows a link to another product page
// finds it still open.
const OPEN_KEY = "parley:v1:open";

export function rememberOpen(open) {
  try {
    if (open) sessionStorage.setItem(OPEN_KEY, "1");
    else sessionStorage.removeItem(OPEN_KEY);
  } catch {}
}

export function wasOpen() {
  try {
    return sessionStorage.getItem(OPEN_KEY) === "1";
  } catch {
    return false;
  }
}
