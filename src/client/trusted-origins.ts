/** The page's own URL, when there is one, so a relative base URL means "this origin". */
export function pageUrl(): string | undefined {
  return (globalThis as { location?: { href?: string } }).location?.href;
}

function originOf(url: string): string {
  const origin = new URL(url, pageUrl()).origin;
  if (origin === 'null') throw new TypeError(`${url} has no origin that could be trusted`);
  return origin;
}

/**
 * A test for "may this URL get the Bearer token": its parsed origin (scheme, host, port) equals the
 * API's or one of `trusted`. Parsed, never compared as strings, so `https://api.example.com.evil.test`
 * and `https://api.example.com@evil.test` are strangers.
 */
export function trustedOriginTest(baseUrl: string, trusted: readonly string[] = []): (url: string) => boolean {
  const origins = new Set([baseUrl, ...trusted].map(originOf));
  return (url) => {
    try {
      return origins.has(new URL(url).origin);
    } catch {
      return false;
    }
  };
}
