import { createHmac, randomUUID } from 'node:crypto';
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

  it('reads back the family and generation of its own tokens', () => {
    for (const generation of [0, 1, 7, 2 ** 32 - 1]) {
      expect(codec.parse(codec.tokenFor(FAMILY, generation))).toEqual({ sessionId: FAMILY, generation });
    }
    const family = randomUUID();
    expect(codec.parse(codec.tokenFor(family, 3))).toEqual({ sessionId: family, generation: 3 });
  });

  it('derives a different token for every generation and every family', () => {
    const tokens = Array.from({ length: 50 }, (_, generation) => codec.tokenFor(FAMILY, generation));
    tokens.push(...Array.from({ length: 50 }, () => codec.tokenFor(randomUUID(), 0)));
    expect(new Set(tokens).size).toBe(100);
  });

  it('is family ‖ generation ‖ HMAC-SHA256(secret, family ‖ generation), so tokens already issued stay valid across releases', () => {
    const payload = Buffer.concat([Buffer.from(FAMILY.replaceAll('-', ''), 'hex'), Buffer.from([0, 0, 0, 4])]);
    const mac = createHmac('sha256', SECRET).update(payload).digest();
    expect(codec.tokenFor(FAMILY, 4)).toBe(Buffer.concat([payload, mac]).toString('base64url'));
  });

  it('makes 70-character base64url tokens with 256 bits of MAC', () => {
    const token = codec.tokenFor(FAMILY, 0);
    expect(token).toMatch(/^[A-Za-z0-9_-]{70}$/);
    expect(Buffer.from(token, 'base64url').subarray(20)).toHaveLength(32);
  });

  it("refuses another secret's tokens, and every token with a byte changed", () => {
    expect(codecWith(`${SECRET}-other`).parse(codec.tokenFor(FAMILY, 4))).toBeUndefined();
    const bytes = Buffer.from(codec.tokenFor(FAMILY, 4), 'base64url');
    for (let index = 0; index < bytes.length; index++) {
      const changed = Buffer.from(bytes);
      changed[index] ^= 0x01;
      expect(codec.parse(changed.toString('base64url'))).toBeUndefined();
    }
  });

  it('refuses anything that could not be one of its tokens', () => {
    const token = codec.tokenFor(FAMILY, 1);
    for (const malformed of ['', 'short', `${token}x`, token.slice(1), `${token.slice(0, -1)}=`, `${token.slice(0, -1)}+`, 'a'.repeat(70), ' '.repeat(70)]) {
      expect(codec.parse(malformed)).toBeUndefined();
    }
  });
});
