// Building the widget's DOM. Every string goes in as text (textContent or a
// text node), never as HTML: names, messages and FAQ text are other people's
// input. Icons are drawn with createElementNS from path data kept here.

const SVG = "http://www.w3.org/2000/svg";

// el makes an element: el("button", {class: "x", "aria-label": "Close"}, child, "text").
// Attributes whose value is null, undefined or false are left out; children
// that are strings become text nodes.
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "text") node.textContent = String(value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(typeof c === "string" ? document.createTextNode(c) : c);
  }
}

// The icons, as 24×24 stroke paths.
const icons = {
  chat: ["M21 12a8.5 8.5 0 0 1-12.3 7.6L3 21l1.5-5.2A8.5 8.5 0 1 1 21 12Z"],
  close: ["M6 6l12 12", "M18 6 6 18"],
  down: ["m6 9 6 6 6-6"],
  back: ["m15 18-6-6 6-6"],
  next: ["m9 18 6-6-6-6"],
  send: ["M4 12 20 4l-6 16-3-7-7-1Z"],
  image: ["M4 5h16v14H4z", "m4 16 5-5 4 4 3-3 4 4", "M15.5 9.5h.01"],
  smile: ["M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18Z", "M8.5 14a4.5 4.5 0 0 0 7 0", "M9 9.5h.01", "M15 9.5h.01"],
  offline: ["M2 8.5a15 15 0 0 1 20 0", "M5 12a10 10 0 0 1 14 0", "M8.5 15.5a5 5 0 0 1 7 0", "M12 19h.01"],
  book: ["M4 5a2 2 0 0 1 2-2h14v16H6a2 2 0 0 0-2 2V5Z", "M4 19a2 2 0 0 1 2-2h14"],
};

// icon draws one of the icons above, hidden from assistive technology (the
// control it sits in carries the name).
export function icon(name) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.setAttribute("class", "icon icon-" + name);
  for (const d of icons[name] || []) {
    const p = document.createElementNS(SVG, "path");
    p.setAttribute("d", d);
    svg.append(p);
  }
  return svg;
}

// safeURL returns url as a string if it is an absolute http(s) URL, else "".
// Links made from other people's input go through it: no javascript:, data:
// or anything else a click could run.
export function safeURL(url) {
  try {
    const u = new URL(String(url));
    return u.protocol === "https:" || u.protocol === "http:" ? u.href : "";
  } catch {
    return "";
  }
}

// linkify appends text to node with its http(s) URLs as links that open in
// a new tab, and everything else as text.
export function linkify(node, text) {
  const re = /\bhttps?:\/\/[^\s<>"']+/gi;
  let last = 0;
  for (const m of text.matchAll(re)) {
    let raw = m[0].replace(/[.,;:!?)\]]+$/, ""); // a sentence's end is not the URL's
    const href = safeURL(raw);
    if (!href) continue;
    node.append(document.createTextNode(text.slice(last, m.index)));
    node.append(el("a", { href, target: "_blank", rel: "noopener noreferrer nofollow ugc" }, raw));
    last = m.index + raw.length;
  }
  node.append(document.createTextNode(text.slice(last)));
}

// initials of a name, for an avatar: "Ana Berg" → "AB".
export function initials(name) {
  const words = String(name || "").trim().split(/\s+/).filter((w) => /^[\p{L}\p{N}]/u.test(w));
  const letters = words.slice(0, 2).map((w) => Array.from(w)[0].toUpperCase());
  return letters.join("") || "?";
}

// randomID is a client_id: 128 random bits in hex (crypto.randomUUID needs
// a secure context, which a store's page may not be).
export function randomID() {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}
