import {
  createHash,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  verify,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import type { JwtAlgorithm } from '../auth.options.js';
import { ConfigurationError } from '../options/configuration-error.js';

/** A public key as published at /.well-known/jwks.json. */
export interface PublicJwk extends JsonWebKey {
  kid: string;
  alg: JwtAlgorithm;
  use: 'sig';
}

interface PrivateJwk extends JsonWebKey {
  kid?: unknown;
  alg?: unknown;
  use?: unknown;
}

/**
 * The keys access tokens are signed and verified with, imported once at start-up as KeyObjects
 * (jsonwebtoken re-parses string keys on every call, 5–45× slower). The first key signs; all verify.
 */
export class SigningKeys {
  private readonly byKid: Map<string, KeyObject>;

  constructor(
    readonly algorithm: JwtAlgorithm,
    readonly signing: { kid: string; key: KeyObject },
    verifying: Map<string, KeyObject>,
    /** Public halves; empty for HS256. */
    readonly publicJwks: PublicJwk[],
  ) {
    this.byKid = verifying;
  }

  /** The verification key for a kid, or undefined when the kid is not one of ours. */
  verificationKey(kid: string): KeyObject | undefined {
    return this.byKid.get(kid);
  }
}

const KEY_PROBE = Buffer.from('signing-key self-test');

// RFC 7518 §3.2: an HS256 key shorter than the hash output weakens it.
const MIN_SECRET_BYTES = 32;

const KEY_TYPE: Record<AsymmetricJwtAlgorithm, { kty: string; crv?: string }> = {
  ES256: { kty: 'EC', crv: 'P-256' },
  RS256: { kty: 'RSA' },
};

/**
 * Imports the key set: for HS256 the secret, otherwise a private JWK Set (JSON text or object).
 * `label` names the setting in error messages (an option key or a variable).
 */
export function loadSigningKeys(algorithm: JwtAlgorithm, material: string | object, label: string): SigningKeys {
  if (algorithm === 'HS256') {
    const secret = String(material);
    if (Buffer.byteLength(secret, 'utf8') < MIN_SECRET_BYTES) throw new ConfigurationError([`${label} must be at least ${MIN_SECRET_BYTES} bytes`]);
    const key = createSecretKey(Buffer.from(secret, 'utf8'));
    // The kid names the secret without revealing it, so a token can say which secret signed it.
    const kid = `hs-${createHash('sha256').update(secret).digest('base64url').slice(0, 16)}`;
    return new SigningKeys('HS256', { kid, key }, new Map([[kid, key]]), []);
  }
  const jwks = parseJwkSet(material, label);
  const verifying = new Map<string, KeyObject>();
  const publicJwks: PublicJwk[] = [];
  let signing: { kid: string; key: KeyObject } | undefined;
  jwks.forEach((jwk, index) => {
    const where = `${label} key ${index}`;
    if (typeof jwk.kid !== 'string' || !/^[\w.-]{1,64}$/.test(jwk.kid)) throw new ConfigurationError([`${where}: needs a "kid" of 1-64 letters, digits, '.', '_' or '-'`]);
    if (verifying.has(jwk.kid)) throw new ConfigurationError([`${where}: duplicate kid "${jwk.kid}"`]);
    const expected = KEY_TYPE[algorithm];
    if (jwk.kty !== expected.kty || (expected.crv && jwk.crv !== expected.crv)) {
      throw new ConfigurationError([`${where}: ${algorithm} needs kty ${expected.kty}${expected.crv ? ` crv ${expected.crv}` : ''}`]);
    }
    // A key that says it is for something else is a misconfiguration, not something to guess around.
    if (jwk.alg !== undefined && jwk.alg !== algorithm) throw new ConfigurationError([`${where}: its alg "${String(jwk.alg)}" is not the algorithm ${algorithm}`]);
    if (jwk.use !== undefined && jwk.use !== 'sig') throw new ConfigurationError([`${where}: its use "${String(jwk.use)}" is not "sig"`]);
    if (typeof jwk.d !== 'string') throw new ConfigurationError([`${where}: is a public key; ${label} holds private keys (with "d")`]);
    let privateKey: KeyObject;
    try {
      privateKey = createPrivateKey({ key: jwk, format: 'jwk' });
    } catch {
      throw new ConfigurationError([`${where}: not a valid private JWK`]);
    }
    if (algorithm === 'RS256' && (privateKey.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
      throw new ConfigurationError([`${where}: RSA keys must be at least 2048 bits`]);
    }
    const publicKey = createPublicKey(privateKey);
    // Node imports an EC JWK whose d does not match its x/y: every token it signed would then fail.
    if (!verify('sha256', KEY_PROBE, publicKey, sign('sha256', KEY_PROBE, privateKey))) {
      throw new ConfigurationError([`${where}: its private and public parts do not belong together`]);
    }
    signing ??= { kid: jwk.kid, key: privateKey };
    verifying.set(jwk.kid, publicKey);
    publicJwks.push({ ...publicKey.export({ format: 'jwk' }), kid: jwk.kid, alg: algorithm, use: 'sig' });
  });
  return new SigningKeys(algorithm, signing!, verifying, publicJwks);
}

function parseJwkSet(material: string | object, label: string): PrivateJwk[] {
  let parsed: unknown = material;
  if (typeof material === 'string') {
    try {
      parsed = JSON.parse(material);
    } catch {
      throw new ConfigurationError([`${label} is not valid JSON (expected {"keys": [...]})`]);
    }
  }
  const keys = (parsed as { keys?: unknown })?.keys;
  if (!Array.isArray(keys) || keys.length === 0 || keys.some((key) => typeof key !== 'object' || key === null)) {
    throw new ConfigurationError([`${label} must be a JWK Set with at least one key: {"keys": [...]}`]);
  }
  return keys as PrivateJwk[];
}

/** The algorithms whose keys live in JWT_PRIVATE_KEYS. */
export type AsymmetricJwtAlgorithm = Exclude<JwtAlgorithm, 'HS256'>;

/** A new private JWK (P-256 for ES256, 2048-bit RSA for RS256) with a random kid, for `npm run keys:generate` and development. */
export function generatePrivateJwk(algorithm: AsymmetricJwtAlgorithm): JsonWebKey & { kid: string; alg: AsymmetricJwtAlgorithm; use: 'sig' } {
  const { privateKey } =
    algorithm === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomBytes(8).toString('hex'), alg: algorithm, use: 'sig' };
}
