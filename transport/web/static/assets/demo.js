// The demo store: logs a demo shopper in (POST /demo/token mints their
// identity token, as a store's backend would) and hands the token to the
// widget; offers the admin token to open the inbox with, when the server
// shares it with a browser on its own machine.

const SHOPPER_KEY = "parley-demo:shopper";
const NAMES = ["Maya Lind", "Oskar Berg", "Elin Holm", "Noah Ek", "Saga Nyström", "Leo Dahl"];

const $ = (id) => document.getElementById(id);

function loggedIn(shopper) {
  $("shopper-out").hidden = !!shopper;
  $("shopper-in").hidden = !shopper;
  $("shopper-name").textContent = shopper ? shopper.name : "";
}

function savedShopper() {
  try {
    const s = JSON.parse(localStorage.getItem(SHOPPER_KEY) || "null");
    return s && typeof s.token === "string" && s.exp > Date.now() ? s : null;
  } catch {
    return null;
  }
}

async function logIn() {
  $("login-error").textContent = "";
  const name = NAMES[Math.floor(Math.random() * NAMES.length)];
  try {
    const res = await fetch("/demo/token", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name }),
    });
    if (!res.ok) throw new Error("status " + res.status);
    const body = await res.json();
    // The token lasts an hour; the page forgets it a little before.
    const shopper = { token: body.token, name: body.name, exp: Date.now() + 55 * 60 * 1000 };
    localStorage.setItem(SHOPPER_KEY, JSON.stringify(shopper));
    window.Parley.identify(shopper.token);
    loggedIn(shopper);
    window.Parley.open();
  } catch (err) {
    $("login-error").textContent = "Could not log in: " + err.message;
  }
}

function logOut() {
  localStorage.removeItem(SHOPPER_KEY);
  window.Parley.identify(null);
  loggedIn(null);
}

async function adminToken() {
  let token = "";
  try {
    const res = await fetch("/demo/admin-token");
    if (res.ok) token = (await res.json()).token || "";
  } catch {}
  $("admin-token-box").hidden = !token;
  $("admin-token-elsewhere").hidden = !!token;
  if (!token) return;
  $("admin-token").value = token;
  $("inbox-link").href = "/inbox#token=" + encodeURIComponent(token);
}

async function copyToken() {
  const field = $("admin-token");
  let ok = false;
  try {
    await navigator.clipboard.writeText(field.value);
    ok = true;
  } catch {
    field.select();
    ok = document.execCommand("copy");
  }
  $("copy-status").textContent = ok ? "Copied to the clipboard." : "Select the token and copy it.";
  if (ok) $("copy-token").textContent = "Copied";
}

const shopper = savedShopper();
if (shopper) window.Parley.identify(shopper.token);
loggedIn(shopper);
$("demo-login").addEventListener("click", logIn);
$("demo-logout").addEventListener("click", logOut);
$("demo-open-chat").addEventListener("click", () => window.Parley.open());
$("copy-token").addEventListener("click", copyToken);
$("admin-token").addEventListener("focus", (e) => e.target.select());
adminToken();
