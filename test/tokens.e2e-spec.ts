import {
  createHmac,
  generateKeyPairSync,
  randomBytes,
  randomUUID,
  sign,
  type KeyObject,
} from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestApp, type TestApp } from './support/test-app.js';
import { registerAndLogin } from './support/users.js';

// The attacker's toolkit: plain node:crypto, signing whatever header and payload it likes.
type Json = Record<string, unknown>;
type Signer = (input: string) => string;

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const decodeSegment = (segment: string): Json => JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
const now = () => Math.floor(Date.now() / 1000);

const es256 = (key: KeyObject, dsaEncoding: 'ieee-p1363' | 'der' = 'ieee-p1363'): Signer => (input) =>
  sign('sha256', Buffer.from(input), { key, dsaEncoding }).toString('base64url');
const rs256 = (key: KeyObject): Signer => (input) => sign('sha256', Buffer.from(input), key).toString('base64url');
const hmac = (bits: 256 | 384 | 512, secret: string | Buffer): Signer => (input) =>
  createHmac(`sha${bits}`, secret).update(input).digest('base64url');
const unsigned: Signer = () => '';

/** The claims our service signs for this user's session; a forgery changes one of them. */
function validClaims(user: { userId: string; sessionId: string }, roles: string[], overrides: Json): Json {
  return {
    iss: 'auth-service',
    aud: 'api',
    sub: user.userId,
    sid: user.sessionId,
    jti: randomUUID(),
    iat: now(),
    exp: now() + 600,
    roles,
    ...overrides,
  };
}

function jws(header: Json, payload: unknown, signer: Signer): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${signer(input)}`;
}

/** Replaces one segment of a token, keeping the others byte for byte. */
function withSegment(token: string, index: 0 | 1 | 2, segment: string): string {
  const parts = token.split('.');
  parts[index] = segment;
  return parts.join('.');
}

async function expectRefused(app: TestApp, token: string, code = 'token_invalid'): Promise<void> {
  const response = await app.request('GET', '/auth/claims', { token });
  expect({ status: response.status, code: response.body?.code }).toEqual({ status: 401, code });
  expect(response.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
  expect(JSON.stringify(response.body)).not.toContain(token.split('.')[0]);
}

async function expectAccepted(app: TestApp, token: string, sub: string): Promise<void> {
  const response = await app.request('GET', '/auth/claims', { token });
  expect({ status: response.status, sub: response.body?.sub }).toEqual({ status: 200, sub });
}

/** A server standing in for an attacker's key URL: it records every request the service makes to it. */
async function startKeyServer(jwks: unknown): Promise<{ url: string; hits: string[]; close: () => Promise<void> }> {
  const hits: string[] = [];
  const server: Server = createServer((request, response) => {
    hits.push(request.url ?? '');
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify(jwks));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, hits, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('access tokens (ES256): only what we signed, exactly as we sign it, is accepted', () => {
  const KID = `e2e-${randomBytes(4).toString('hex')}`;
  const serviceKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const attackerJwk = { ...attacker.publicKey.export({ format: 'jwk' }), kid: 'attacker', alg: 'ES256', use: 'sig' };
  const attackerRsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const servicePublicPem = serviceKey.publicKey.export({ format: 'pem', type: 'spki' }) as string;
  const servicePublicDer = serviceKey.publicKey.export({ format: 'der', type: 'spki' });

  let app: TestApp;
  let keyServer: Awaited<ReturnType<typeof startKeyServer>>;
  let user: Awaited<ReturnType<typeof registerAndLogin>>;
  let roles: string[];

  const header = (overrides: Json = {}): Json => ({ alg: 'ES256', typ: 'at+jwt', kid: KID, ...overrides });
  const claims = (overrides: Json = {}): Json => validClaims(user, roles, overrides);
  const without = (name: string): Json => {
    const { [name]: _removed, ...rest } = claims();
    return rest;
  };
  /** Signed with the service's own key: refused only for what the header or claims say. */
  const ours = (headerOverrides: Json = {}, payload: unknown = claims()) => jws(header(headerOverrides), payload, es256(serviceKey.privateKey));

  beforeAll(async () => {
    keyServer = await startKeyServer({ keys: [attackerJwk] });
    app = await startTestApp({
      JWT_PRIVATE_KEYS: JSON.stringify({ keys: [{ ...serviceKey.privateKey.export({ format: 'jwk' }), kid: KID }] }),
      JWT_CLOCK_SKEW: '30s',
    });
    user = await registerAndLogin(app, 'tokens');
    roles = decodeSegment(user.accessToken.split('.')[1]).roles as string[];
  });
  afterAll(async () => {
    await app?.close();
    await keyServer?.close();
  });

  describe('what passes', () => {
    it('the token the service issued: header alg ES256, typ at+jwt, our kid', async () => {
      expect(decodeSegment(user.accessToken.split('.')[0])).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: KID });
      await expectAccepted(app, user.accessToken, user.userId);
    });

    it('a token the test signs exactly as the service does, with the same key (the control for every refusal below)', async () => {
      await expectAccepted(app, ours(), user.userId);
      const me = await app.request('GET', '/users/me', { token: ours() });
      expect(me.status).toBe(200);
      expect(me.body.id).toBe(user.userId);
    });

    it('typ in its full media-type form, application/at+jwt (RFC 9068)', async () => {
      await expectAccepted(app, ours({ typ: 'application/at+jwt' }), user.userId);
    });

    it('an exp up to the clock skew (30 s here) in the past, and an iat up to it in the future', async () => {
      await expectAccepted(app, ours({}, claims({ exp: now() - 10 })), user.userId);
      await expectAccepted(app, ours({}, claims({ iat: now() + 10 })), user.userId);
    });
  });

  describe('forged or altered tokens: 401 token_invalid', () => {
    const cases: [string, () => string][] = [
      // The algorithm is ours to choose, never the token's.
      ...['none', 'None', 'NONE', 'nOnE'].map((alg): [string, () => string] => [`alg "${alg}", unsigned`, () => jws(header({ alg }), claims(), unsigned)]),
      ['alg "none" with our real signature kept', () => withSegment(ours(), 0, b64(header({ alg: 'none' })))],
      ['alg "none" without a kid', () => jws({ alg: 'none', typ: 'at+jwt' }, claims(), unsigned)],
      ['HS256 signed with our public key (PEM)', () => jws(header({ alg: 'HS256' }), claims(), hmac(256, servicePublicPem))],
      ['HS256 signed with our public key (PEM, no trailing newline)', () => jws(header({ alg: 'HS256' }), claims(), hmac(256, servicePublicPem.trim()))],
      ['HS256 signed with our public key (DER)', () => jws(header({ alg: 'HS256' }), claims(), hmac(256, servicePublicDer))],
      ['HS256 signed with our published JWK', () => jws(header({ alg: 'HS256' }), claims(), hmac(256, JSON.stringify(serviceKey.publicKey.export({ format: 'jwk' }))))],
      ['HS384 signed with our public key', () => jws(header({ alg: 'HS384' }), claims(), hmac(384, servicePublicPem))],
      ['HS512 signed with our public key', () => jws(header({ alg: 'HS512' }), claims(), hmac(512, servicePublicPem))],
      ['RS256 signed by the attacker under our kid', () => jws(header({ alg: 'RS256' }), claims(), rs256(attackerRsa.privateKey))],
      ['alg "es256" (case matters) with our valid signature', () => ours({ alg: 'es256' })],
      ['ES256 signed by the attacker under our kid', () => jws(header(), claims(), es256(attacker.privateKey))],
      ['our ES256 signature in DER instead of JWS encoding', () => jws(header(), claims(), es256(serviceKey.privateKey, 'der'))],
      // The type: a JWT of another kind (an ID token, some other service's token) is not an access token.
      ['typ "JWT"', () => ours({ typ: 'JWT' })],
      ['typ missing', () => jws({ alg: 'ES256', kid: KID }, claims(), es256(serviceKey.privateKey))],
      ['typ "application/jwt"', () => ours({ typ: 'application/jwt' })],
      // Issuer and audience.
      ['another issuer', () => ours({}, claims({ iss: 'https://attacker.example' }))],
      ['no issuer', () => ours({}, without('iss'))],
      ['another audience', () => ours({}, claims({ aud: 'other-api' }))],
      ['an audience list without ours', () => ours({}, claims({ aud: ['other-api', 'api2'] }))],
      ['no audience', () => ours({}, without('aud'))],
      // Claims we rely on, with their types.
      ['no exp', () => ours({}, without('exp'))],
      ['exp as a string', () => ours({}, claims({ exp: String(now() + 600) }))],
      ['no sid', () => ours({}, without('sid'))],
      ['sid as a number', () => ours({}, claims({ sid: 12345 }))],
      ['no sub', () => ours({}, without('sub'))],
      ['sub as a number', () => ours({}, claims({ sub: 1 }))],
      ['no jti', () => ours({}, without('jti'))],
      ['no iat', () => ours({}, without('iat'))],
      ['iat as a string', () => ours({}, claims({ iat: String(now()) }))],
      ['iat beyond the clock skew in the future', () => ours({}, claims({ iat: now() + 3600 }))],
      ['nbf beyond the clock skew in the future', () => ours({}, claims({ nbf: now() + 3600 }))],
      ['nbf as a string', () => ours({}, claims({ nbf: String(now()) }))],
      ['roles as a string', () => ours({}, claims({ roles: 'admin' }))],
      ['a payload that is not a JSON object', () => ours({}, 'just a string')],
      // Keys: only ours, chosen by a kid we know, never by the token.
      ['an unknown kid, signed with our key', () => ours({ kid: 'not-ours' })],
      ['no kid, signed with our key', () => jws({ alg: 'ES256', typ: 'at+jwt' }, claims(), es256(serviceKey.privateKey))],
      ['kid as a number', () => ours({ kid: 1 })],
      ['a jwk header carrying the attacker key, no kid', () => jws({ alg: 'ES256', typ: 'at+jwt', jwk: attackerJwk }, claims(), es256(attacker.privateKey))],
      ['a jwk header carrying the attacker key, with its kid', () => jws(header({ kid: 'attacker', jwk: attackerJwk }), claims(), es256(attacker.privateKey))],
      ['a jwk header carrying the attacker key, under our kid', () => jws(header({ jwk: attackerJwk }), claims(), es256(attacker.privateKey))],
      ['a jku header pointing at the attacker key set', () => jws(header({ kid: 'attacker', jku: `${keyServer.url}/jwks.json` }), claims(), es256(attacker.privateKey))],
      ['an x5u header pointing at the attacker', () => jws(header({ kid: 'attacker', x5u: `${keyServer.url}/cert.pem` }), claims(), es256(attacker.privateKey))],
      ['an x5c header carrying the attacker key', () => jws(header({ kid: 'attacker', x5c: [attacker.publicKey.export({ format: 'der', type: 'spki' }).toString('base64')] }), claims(), es256(attacker.privateKey))],
      ['a jku header on a token signed with our key', () => ours({ jku: `${keyServer.url}/jwks.json` })],
      ['a crit header', () => ours({ crit: ['exp'] })],
      ['kid with path traversal to /dev/null, HMAC with an empty key', () => jws(header({ alg: 'HS256', kid: '../../../../../../../dev/null' }), claims(), hmac(256, ''))],
      ['kid with path traversal, signed by the attacker', () => jws(header({ kid: '../../../../etc/passwd' }), claims(), es256(attacker.privateKey))],
      ['kid with a traversal that leads back to ours', () => ours({ kid: `x/../${KID}` })],
      ['kid "./" + ours', () => ours({ kid: `./${KID}` })],
      ['kid with SQL, HMAC with the injected value', () => jws(header({ alg: 'HS256', kid: "x' UNION SELECT 'secret' -- " }), claims(), hmac(256, 'secret'))],
      ['kid with SQL around ours', () => ours({ kid: `${KID}' OR '1'='1` })],
      ['kid with a NUL after ours', () => ours({ kid: `${KID}\u0000` })],
      ['kid "__proto__"', () => ours({ kid: '__proto__' })],
      // The token as issued, altered.
      ['payload edited (roles), signature kept', () => withSegment(user.accessToken, 1, b64({ ...decodeSegment(user.accessToken.split('.')[1]), roles: ['admin'] }))],
      ['payload edited (sub), signature kept', () => withSegment(user.accessToken, 1, b64({ ...decodeSegment(user.accessToken.split('.')[1]), sub: randomUUID() }))],
      ['payload edited (exp a year on), signature kept', () => withSegment(user.accessToken, 1, b64({ ...decodeSegment(user.accessToken.split('.')[1]), exp: now() + 365 * 86400 }))],
      ['header edited (kid), signature kept', () => withSegment(user.accessToken, 0, b64(header({ kid: `${KID}x` })))],
      ['signature truncated by 4 characters', () => user.accessToken.slice(0, -4)],
      ['signature truncated by half', () => user.accessToken.slice(0, user.accessToken.length - 43)],
      ['signature removed', () => withSegment(user.accessToken, 2, '')],
      ['signature from another token', () => withSegment(user.accessToken, 2, ours().split('.')[2])],
      ['signature of all zeros', () => withSegment(user.accessToken, 2, Buffer.alloc(64).toString('base64url'))],
      // Not a JWS at all.
      ['two segments', () => user.accessToken.split('.').slice(0, 2).join('.')],
      ['four segments', () => `${user.accessToken}.${user.accessToken.split('.')[2]}`],
      ['five segments (a JWE shape)', () => `${b64(header({ alg: 'dir', enc: 'A256GCM' }))}..${b64('iv')}.${b64('ct')}.${b64('tag')}`],
      ['random text', () => randomBytes(32).toString('base64url')],
      ['the refresh token: a refresh token is never an access token', () => user.refreshToken],
    ];

    it.each(cases)('%s', async (_name, token) => {
      await expectRefused(app, token());
    });

    it('never fetched the key URLs those tokens named (jku, x5u)', () => {
      expect(keyServer.hits).toEqual([]);
    });

    it('refuses a missing or malformed Authorization header alike', async () => {
      for (const authorization of [undefined, 'Bearer', `Basic ${user.accessToken}`, `Bearer ${user.accessToken}.`]) {
        const response = await app.request('GET', '/auth/claims', authorization ? { headers: { authorization } } : {});
        expect({ status: response.status, code: response.body.code }).toEqual({ status: 401, code: 'token_invalid' });
      }
    });
  });

  it('an expired token, correctly signed: 401 token_expired', async () => {
    await expectRefused(app, ours({}, claims({ iat: now() - 7200, exp: now() - 3600 })), 'token_expired');
  });

  it('an access token is not a refresh token either', async () => {
    const response = await app.request('POST', '/auth/refresh', { body: { refreshToken: user.accessToken } });
    expect({ status: response.status, code: response.body.code }).toEqual({ status: 401, code: 'refresh_token_invalid' });
  });

  it('GET /.well-known/jwks.json: the public half of our key with kid, alg and use, cacheable', async () => {
    const response = await app.request('GET', '/.well-known/jwks.json');
    expect(response.status).toBe(200);
    const { x, y } = serviceKey.publicKey.export({ format: 'jwk' });
    expect(response.body).toEqual({ keys: [{ kty: 'EC', crv: 'P-256', x, y, kid: KID, alg: 'ES256', use: 'sig' }] });
    expect(response.headers.get('cache-control')).toMatch(/^public, max-age=\d+$/);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  });
});

describe('access tokens (HS256): one shared secret, HS256 only', () => {
  const SECRET = randomBytes(48).toString('base64url');
  const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  let app: TestApp;
  let user: Awaited<ReturnType<typeof registerAndLogin>>;
  let kid: string;

  const claims = (overrides: Json = {}): Json => validClaims(user, [], overrides);

  beforeAll(async () => {
    app = await startTestApp({ JWT_ALGORITHM: 'HS256', JWT_SECRET: SECRET });
    user = await registerAndLogin(app, 'tokens-hs');
    kid = decodeSegment(user.accessToken.split('.')[0]).kid as string;
  });
  afterAll(() => app?.close());

  it('issues HS256 at+jwt tokens with a kid that names the secret, and accepts them', async () => {
    expect(decodeSegment(user.accessToken.split('.')[0])).toEqual({ alg: 'HS256', typ: 'at+jwt', kid: expect.stringMatching(/^hs-/) });
    expect(kid).not.toContain(SECRET.slice(0, 8));
    await expectAccepted(app, user.accessToken, user.userId);
  });

  it('accepts a token the test signs with the secret exactly as the service does (the control)', async () => {
    await expectAccepted(app, jws({ alg: 'HS256', typ: 'at+jwt', kid }, claims(), hmac(256, SECRET)), user.userId);
  });

  it('serves an empty key set: nothing public to publish', async () => {
    const response = await app.request('GET', '/.well-known/jwks.json');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ keys: [] });
    expect(response.headers.get('cache-control')).toMatch(/^public, max-age=\d+$/);
  });

  it.each<[string, () => string]>([
    ['HS384 signed with the real secret', () => jws({ alg: 'HS384', typ: 'at+jwt', kid }, claims(), hmac(384, SECRET))],
    ['HS512 signed with the real secret', () => jws({ alg: 'HS512', typ: 'at+jwt', kid }, claims(), hmac(512, SECRET))],
    ['alg "none"', () => jws({ alg: 'none', typ: 'at+jwt', kid }, claims(), unsigned)],
    ['HS256 signed with another secret', () => jws({ alg: 'HS256', typ: 'at+jwt', kid }, claims(), hmac(256, randomBytes(48)))],
    ['HS256 signed with an empty secret', () => jws({ alg: 'HS256', typ: 'at+jwt', kid }, claims(), hmac(256, ''))],
    ['ES256 signed by the attacker, carrying its jwk', () => jws({ alg: 'ES256', typ: 'at+jwt', jwk: attacker.publicKey.export({ format: 'jwk' }) }, claims(), es256(attacker.privateKey))],
    ['typ "JWT", signed with the real secret', () => jws({ alg: 'HS256', typ: 'JWT', kid }, claims(), hmac(256, SECRET))],
    ['an unknown kid, signed with the real secret', () => jws({ alg: 'HS256', typ: 'at+jwt', kid: 'hs-other' }, claims(), hmac(256, SECRET))],
    ['another audience, signed with the real secret', () => jws({ alg: 'HS256', typ: 'at+jwt', kid }, claims({ aud: 'other' }), hmac(256, SECRET))],
    ['no sid, signed with the real secret', () => jws({ alg: 'HS256', typ: 'at+jwt', kid }, (({ sid: _sid, ...rest }) => rest)(claims()), hmac(256, SECRET))],
  ])('refuses %s: 401 token_invalid', async (_name, token) => {
    await expectRefused(app, token());
  });
});

describe('start-up refuses what it cannot do safely, naming the variable', () => {
  it.each<[string, Record<string, string>, RegExp]>([
    ['EdDSA (jsonwebtoken 9 cannot)', { JWT_ALGORITHM: 'EdDSA' }, /JWT_ALGORITHM must be ES256, RS256 or HS256 \(EdDSA is not supported/],
    ['alg none', { JWT_ALGORITHM: 'none' }, /JWT_ALGORITHM/],
    ['another HMAC size', { JWT_ALGORITHM: 'HS512' }, /JWT_ALGORITHM/],
    ['an HS256 secret under 32 bytes', { JWT_ALGORITHM: 'HS256', JWT_SECRET: 'x'.repeat(31) }, /JWT_SECRET must be at least 32 bytes/],
    ['more than 30 s of clock skew', { JWT_CLOCK_SKEW: '31s' }, /JWT_CLOCK_SKEW must be at most 30s/],
  ])('%s', async (_name, env, message) => {
    await expect(startTestApp(env)).rejects.toThrow(message);
  });
});
