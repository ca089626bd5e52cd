import { Injectable } from '@nestjs/common';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { AuthSettings } from '../options/auth-settings.js';

const ID_BYTES = 16;
const GENERATION_BYTES = 4;
const MAC_BYTES = 32;
const PAYLOAD_BYTES = ID_BYTES + GENERATION_BYTES;
// base64url of 16 + 4 + 32 bytes.
const WELL_FORMED = /^[A-Za-z0-9_-]{70}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What a refresh token names: its family (the session) and its generation in that family. */
export interface RefreshTokenClaims {
  sessionId: string;
  generation: number;
}

/**
 * A refresh token is `family id ‖ generation ‖ HMAC-SHA256(server secret, family id ‖ generation)`,
 * base64url: 256 bits of MAC no one can compute without the secret, and nothing stored per token —
 * the database keeps only the family's current generation, so a dump yields no usable token, and the
 * server re-derives the family's current token to answer retries with the very same string.
 */
@Injectable()
export class RefreshTokenCodec {
  private readonly secret: Buffer;

  constructor(settings: AuthSettings) {
    this.secret = Buffer.from(settings.refreshTokenSecret, 'utf8');
  }

  tokenFor(sessionId: string, generation: number): string {
    const payload = Buffer.alloc(PAYLOAD_BYTES);
    Buffer.from(sessionId.replaceAll('-', ''), 'hex').copy(payload, 0);
    payload.writeUInt32BE(generation, ID_BYTES);
    return Buffer.concat([payload, this.mac(payload)]).toString('base64url');
  }

  /** The family and generation of a token this server minted; undefined for anything else. */
  parse(token: string): RefreshTokenClaims | undefined {
    if (!WELL_FORMED.test(token)) return undefined;
    const bytes = Buffer.from(token, 'base64url');
    // One spelling per token: the last character's unused low bits must be zero.
    if (bytes.toString('base64url') !== token) return undefined;
    const payload = bytes.subarray(0, PAYLOAD_BYTES);
    // Constant time, so a forger learns nothing from how long a refusal takes.
    if (!timingSafeEqual(bytes.subarray(PAYLOAD_BYTES), this.mac(payload))) return undefined;
    const hex = payload.subarray(0, ID_BYTES).toString('hex');
    const sessionId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    return UUID.test(sessionId) ? { sessionId, generation: payload.readUInt32BE(ID_BYTES) } : undefined;
  }

  private mac(payload: Buffer): Buffer {
    return createHmac('sha256', this.secret).update(payload).digest().subarray(0, MAC_BYTES);
  }
}
