import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type {} from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Configuration } from '../config/configuration.js';

/** The refresh token's cookie: HttpOnly, SameSite=Strict, Path=/auth, Secure and __Secure- when configured. */
@Injectable()
export class RefreshCookie {
  readonly name: string;
  private readonly secure: boolean;

  constructor(config: ConfigService<Configuration, true>) {
    this.secure = config.get('http', { infer: true }).cookieSecure;
    this.name = this.secure ? '__Secure-refresh_token' : 'refresh_token';
  }

  read(request: FastifyRequest): string | undefined {
    return request.cookies?.[this.name];
  }

  /** `maxAge` in seconds: never longer than the session has left. */
  set(reply: FastifyReply, token: string, maxAge: number): void {
    void reply.setCookie(this.name, token, { ...this.attributes(), maxAge });
  }

  clear(reply: FastifyReply): void {
    void reply.clearCookie(this.name, this.attributes());
  }

  private attributes() {
    return { httpOnly: true, sameSite: 'strict', path: '/auth', secure: this.secure } as const;
  }
}
