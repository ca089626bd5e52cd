import { generateKeyPairSync, KeyObject, sign, verify, type JsonWebKey } from 'node:crypto';
import type { JwtAlgorithm } from '../auth.options.js';
import { ConfigurationError } from '../options/configuration-error.js';
import { generatePrivateJwk, loadSigningKeys } from './signing-keys.js';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];

function jwkSet(...keys: object[]): string {
  return JSON.stringify({ keys });
}

function ecJwk(kid: string, namedCurve = 'P-256'): JsonWebKey & { kid: string } {
  return { ...generateKeyPairSync('ec', { namedCurve }).privateKey.export({ format: 'jwk' }), kid };
}

/** What loadSigningKeys refuses, as the message of the ConfigurationError it throws; the setting is labelled by its variable. */
function refusal(algorithm: JwtAlgorithm, material: string | object, label = algorithm === 'HS256' ? 'JWT_SECRET' : 'JWT_PRIVATE_KEYS'): string {
  try {
    loadSigningKeys(algorithm, material, label);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigurationError');
}

describe('loadSigningKeys', () => {
  describe('ES256 from a private JWK Set', () => {
    const first = ecJwk('first');
    const second = ecJwk('second');
    const keys = loadSigningKeys('ES256', jwkSet(first, second), 'JWT_PRIVATE_KEYS');

    it('signs with the first key and verifies with every key, each chosen by its kid', () => {
      expect(keys.algorithm).toBe('ES256');
      expect(keys.signing.kid).toBe('first');
      expect(keys.signing.key.type).toBe('private');
      const message = Buffer.from('message');
      const signature = sign('sha256', message, keys.signing.key);
      expect(verify('sha256', message, keys.verificationKey('first')!, signature)).toBe(true);
      expect(verify('sha256', message, keys.verificationKey('second')!, signature)).toBe(false);
      expect(keys.verificationKey('second')!.export({ format: 'jwk' })).toMatchObject({ x: second.x, y: second.y });
    });

    it('imports each key once: the same public KeyObject comes back every time', () => {
      const key = keys.verificationKey('first');
      expect(key).toBeInstanceOf(KeyObject);
      expect(key!.type).toBe('public');
      expect(keys.verificationKey('first')).toBe(key);
    });

    it('knows no other kid, including inherited property names', () => {
      for (const kid of ['third', 'FIRST', 'first ', '../first', '__proto__', 'constructor', 'toString', '']) {
        expect(keys.verificationKey(kid)).toBeUndefined();
      }
    });

    it('publishes the public halves only, in order, with kid, alg and use', () => {
      expect(keys.publicJwks).toEqual([
        { kty: 'EC', crv: 'P-256', x: first.x, y: first.y, kid: 'first', alg: 'ES256', use: 'sig' },
        { kty: 'EC', crv: 'P-256', x: second.x, y: second.y, kid: 'second', alg: 'ES256', use: 'sig' },
      ]);
    });
  });

  it('loads RS256 keys and publishes n and e only', () => {
    const jwk = generatePrivateJwk('RS256');
    const keys = loadSigningKeys('RS256', jwkSet(jwk), 'JWT_PRIVATE_KEYS');
    expect(keys.signing.kid).toBe(jwk.kid);
    expect(keys.verificationKey(jwk.kid)!.asymmetricKeyType).toBe('rsa');
    expect(keys.publicJwks).toEqual([{ kty: 'RSA', n: jwk.n, e: jwk.e, kid: jwk.kid, alg: 'RS256', use: 'sig' }]);
  });

  it('takes the JWK Set as an object as well as JSON text (jwtPrivateKeys may be either)', () => {
    const jwk = ecJwk('object');
    const fromObject = loadSigningKeys('ES256', { keys: [jwk] }, 'jwtPrivateKeys');
    const fromText = loadSigningKeys('ES256', jwkSet(jwk), 'jwtPrivateKeys');
    expect(fromObject.signing.kid).toBe('object');
    expect(fromObject.publicJwks).toEqual(fromText.publicJwks);
  });

  describe('HS256', () => {
    const secret = 'a'.repeat(16) + 'b'.repeat(16);

    it('uses JWT_SECRET as a secret KeyObject, publishes nothing and names it by a kid that hides it', () => {
      const keys = loadSigningKeys('HS256', secret, 'JWT_SECRET');
      expect(keys.signing.key.type).toBe('secret');
      expect(keys.signing.key.export().toString('utf8')).toBe(secret);
      expect(keys.verificationKey(keys.signing.kid)).toBe(keys.signing.key);
      expect(keys.publicJwks).toEqual([]);
      expect(keys.signing.kid).toMatch(/^hs-[\w-]{16}$/);
      expect(keys.signing.kid).not.toContain(secret.slice(0, 8));
    });

    it('gives the same secret the same kid and another secret another kid', () => {
      const load = (key: string) => loadSigningKeys('HS256', key, 'JWT_SECRET').signing.kid;
      expect(load(secret)).toBe(load(secret));
      expect(load(secret.replace('a', 'c'))).not.toBe(load(secret));
    });

    it('refuses a secret shorter than 32 bytes', () => {
      expect(refusal('HS256', 'x'.repeat(31))).toMatch(/JWT_SECRET must be at least 32 bytes/);
    });

    it('counts bytes, not characters', () => {
      // 16 two-byte characters: 32 bytes.
      expect(loadSigningKeys('HS256', 'é'.repeat(16), 'JWT_SECRET').signing.key.type).toBe('secret');
      expect(refusal('HS256', 'é'.repeat(15) + 'x')).toMatch(/at least 32 bytes/);
    });
  });

  describe('refuses a bad JWT_PRIVATE_KEYS at start-up, naming the problem', () => {
    it.each([
      ['not JSON', 'not json', /not valid JSON/],
      ['a bare key instead of a set', JSON.stringify(ecJwk('k')), /must be a JWK Set/],
      ['an empty set', jwkSet(), /must be a JWK Set with at least one key/],
      ['a set holding a string', jwkSet('key' as unknown as object), /must be a JWK Set/],
    ])('%s', (_name, privateKeys, message) => {
      expect(refusal('ES256', privateKeys)).toMatch(message);
    });

    it('a key without a kid, or with a kid of other characters', () => {
      const { kid: _kid, ...noKid } = ecJwk('k');
      expect(refusal('ES256', jwkSet(noKid))).toMatch(/key 0: needs a "kid"/);
      expect(refusal('ES256', jwkSet(ecJwk('../etc/passwd')))).toMatch(/key 0: needs a "kid"/);
      expect(refusal('ES256', jwkSet(ecJwk("k' OR '1'='1")))).toMatch(/needs a "kid"/);
      expect(refusal('ES256', jwkSet(ecJwk('k'.repeat(65))))).toMatch(/needs a "kid"/);
    });

    it('two keys with one kid', () => {
      expect(refusal('ES256', jwkSet(ecJwk('same'), ecJwk('same')))).toMatch(/key 1: duplicate kid "same"/);
    });

    it('a key of another type or curve than the algorithm', () => {
      expect(refusal('ES256', jwkSet(generatePrivateJwk('RS256')))).toMatch(/ES256 needs kty EC crv P-256/);
      expect(refusal('ES256', jwkSet(ecJwk('k', 'P-384')))).toMatch(/ES256 needs kty EC crv P-256/);
      expect(refusal('RS256', jwkSet(generatePrivateJwk('ES256')))).toMatch(/RS256 needs kty RSA/);
      expect(refusal('RS256', jwkSet({ kty: 'oct', k: 'c2VjcmV0', kid: 'k' }))).toMatch(/RS256 needs kty RSA/);
    });

    it('a key that declares another alg or use', () => {
      expect(refusal('ES256', jwkSet({ ...ecJwk('k'), alg: 'ES384' }))).toMatch(/alg "ES384" is not the algorithm ES256/);
      expect(refusal('RS256', jwkSet({ ...generatePrivateJwk('RS256'), alg: 'PS256' }))).toMatch(/alg "PS256"/);
      expect(refusal('ES256', jwkSet({ ...ecJwk('k'), use: 'enc' }))).toMatch(/use "enc" is not "sig"/);
    });

    it('a public key where a private one belongs', () => {
      const { d: _d, ...publicOnly } = ecJwk('k');
      expect(refusal('ES256', jwkSet(publicOnly))).toMatch(/key 0: is a public key/);
    });

    it('a private key whose parts do not belong together', () => {
      const mixed = { ...ecJwk('k'), d: ecJwk('other').d };
      expect(refusal('ES256', jwkSet(mixed))).toMatch(/private and public parts do not belong together/);
    });

    it('a malformed key, without echoing its material', () => {
      const broken = { ...ecJwk('k'), x: 'AAAA' };
      const message = refusal('ES256', jwkSet(broken));
      expect(message).toMatch(/key 0: not a valid private JWK/);
      expect(message).not.toContain(broken.d);
    });

    it('an RSA key under 2048 bits', () => {
      const small = { ...generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'jwk' }), kid: 'small' };
      expect(refusal('RS256', jwkSet(small))).toMatch(/at least 2048 bits/);
    });

    it('names the setting by the label it is given (an option key or a variable)', () => {
      expect(refusal('ES256', 'not json', 'jwtPrivateKeys')).toMatch(/^Invalid configuration:\n {2}- jwtPrivateKeys is not valid JSON/);
      expect(refusal('ES256', { keys: [] }, 'jwtPrivateKeys')).toMatch(/jwtPrivateKeys must be a JWK Set/);
      expect(refusal('ES256', { keys: [{ ...ecJwk('k'), use: 'enc' }] }, 'jwtPrivateKeys')).toMatch(/jwtPrivateKeys key 0: its use "enc"/);
      expect(refusal('HS256', 'short', 'jwtSecret')).toMatch(/jwtSecret must be at least 32 bytes/);
      expect(refusal('HS256', 'short', 'jwtSecret')).not.toMatch(/JWT_SECRET/);
    });

    it('names the position of the bad key in the set', () => {
      expect(refusal('ES256', jwkSet(ecJwk('good'), { ...ecJwk('bad'), use: 'enc' }))).toMatch(/key 1:/);
    });
  });
});

describe('generatePrivateJwk', () => {
  it.each(['ES256', 'RS256'] as const)('%s: a private JWK with a fresh kid, alg and use that loads back', (algorithm) => {
    const jwk = generatePrivateJwk(algorithm);
    expect(jwk).toMatchObject({ alg: algorithm, use: 'sig', kty: algorithm === 'ES256' ? 'EC' : 'RSA' });
    expect(typeof jwk.d).toBe('string');
    expect(jwk.kid).toMatch(/^[0-9a-f]{16}$/);
    expect(generatePrivateJwk(algorithm).kid).not.toBe(jwk.kid);
    const keys = loadSigningKeys(algorithm, jwkSet(jwk), 'JWT_PRIVATE_KEYS');
    expect(keys.signing.kid).toBe(jwk.kid);
    for (const member of PRIVATE_MEMBERS) expect(keys.publicJwks[0]).not.toHaveProperty(member);
  });

  it('RS256 keys are 2048 bits', () => {
    const jwk = generatePrivateJwk('RS256');
    expect(Buffer.from(jwk.n!, 'base64url').length * 8).toBe(2048);
  });
});
