import { createHash, createHmac, randomUUID } from 'node:crypto';
import { resolveAuthSettings } from '../options/auth-settings.js';
import { RefreshTokenCodec } from './refresh-token-codec.js';

/** A codec bound to `secret`, over settings resolved the way the module resolves them (HS256: no key pair to make). */
function codecWith(secret: string): RefreshTokenCodec {
  return new RefreshTokenCodec(resolveAuthSettings({ refreshTokenSecret: secret, jwtAlgorithm: 'HS256', jwtSecret: 'j'.repeat(32) }));
}

const SECRET = 'a-refresh-token-secret-of-at-least-32-bytes';
const FAMILY = '8d0f2c4e-3b1a-4c55-9e1f-0a2b3c4d5e6f';

describe('RefreshTokenCodec', () => {
  const codec = codecWith(SECRET);

  it('derives the same token for the same family and generation, every time and in every instance', () => {
    const token = codec.tokenFor(FAMILY, 4);
    expect(codec.tokenFor(FAMILY, 4)).toBe(token);
    expect(codecWith(SECRET).tokenFor(FAMILY, 4)).toBe(token);
  });

  it('derives a different token for every generation of a family', () => {
    const tokens = Array.from({ length: 50 }, (_, generation) => codec.tokenFor(FAMILY, generation));
    expect(new Set(tokens).size).toBe(50);
  });

  it('derives different tokens for different families of the same generation', () => {
    const tokens = Array.from({ length: 50 }, () => codec.tokenFor(randomUUID(), 0));
    expect(new Set(tokens).size).toBe(50);
  });

  it('does not confuse a family id and generation that concatenate alike', () => {
    expect(codec.tokenFor('abc1', 23)).not.toBe(codec.tokenFor('abc', 123));
  });

  it('is HMAC-SHA256 of "family.generation" under the secret, so tokens already issued stay valid across releases', () => {
    expect(codec.tokenFor(FAMILY, 3)).toBe(createHmac('sha256', Buffer.from(SECRET, 'utf8')).update(`${FAMILY}.3`).digest('base64url'));
  });

  it('derives a different token under a different secret', () => {
    expect(codecWith(`${SECRET}-rotated`).tokenFor(FAMILY, 0)).not.toBe(codec.tokenFor(FAMILY, 0));
  });

  it('makes 43-character base64url tokens (256 bits) that it accepts as well formed', () => {
    for (let generation = 0; generation < 20; generation++) {
      const token = codec.tokenFor(randomUUID(), generation);
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(token, 'base64url')).toHaveLength(32);
      expect(codec.isWellFormed(token)).toBe(true);
    }
  });

  it('refuses anything that could not be one of its tokens', () => {
    const token = codec.tokenFor(FAMILY, 0);
    for (const malformed of ['', token.slice(1), `${token}A`, `${token.slice(1)}=`, `${token.slice(1)}+`, `${token.slice(1)}/`, ` ${token.slice(1)}`, 'eyJhbGciOiJIUzI1NiJ9.e30.sig']) {
      expect(codec.isWellFormed(malformed)).toBe(false);
    }
  });

  it('stores SHA-256 of the token, never the token itself', () => {
    const token = codec.tokenFor(FAMILY, 7);
    const hash = codec.hash(token);
    expect(hash).toEqual(createHash('sha256').update(token).digest());
    expect(hash).toHaveLength(32);
    expect(hash.equals(Buffer.from(token, 'utf8'))).toBe(false);
    expect(hash.equals(Buffer.from(token, 'base64url'))).toBe(false);
    expect(hash.toString('base64url')).not.toBe(token);
  });

  it('hashes the token of a family and generation the same way as the token itself', () => {
    expect(codec.hashFor(FAMILY, 7)).toEqual(codec.hash(codec.tokenFor(FAMILY, 7)));
    expect(codec.hashFor(FAMILY, 7)).not.toEqual(codec.hashFor(FAMILY, 8));
  });
});
