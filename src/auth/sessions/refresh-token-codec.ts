import { Injectable } from '@nestjs/common';
import { createHash, createHmac } from 'node:crypto';
import { AuthSettings } from '../options/auth-settings.js';

const WELL_FORMED = /^[A-Za-z0-9_-]{43}$/;

/**
 * Refresh tokens are HMAC-SHA256(server secret, family id and generation): 256 bits no one can compute
 * without the secret, yet the server can re-derive a family's current token, so a retried refresh gets
 * the very same string. The database keeps only SHA-256 of each token, so a dump alone yields nothing usable.
 */
@Injectable()
export class RefreshTokenCodec {
  private readonly secret: Buffer;

  constructor(settings: AuthSettings) {
    this.secret = Buffer.from(settings.refreshTokenSecret, 'utf8');
  }

  tokenFor(sessionId: string, generation: number): string {
    return createHmac('sha256', this.secret).update(`${sessionId}.${generation}`).digest('base64url');
  }

  hash(token: string): Buffer {
    return createHash('sha256').update(token).digest();
  }

  hashFor(sessionId: string, generation: number): Buffer {
    return this.hash(this.tokenFor(sessionId, generation));
  }

  /** Screens out anything that could not be one of our tokens before touching the database. */
  isWellFormed(token: string): boolean {
    return WELL_FORMED.test(token);
  }
}
