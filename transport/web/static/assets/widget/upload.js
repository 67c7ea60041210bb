// Uploading a shopper's image: POST /api/v1/uploads with the identity token
// as the bearer (PROTOCOL §3; CORS lets the store's page do it), answered
// with {url, content_type}.

export async function uploadImage(url, token, file) {
  if (!token) throw new Error("Log in to send images.");
  const form = new FormData();
  form.append("file", file);
  let res;
  try {
    res = await fetch(url, { method: "POST", headers: { Authorization: "Bearer " + token }, body: form, credentials: "omit" });
  } catch {
    throw new Error("The image could not be sent: you seem to be offline.");
  }
  if (res.ok) return res.json();
  switch (res.status) {
    case 413:
      throw new Error("That image is too large to send.");
    case 415:
      throw new Error("Only PNG, JPEG, GIF and WebP images can be sent.");
    case 429:
      throw new Error("Too many images at once; try again in a moment.");
    case 401:
      throw new Error("Your session has expired; reload the page to send images.");
  }
  throw new Error("The image could not be sent.");
}
