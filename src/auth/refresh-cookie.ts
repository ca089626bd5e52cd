import { Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { parse } from 'cookie';
import type { IncomingHttpHeaders } from 'node:http';
import { AuthSettings } from './options/auth-settings.js';

/** The name the refresh cookie has under the given `cookieSecure` setting. */
export function refreshCookieName(secure: boolean): string {
  return secure ? '__Secure-refresh_token' : 'refresh_token';
}

/**
 * The refresh token's cookie: HttpOnly, SameSite=Strict, Path=/auth, Secure and __Secure- when configured.
 * Read from the Cookie header and written through the HTTP adapter, so no cookie plugin is asked of the host.
 */
@Injectable()
export class RefreshCookie {
  readonly name: string;
  private readonly secure: boolean;

  constructor(
    settings: AuthSettings,
    private readonly adapterHost: HttpAdapterHost,
  ) {
    this.secure = settings.cookieSecure;
    this.name = refreshCookieName(this.secure);
  }

  read(request: { headers: IncomingHttpHeaders }): string | undefined {
    const header = request.headers.cookie;
    return header ? parse(header)[this.name] : undefined;
  }

  /** `maxAge` in seconds: never longer than the session has left. */
  set(response: unknown, token: string, maxAge: number): void {
    this.adapterHost.httpAdapter.setCookie(response, this.name, token, { ...this.attributes(), maxAge });
  }

  clear(response: unknown): void {
    this.adapterHost.httpAdapter.clearCookie(response, this.name, this.attributes());
  }

  private attributes() {
    return { httpOnly: true, sameSite: 'strict', path: '/auth', secure: this.secure } as const;
  }
}
