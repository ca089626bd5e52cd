import jsonwebtoken from 'jsonwebtoken';
import { createPublicKey, createSecretKey, generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import type { JwtAlgorithm } from '../auth.options.js';
import { CompactJwsSigner } from './compact-jws.js';

const keysFor: Record<JwtAlgorithm, () => { signing: KeyObject; verifying: KeyObject }> = {
  HS256: () => {
    const secret = createSecretKey(randomBytes(32));
    return { signing: secret, verifying: secret };
  },
  RS256: () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    return { signing: privateKey, verifying: publicKey };
  },
  ES256: () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    return { signing: privateKey, verifying: createPublicKey(privateKey) };
  },
};

const decoded = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

describe.each(Object.keys(keysFor) as JwtAlgorithm[])('CompactJwsSigner with %s', (algorithm) => {
  const { signing, verifying } = keysFor[algorithm]();
  const signer = new CompactJwsSigner(algorithm, signing, { typ: 'at+jwt', kid: 'key-1' });
  const payload = { sub: 'user-1', roles: ['user'], name: 'Zoë 🚀', iat: 1_800_000_000, exp: 1_800_000_900 };

  it('writes a token jsonwebtoken verifies with the public key, header and payload as given', () => {
    const token = signer.sign(payload);
    const [header, body, signature] = token.split('.');
    expect(decoded(header)).toEqual({ typ: 'at+jwt', kid: 'key-1', alg: algorithm });
    expect(decoded(body)).toEqual(payload);
    expect(signature).toMatch(/^[A-Za-z0-9_-]+$/);
    const verified = jsonwebtoken.verify(token, verifying, { algorithms: [algorithm], clockTimestamp: 1_800_000_100, complete: true });
    expect(verified.header).toEqual({ typ: 'at+jwt', kid: 'key-1', alg: algorithm });
    expect(verified.payload).toEqual(payload);
  });

  it('signs what it was given: a changed payload or header no longer verifies', () => {
    const [header, , signature] = signer.sign(payload).split('.');
    const forgedBody = Buffer.from(JSON.stringify({ ...payload, roles: ['admin'] })).toString('base64url');
    expect(() => jsonwebtoken.verify(`${header}.${forgedBody}.${signature}`, verifying, { algorithms: [algorithm], clockTimestamp: 1_800_000_100 })).toThrow(
      'invalid signature',
    );
  });

  it('takes the algorithm from the signer, never from the header it is given', () => {
    const lying = new CompactJwsSigner(algorithm, signing, { alg: 'none', kid: 'key-1' });
    expect(decoded(lying.sign(payload).split('.')[0]).alg).toBe(algorithm);
  });
});

it('writes ES256 signatures as R ‖ S (64 bytes, RFC 7518 §3.4), not DER', () => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const token = new CompactJwsSigner('ES256', privateKey, {}).sign({ sub: 'x' });
  expect(Buffer.from(token.split('.')[2], 'base64url')).toHaveLength(64);
});
