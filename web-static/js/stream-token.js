// The stream token (for servers that require one on /ws): from the URL fragment `#token=…`, which
// never reaches the server's logs as part of the page URL, or typed into the token field.

/** The token in `location.hash` (`#token=…`), or "" when there is none. */
export function tokenFromFragment(hash = location.hash) {
  const parameters = new URLSearchParams(hash.startsWith("#") ? hash.slice(1) : hash);
  return parameters.get("token") || "";
}
