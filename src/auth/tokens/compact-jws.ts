import { createHmac, type KeyObject, sign } from 'node:crypto';
import type { JwtAlgorithm } from '../auth.options.js';

/**
 * Signs JWS compact serialisations (RFC 7515 §7.1) with one node:crypto call per token. The header
 * is serialised once. jsonwebtoken's signer builds a Sign stream for every token and converts ECDSA
 * signatures from DER afterwards: on the refresh route that was about a tenth of the CPU of a
 * rotation. Verification stays with jsonwebtoken (through passport-jwt).
 */
export class CompactJwsSigner {
  private readonly encodedHeader: string;

  constructor(
    private readonly algorithm: JwtAlgorithm,
    private readonly key: KeyObject,
    header: Record<string, unknown>,
  ) {
    this.encodedHeader = base64url(JSON.stringify({ ...header, alg: algorithm }));
  }

  sign(payload: object): string {
    const signingInput = `${this.encodedHeader}.${base64url(JSON.stringify(payload))}`;
    return `${signingInput}.${this.signatureOf(signingInput).toString('base64url')}`;
  }

  private signatureOf(signingInput: string): Buffer {
    switch (this.algorithm) {
      case 'HS256':
        return createHmac('sha256', this.key).update(signingInput).digest();
      case 'RS256':
        return sign('sha256', Buffer.from(signingInput), this.key);
      case 'ES256':
        // RFC 7518 §3.4: R ‖ S, 32 bytes each, not DER.
        return sign('sha256', Buffer.from(signingInput), { key: this.key, dsaEncoding: 'ieee-p1363' });
    }
  }
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}
