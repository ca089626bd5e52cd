import type { INestApplicationContext } from '@nestjs/common';
import type { DocumentBuilder } from '@nestjs/swagger';
import { BEARER_SECURITY, REFRESH_COOKIE_SECURITY } from './auth.constants.js';
import { AuthSettings } from './options/auth-settings.js';
import { refreshCookieName } from './refresh-cookie.js';

export { BEARER_SECURITY, REFRESH_COOKIE_SECURITY };

/**
 * Adds the schemes the package's routes refer to: `bearer` (the access token) and `refreshCookie`,
 * under the cookie's real name for this app's `cookieSecure` setting. Call before `build()`:
 * `addAuthSecuritySchemes(new DocumentBuilder().setTitle('…'), app).build()`. Pass `{ cookieSecure }`
 * instead of the app to describe an app that is not running (a document written at build time).
 */
export function addAuthSecuritySchemes(builder: DocumentBuilder, app: INestApplicationContext | { cookieSecure: boolean }): DocumentBuilder {
  const secure = 'cookieSecure' in app ? app.cookieSecure : app.get(AuthSettings, { strict: false }).cookieSecure;
  const cookie = refreshCookieName(secure);
  return builder
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'The access token' }, BEARER_SECURITY)
    .addCookieAuth(cookie, { type: 'apiKey', in: 'cookie', name: cookie, description: 'The refresh token (HttpOnly)' }, REFRESH_COOKIE_SECURITY);
}
