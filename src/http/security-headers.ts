/**
 * Swagger UI's page loads its own scripts and styles only; the page and the UI itself style inline,
 * and its icons are data: URIs.
 */
export const DOCS_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const DOCS = /^\/docs(?:[/?#]|$)/;

/** Swagger UI's pages, which get the Content-Security-Policy. */
export function isDocsUrl(url: string): boolean {
  return url.startsWith('/docs') && DOCS.test(url);
}
