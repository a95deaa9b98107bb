// The page's transport: every request the page makes goes through `request`, a fetch-like
// function (url, init) -> Promise<Response>. Served by `vae-atlas explore` it is the browser's
// fetch; a host that has no server (the notebook widget, the static export) sets its own with
// `setTransport` before the page starts, so the page's components stay the same everywhere.
// On top of it, thin helpers: JSON in and out, and the server's 4xx message as the error text.

let transport = (url, init) => fetch(url, init);

export function setTransport(fn) { transport = fn; }

// filters rewrite a request before it is sent ((url, init) -> [url, init]): a page component
// that changes what requests mean (condition.js: the class a cvae decodes under) adds one
const filters = [];

export function addRequestFilter(fn) { filters.push(fn); }

export function request(url, init) {
  for (const filter of filters) [url, init] = filter(url, init);
  return transport(url, init);
}

async function check(response) {
  if (response.ok) return response;
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = await response.json();
    message = body.message || (typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail));
  } catch (_) { /* not JSON: keep the status line */ }
  throw new Error(message);
}

export async function getJSON(url) {
  return (await check(await request(url))).json();
}

export async function postJSON(url, body) {
  const response = await request(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  return (await check(response)).json();
}

export async function postFile(url, file) {
  const response = await request(url, {
    method: "POST",
    headers: { "Content-Type": file.type || "application/octet-stream" },
    body: file,
  });
  return (await check(response)).json();
}

export async function getBlob(url) {
  return (await check(await request(url))).blob();
}

export async function getBuffer(url) {
  return (await check(await request(url))).arrayBuffer();
}
