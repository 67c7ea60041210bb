// The inbox's live stream: GET /api/v1/inbox/stream as Server-Sent Events
// (badge, ticket, alert, typing), authenticated by the session cookie.
//
// The page reconnects by itself rather than leaving it to EventSource,
// which gives up for good on an answer that is not 200 and otherwise
// retries on its own schedule: here a drop shows "reconnecting" at once,
// the next attempt comes after 1 s, doubling to 15 s, and every
// (re)connection calls onState('live', resumed) so that the page can fetch
// what it missed while it was away.

import { get } from './api.js';

export class InboxStream {
  constructor(handlers, onState) {
    this.handlers = handlers; // { badge, ticket, alert, typing }
    this.onState = onState;
    this.es = null;
    this.timer = 0;
    this.delay = 1000;
    this.wasLive = false;
    this.stopped = true;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.es) this.es.close();
    this.es = null;
  }

  connect() {
    if (this.stopped) return;
    const es = new EventSource('/api/v1/inbox/stream');
    this.es = es;
    for (const name of ['badge', 'ticket', 'alert', 'typing']) {
      es.addEventListener(name, (ev) => {
        let data;
        try {
          data = JSON.parse(ev.data);
        } catch {
          return;
        }
        this.handlers[name]?.(data);
      });
    }
    es.onopen = () => {
      this.delay = 1000;
      const resumed = this.wasLive;
      this.wasLive = true;
      this.onState('live', resumed);
    };
    es.onerror = () => {
      es.close();
      if (this.es !== es || this.stopped) return;
      this.es = null;
      this.onState('reconnecting');
      this.timer = setTimeout(() => this.retry(), this.delay);
      this.delay = Math.min(this.delay * 2, 15000);
    };
  }

  // retry reconnects, unless the session is gone: then the API's signed-out
  // handlers take over (a 401 on any request calls them).
  async retry() {
    if (this.stopped) return;
    try {
      await get('/api/v1/session');
    } catch (e) {
      if (e.status === 401) return;
      this.onState('reconnecting');
      this.timer = setTimeout(() => this.retry(), this.delay);
      this.delay = Math.min(this.delay * 2, 15000);
      return;
    }
    this.connect();
  }
}
