// Thin fetch helpers: JSON in and out, and the server's 4xx message as the error text.

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
  return (await check(await fetch(url))).json();
}

export async function postJSON(url, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  return (await check(response)).json();
}

export async function postFile(url, file) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": file.type || "application/octet-stream" },
    body: file,
  });
  return (await check(response)).json();
}

export async function getBlob(url) {
  return (await check(await fetch(url))).blob();
}

export async function getBuffer(url) {
  return (await check(await fetch(url))).arrayBuffer();
}
