import { randomBytes } from 'node:crypto';
import {
  createRemoteJWKSet,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  jwtVerify,
  SignJWT,
  type CryptoKey,
  type JWTPayload,
  type JWTVerifyResult,
} from 'jose';
import { startTestApp, type TestApp } from './support/test-app.js';
import { registerAndLogin } from './support/users.js';

// Another team's API, written against the contract only: it knows our issuer, its own audience name
// and our JWKS URL, and verifies with an off-the-shelf library. Nothing here imports the service's code.
const ISSUER = 'https://auth.example.test';
const AUDIENCE = 'orders-api';
const REQUIRED_CLAIMS = ['sub', 'sid', 'jti', 'iat', 'exp'];

describe.each(['ES256', 'RS256'] as const)('a resource server using jose trusts our %s access tokens through the JWKS', (alg) => {
  const kid = `rs-${alg.toLowerCase()}-${randomBytes(4).toString('hex')}`;
  let app: TestApp;
  let user: Awaited<ReturnType<typeof registerAndLogin>>;
  let signingKey: CryptoKey;
  let resourceServer: (token: string, audience?: string) => Promise<JWTVerifyResult<JWTPayload & { sid?: string; roles?: string[] }>>;

  beforeAll(async () => {
    const { privateKey } = await generateKeyPair(alg, { extractable: true });
    signingKey = privateKey;
    const privateJwk = { ...(await exportJWK(privateKey)), kid };
    app = await startTestApp({
      JWT_ALGORITHM: alg,
      JWT_PRIVATE_KEYS: JSON.stringify({ keys: [privateJwk] }),
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: AUDIENCE,
    });
    user = await registerAndLogin(app, `resource-${alg}`);

    const jwks = createRemoteJWKSet(new URL('/.well-known/jwks.json', app.baseUrl));
    resourceServer = (token, audience = AUDIENCE) =>
      jwtVerify(token, jwks, { issuer: ISSUER, audience, typ: 'at+jwt', algorithms: [alg], requiredClaims: REQUIRED_CLAIMS });
  });
  afterAll(() => app?.close());

  it('accepts the token we issued and reads who and which session it is for', async () => {
    const { payload, protectedHeader } = await resourceServer(user.accessToken);
    expect(protectedHeader).toEqual({ alg, typ: 'at+jwt', kid });
    expect(payload).toMatchObject({ iss: ISSUER, aud: AUDIENCE, sub: user.userId, sid: user.sessionId, roles: expect.any(Array) });
    expect(payload.exp! - payload.iat!).toBe(user.expiresIn);
  });

  it('agrees with the service on the same token', async () => {
    const claims = await app.request('GET', '/auth/claims', { token: user.accessToken });
    const { payload } = await resourceServer(user.accessToken);
    expect(claims.status).toBe(200);
    expect(claims.body).toEqual({ sub: payload.sub, sid: payload.sid, roles: payload.roles, iat: payload.iat, exp: payload.exp });
  });

  it('refuses our token when it is not the audience (the token is not good everywhere)', async () => {
    await expect(resourceServer(user.accessToken, 'billing-api')).rejects.toMatchObject({ code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'aud' });
  });

  it('refuses a token signed by another key under our kid', async () => {
    const { privateKey: attackerKey } = await generateKeyPair(alg);
    const forged = await new SignJWT({ sid: user.sessionId, roles: ['admin'] })
      .setProtectedHeader({ alg, typ: 'at+jwt', kid })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(user.userId)
      .setJti('forged')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(attackerKey);
    await expect(resourceServer(forged)).rejects.toMatchObject({ code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' });
    expect((await app.request('GET', '/auth/claims', { token: forged })).body.code).toBe('token_invalid');
  });

  it('and, like the service, refuses a JWT of another type even when our key signed it', async () => {
    const idToken = await new SignJWT({ sid: user.sessionId, roles: [] })
      .setProtectedHeader({ alg, typ: 'JWT', kid })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(user.userId)
      .setJti('other-type')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(signingKey);
    expect(decodeProtectedHeader(idToken).kid).toBe(kid);
    await expect(resourceServer(idToken)).rejects.toMatchObject({ code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'typ' });
    expect((await app.request('GET', '/auth/claims', { token: idToken })).body.code).toBe('token_invalid');
  });
});

describe('a resource server in HS256 mode shares the secret instead of fetching keys', () => {
  const SECRET = randomBytes(48).toString('base64url');
  let app: TestApp;
  let user: Awaited<ReturnType<typeof registerAndLogin>>;

  beforeAll(async () => {
    app = await startTestApp({ JWT_ALGORITHM: 'HS256', JWT_SECRET: SECRET, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE });
    user = await registerAndLogin(app, 'resource-hs256');
  });
  afterAll(() => app?.close());

  it('verifies our token with the shared secret', async () => {
    const { payload } = await jwtVerify(user.accessToken, new TextEncoder().encode(SECRET), {
      issuer: ISSUER,
      audience: AUDIENCE,
      typ: 'at+jwt',
      algorithms: ['HS256'],
      requiredClaims: REQUIRED_CLAIMS,
    });
    expect(payload).toMatchObject({ sub: user.userId, sid: user.sessionId });
  });
});
