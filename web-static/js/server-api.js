// Requests to this server's HTTP API (same origin; nothing is fetched from elsewhere).

/** GET a JSON document; null when it is missing or the request failed. */
export async function getJSON(path) {
  try {
    const response = await fetch(path, { headers: { Accept: "application/json" } });
    return response.ok ? await response.json() : null;
  } catch {
    return null;
  }
}

/**
 * POSTs one transaction. Resolves to `{ status, body }` (the parsed JSON answer, or null), or to
 * `{ status: 0, body: null }` when the server could not be reached.
 */
export async function postTransaction(transaction, apiKey) {
  const headers = { "Content-Type": "application/json", Accept: "application/json" };
  if (apiKey) headers.Authorization = `Bearer ${apiKey}`;
  try {
    const response = await fetch("/api/transactions", { method: "POST", headers, body: JSON.stringify(transaction) });
    let body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    return { status: response.status, body };
  } catch {
    return { status: 0, body: null };
  }
}
