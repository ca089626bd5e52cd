import jsonwebtoken from 'jsonwebtoken';
import { createPublicKey, generateKeyPairSync, randomUUID, verify } from 'node:crypto';
import type { AuthModuleOptions } from '../auth.options.js';
import { AuthErrorCode } from '../errors/auth-error-code.js';
import { AuthError } from '../errors/auth-error.js';
import { resolveAuthSettings } from '../options/auth-settings.js';
import { AccessTokenService } from './access-token.service.js';
import type { SigningKeys } from './signing-keys.js';

function ecJwk(kid: string) {
  return { ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }), kid };
}

/** The service over settings resolved the way the module resolves them: the real defaults, plus `options`. */
function build(options: Partial<AuthModuleOptions>): { service: AccessTokenService; keys: SigningKeys } {
  const settings = resolveAuthSettings({
    refreshTokenSecret: 'r'.repeat(32),
    jwtIssuer: 'https://auth.example.test',
    jwtAudience: 'orders-api',
    ...options,
  });
  return { service: new AccessTokenService(settings.signingKeys, settings), keys: settings.signingKeys };
}

const HS256 = { jwtAlgorithm: 'HS256', jwtSecret: 's'.repeat(40) } as const;

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const parts = (token: string) => token.split('.');
const decode = (segment: string) => JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));

/** A token whose header is `header`; the screen looks at the header only, so the rest is filler. */
const withHeader = (header: unknown) => `${typeof header === 'string' ? header : b64(header)}.${b64({})}.c2lnbmF0dXJl`;

function expectTokenInvalid(action: () => unknown): void {
  let thrown: unknown;
  try {
    action();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(AuthError);
  expect((thrown as AuthError).code).toBe(AuthErrorCode.TokenInvalid);
  expect((thrown as AuthError).options.bearer).toBe(true);
}

describe('AccessTokenService', () => {
  const { service, keys } = build({ jwtPrivateKeys: JSON.stringify({ keys: [ecJwk('current'), ecJwk('previous')] }) });
  const principal = { userId: randomUUID(), sessionId: randomUUID(), roles: ['user'] };

  describe('issue', () => {
    it('signs with the first key: header alg, typ at+jwt and kid', () => {
      const { accessToken } = service.issue(principal);
      expect(decode(parts(accessToken)[0])).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: 'current' });
    });

    it('puts in iss, aud, sub, sid, a fresh jti, iat, exp = iat + lifetime, and roles', () => {
      const before = Math.floor(Date.now() / 1000);
      const { accessToken, expiresIn } = service.issue(principal);
      const after = Math.floor(Date.now() / 1000);
      const payload = decode(parts(accessToken)[1]);
      expect(expiresIn).toBe(900);
      expect(payload).toEqual({
        iss: 'https://auth.example.test',
        aud: 'orders-api',
        sub: principal.userId,
        sid: principal.sessionId,
        roles: ['user'],
        jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
        iat: expect.any(Number),
        exp: payload.iat + 900,
      });
      expect(payload.iat).toBeGreaterThanOrEqual(before);
      expect(payload.iat).toBeLessThanOrEqual(after);
      expect(decode(parts(service.issue(principal).accessToken)[1]).jti).not.toBe(payload.jti);
    });

    it('produces a JWS (raw r||s) signature that the published public key verifies', () => {
      const [header, payload, signature] = parts(service.issue(principal).accessToken);
      const publicKey = createPublicKey({ key: keys.publicJwks[0], format: 'jwk' });
      const valid = verify('sha256', Buffer.from(`${header}.${payload}`), { key: publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'));
      expect(valid).toBe(true);
    });

    it('takes the lifetime from the settings', () => {
      const short = build({ jwtPrivateKeys: JSON.stringify({ keys: [ecJwk('k')] }), accessTokenTtl: '5m' });
      const { accessToken, expiresIn } = short.service.issue(principal);
      const payload = decode(parts(accessToken)[1]);
      expect(expiresIn).toBe(300);
      expect(payload.exp).toBe(payload.iat + 300);
    });

    it('puts extra claims in at the top level, and never lets them replace its own', () => {
      const payload = decode(parts(service.issue(principal, { tenantId: 't-1', plan: { tier: 'gold' } }).accessToken)[1]);
      expect(payload).toMatchObject({ tenantId: 't-1', plan: { tier: 'gold' }, sub: principal.userId, sid: principal.sessionId });
      const forged = decode(parts(service.issue(principal, { sub: 'someone-else', sid: 'other', roles: ['admin'] }).accessToken)[1]);
      expect(forged).toMatchObject({ sub: principal.userId, sid: principal.sessionId, roles: ['user'] });
    });

    it('signs HS256 tokens with the secret and its kid', () => {
      const hs = build(HS256);
      const header = decode(parts(hs.service.issue(principal).accessToken)[0]);
      expect(header).toEqual({ alg: 'HS256', typ: 'at+jwt', kid: hs.keys.signing.kid });
    });
  });

  describe('a token it issues', () => {
    it.each([
      ['ES256', () => ({ service, keys })],
      ['HS256', () => build(HS256)],
    ] as const)('%s: passes jsonwebtoken with the verify options and the key it chooses, and maps back to the principal', (_alg, pick) => {
      const { service: issuer } = pick();
      const { accessToken } = issuer.issue(principal, { tenantId: 't-1' });
      const payload = jsonwebtoken.verify(accessToken, issuer.verificationKeyFor(accessToken), { ...issuer.verifyOptions });
      expect(issuer.toPrincipal(payload)).toMatchObject({ ...principal, tenantId: 't-1', expiresAt: expect.any(Number) });
    });

    it('fails jsonwebtoken for another audience or issuer', () => {
      const other = build({ jwtPrivateKeys: JSON.stringify({ keys: [ecJwk('current')] }), jwtAudience: 'billing-api', jwtIssuer: 'https://other.example.test' });
      const { accessToken } = service.issue(principal);
      const key = service.verificationKeyFor(accessToken);
      expect(() => jsonwebtoken.verify(accessToken, key, { ...service.verifyOptions, audience: other.service.verifyOptions.audience })).toThrow(/audience/);
      expect(() => jsonwebtoken.verify(accessToken, key, { ...service.verifyOptions, issuer: other.service.verifyOptions.issuer })).toThrow(/issuer/);
    });
  });

  describe('verifyOptions', () => {
    it('allows exactly the configured algorithm and demands our issuer and audience within the skew', () => {
      expect(service.verifyOptions).toEqual({
        algorithms: ['ES256'],
        issuer: 'https://auth.example.test',
        audience: 'orders-api',
        clockTolerance: 5,
      });
      expect(build(HS256).service.verifyOptions.algorithms).toEqual(['HS256']);
    });

    it('takes the clock skew from the settings', () => {
      expect(build({ ...HS256, jwtClockSkew: '30s' }).service.verifyOptions.clockTolerance).toBe(30);
      expect(build({ ...HS256, jwtClockSkew: 0 }).service.verifyOptions.clockTolerance).toBe(0);
    });
  });

  describe('verificationKeyFor', () => {
    const ours = { alg: 'ES256', typ: 'at+jwt', kid: 'current' };

    it('returns the key our token names, for the signing key and for an older one', () => {
      expect(service.verificationKeyFor(service.issue(principal).accessToken)).toBe(keys.verificationKey('current'));
      expect(service.verificationKeyFor(withHeader({ ...ours, kid: 'previous' }))).toBe(keys.verificationKey('previous'));
    });

    it.each(['at+jwt', 'AT+JWT', 'application/at+jwt', 'Application/AT+JWT'])('accepts typ %s (RFC 9068)', (typ) => {
      expect(service.verificationKeyFor(withHeader({ ...ours, typ }))).toBe(keys.verificationKey('current'));
    });

    it.each<[string, unknown]>([
      ['alg none', { ...ours, alg: 'none' }],
      ['alg NONE', { ...ours, alg: 'NONE' }],
      ['alg None', { ...ours, alg: 'None' }],
      ['alg es256 (case matters)', { ...ours, alg: 'es256' }],
      ['alg HS256', { ...ours, alg: 'HS256' }],
      ['alg RS256', { ...ours, alg: 'RS256' }],
      ['alg ES384', { ...ours, alg: 'ES384' }],
      ['alg missing', { typ: 'at+jwt', kid: 'current' }],
      ['alg as an array', { ...ours, alg: ['ES256'] }],
      ['typ JWT', { ...ours, typ: 'JWT' }],
      ['typ missing', { alg: 'ES256', kid: 'current' }],
      ['typ application/jwt', { ...ours, typ: 'application/jwt' }],
      ['typ with a suffix', { ...ours, typ: 'at+jwt; x' }],
      ['typ as a number', { ...ours, typ: 1 }],
      ['a jku header', { ...ours, jku: 'https://attacker.example/jwks.json' }],
      ['an x5u header', { ...ours, x5u: 'https://attacker.example/cert.pem' }],
      ['a jwk header', { ...ours, jwk: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y' } }],
      ['an x5c header', { ...ours, x5c: ['MIIB'] }],
      ['a crit header', { ...ours, crit: ['exp'] }],
      ['a null jku header', { ...ours, jku: null }],
      ['kid missing', { alg: 'ES256', typ: 'at+jwt' }],
      ['kid unknown', { ...ours, kid: 'other' }],
      ['kid as a number', { ...ours, kid: 1 }],
      ['kid as an array', { ...ours, kid: ['current'] }],
      ['kid with path traversal', { ...ours, kid: '../../../../dev/null' }],
      ['kid with traversal back to ours', { ...ours, kid: 'x/../current' }],
      ['kid with SQL', { ...ours, kid: "current' OR '1'='1" }],
      ['kid with a NUL', { ...ours, kid: 'current\u0000' }],
      ['kid __proto__', { ...ours, kid: '__proto__' }],
      ['kid constructor', { ...ours, kid: 'constructor' }],
    ])('refuses %s', (_name, header) => {
      expectTokenInvalid(() => service.verificationKeyFor(withHeader(header)));
    });

    it.each([
      ['no dot', 'abc'],
      ['an empty header', `.${b64({})}.sig`],
      ['a header that is not JSON', `${Buffer.from('{not json').toString('base64url')}.e30.sig`],
      ['a header that is JSON null', `${b64(null)}.e30.sig`],
      ['a header that is a JSON array', `${b64(['ES256'])}.e30.sig`],
      ['a header that is a JSON string', `${b64('ES256')}.e30.sig`],
      ['an empty string', ''],
    ])('refuses %s', (_name, token) => {
      expectTokenInvalid(() => service.verificationKeyFor(token));
    });

    it('in HS256 mode refuses every asymmetric algorithm and every other HMAC size', () => {
      const hs = build(HS256);
      const kid = hs.keys.signing.kid;
      expect(hs.service.verificationKeyFor(withHeader({ alg: 'HS256', typ: 'at+jwt', kid }))).toBe(hs.keys.signing.key);
      for (const alg of ['HS384', 'HS512', 'ES256', 'RS256', 'none']) {
        expectTokenInvalid(() => hs.service.verificationKeyFor(withHeader({ alg, typ: 'at+jwt', kid })));
      }
    });
  });

  describe('toPrincipal', () => {
    const now = () => Math.floor(Date.now() / 1000);
    const claims = () => ({
      iss: 'https://auth.example.test',
      aud: 'orders-api',
      sub: principal.userId,
      sid: principal.sessionId,
      jti: randomUUID(),
      iat: now(),
      exp: now() + 900,
      roles: ['user', 'admin'],
    });

    it('maps verified claims to the principal', () => {
      const payload = claims();
      expect(service.toPrincipal(payload)).toEqual({
        userId: payload.sub,
        sessionId: payload.sid,
        roles: ['user', 'admin'],
        jti: payload.jti,
        issuedAt: payload.iat,
        expiresAt: payload.exp,
      });
    });

    it('carries extra claims onto the principal, and no registered claim besides the mapped ones', () => {
      const payload = { ...claims(), nbf: now(), tenantId: 't-1', plan: { tier: 'gold' } };
      const mapped = service.toPrincipal(payload);
      expect(mapped).toEqual({
        userId: payload.sub,
        sessionId: payload.sid,
        roles: ['user', 'admin'],
        jti: payload.jti,
        issuedAt: payload.iat,
        expiresAt: payload.exp,
        tenantId: 't-1',
        plan: { tier: 'gold' },
      });
      for (const claim of ['iss', 'aud', 'sub', 'sid', 'iat', 'exp', 'nbf']) expect(mapped).not.toHaveProperty(claim);
    });

    it('accepts an iat up to the clock skew ahead (another instance’s clock)', () => {
      expect(service.toPrincipal({ ...claims(), iat: now() + 3 }).userId).toBe(principal.userId);
    });

    it.each<[string, (payload: Record<string, unknown>) => unknown]>([
      ['sub missing', ({ sub: _sub, ...rest }) => rest],
      ['sub a number', (payload) => ({ ...payload, sub: 42 })],
      ['sub empty', (payload) => ({ ...payload, sub: '' })],
      ['sid missing', ({ sid: _sid, ...rest }) => rest],
      ['sid a number', (payload) => ({ ...payload, sid: 7 })],
      ['sid an object', (payload) => ({ ...payload, sid: { id: 'x' } })],
      ['jti missing', ({ jti: _jti, ...rest }) => rest],
      ['jti a number', (payload) => ({ ...payload, jti: 1 })],
      ['iat missing', ({ iat: _iat, ...rest }) => rest],
      ['iat a string', (payload) => ({ ...payload, iat: String(payload.iat) })],
      ['iat a fraction', (payload) => ({ ...payload, iat: (payload.iat as number) + 0.5 })],
      ['iat far in the future', (payload) => ({ ...payload, iat: now() + 60 })],
      ['exp missing', ({ exp: _exp, ...rest }) => rest],
      ['exp a string', (payload) => ({ ...payload, exp: String(payload.exp) })],
      ['exp null', (payload) => ({ ...payload, exp: null })],
      ['exp beyond safe integers', (payload) => ({ ...payload, exp: 1e300 })],
      ['roles missing', ({ roles: _roles, ...rest }) => rest],
      ['roles a string', (payload) => ({ ...payload, roles: 'admin' })],
      ['roles holding a number', (payload) => ({ ...payload, roles: ['user', 1] })],
      ['a payload that is a string', () => 'sub'],
      ['a payload that is null', () => null],
      ['a payload that is an array', () => []],
    ])('refuses %s', (_name, mutate) => {
      expectTokenInvalid(() => service.toPrincipal(mutate(claims())));
    });
  });
});
