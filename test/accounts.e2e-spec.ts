import * as argon2 from '@node-rs/argon2';
import { createHash } from 'node:crypto';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import pg from 'pg';
import { expectErrorBody, setCookieOf } from './support/http-contract.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { login, PASSWORD, registerAndLogin, uniqueEmail } from './support/users.js';

const USER_KEYS = ['createdAt', 'displayName', 'email', 'id', 'roles'];
const TOKEN_PAIR_KEYS = ['accessToken', 'expiresIn', 'refreshToken', 'refreshTokenExpiresIn', 'sessionId', 'tokenType'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('accounts', () => {
  let app: TestApp;
  let db: pg.Pool;
  beforeAll(async () => {
    app = await startTestApp();
    db = new pg.Pool({ connectionString: process.env.TEST_DATABASE_URL, max: 2 });
  });
  afterAll(async () => {
    await db.end();
    await app.close();
  });

  const register = (body: unknown) => app.request('POST', '/auth/register', { body });

  describe('POST /auth/register', () => {
    it('creates the user and answers 201 with the public user shape only', async () => {
      const email = uniqueEmail('shape');
      const response = await register({ email, password: PASSWORD, displayName: 'Ada Lovelace' });
      expect(response.status).toBe(201);
      expect(Object.keys(response.body).sort()).toEqual(USER_KEYS);
      expect(response.body).toEqual({
        id: expect.stringMatching(UUID),
        email,
        displayName: 'Ada Lovelace',
        roles: ['user'],
        createdAt: expect.any(String),
      });
      expect(new Date(response.body.createdAt).toISOString()).toBe(response.body.createdAt);
      expect(JSON.stringify(response.body)).not.toMatch(/password|hash|argon/i);
    });

    it('answers displayName null when none is given', async () => {
      const response = await register({ email: uniqueEmail('noname'), password: PASSWORD });
      expect(response.status).toBe(201);
      expect(response.body.displayName).toBeNull();
    });

    it('trims and lower-cases the email, and logs in with any casing of it', async () => {
      const email = uniqueEmail('case');
      const response = await register({ email: `  ${email.toUpperCase()}  `, password: PASSWORD });
      expect(response.status).toBe(201);
      expect(response.body.email).toBe(email);
      const { rows } = await db.query('SELECT email FROM auth_users WHERE id = $1', [response.body.id]);
      expect(rows).toEqual([{ email }]);
      const loggedIn = await app.request('POST', '/auth/login', { body: { email: ` ${email.toUpperCase()}`, password: PASSWORD } });
      expect(loggedIn.status).toBe(200);
    });

    it('accepts passwords of exactly 8 and 128 characters', async () => {
      expect((await register({ email: uniqueEmail('pw8'), password: 'x'.repeat(8) })).status).toBe(201);
      const email = uniqueEmail('pw128');
      expect((await register({ email, password: 'y'.repeat(128) })).status).toBe(201);
      expect((await app.request('POST', '/auth/login', { body: { email, password: 'y'.repeat(128) } })).status).toBe(200);
    });

    it.each([
      ['a 7-character password', { password: 'x'.repeat(7) }],
      ['a 129-character password', { password: 'x'.repeat(129) }],
      ['a missing password', { password: undefined }],
      ['an email without @', { email: 'not-an-email' }],
      ['an email without a domain', { email: 'someone@' }],
      ['an empty email', { email: '   ' }],
      ['a missing email', { email: undefined }],
      ['an email over 254 characters', { email: `${'a'.repeat(250)}@example.test` }],
      ['an empty displayName', { displayName: '' }],
      ['a displayName over 100 characters', { displayName: 'd'.repeat(101) }],
      ['a displayName with U+0000', { displayName: 'Ada\u0000' }],
      ['a displayName with a control character', { displayName: 'Ada\u001b[31m' }],
      ['an unknown property', { nickname: 'ada' }],
      ['a roles property (no self-granted roles)', { roles: ['admin'] }],
    ])('refuses %s with 400 validation_failed and creates nothing', async (_label, override) => {
      const email = uniqueEmail('invalid');
      const body = { email, password: PASSWORD, ...override };
      const response = await register(body);
      expectErrorBody(response, 400, 'validation_failed', [PASSWORD]);
      expect(response.body.details?.length).toBeGreaterThan(0);
      const { rows } = await db.query('SELECT 1 FROM auth_users WHERE email = $1', [email]);
      expect(rows).toHaveLength(0);
    });

    it('refuses a taken email, whatever its casing and spacing, with 409 email_taken', async () => {
      const email = uniqueEmail('taken');
      expect((await register({ email, password: PASSWORD })).status).toBe(201);
      expectErrorBody(await register({ email, password: 'another password' }), 409, 'email_taken');
      expectErrorBody(await register({ email: ` ${email.toUpperCase()} `, password: PASSWORD }), 409, 'email_taken');
      const { rows } = await db.query('SELECT count(*)::int AS n FROM auth_users WHERE email = $1', [email]);
      expect(rows[0].n).toBe(1);
    });

    it('lets exactly one of 10 concurrent registrations of one email win; the rest get 409', async () => {
      const email = uniqueEmail('race');
      const responses = await Promise.all(
        Array.from({ length: 10 }, (_, i) => register({ email: i % 2 ? email.toUpperCase() : email, password: `${PASSWORD} ${i}` })),
      );
      const statuses = responses.map((response) => response.status).sort();
      expect(statuses).toEqual([201, ...Array(9).fill(409)]);
      for (const response of responses.filter((r) => r.status === 409)) expectErrorBody(response, 409, 'email_taken');
      const { rows } = await db.query('SELECT id FROM auth_users WHERE email = $1', [email]);
      expect(rows).toEqual([{ id: responses.find((r) => r.status === 201)!.body.id }]);
    });
  });

  describe('POST /auth/login', () => {
    it('answers 200 with the token pair, no-store, and the refresh cookie', async () => {
      const email = uniqueEmail('login');
      const user = (await register({ email, password: PASSWORD })).body;
      const response = await app.request('POST', '/auth/login', { body: { email, password: PASSWORD } });
      expect(response.status).toBe(200);
      expect(Object.keys(response.body).sort()).toEqual(TOKEN_PAIR_KEYS);
      const pair = response.body;
      expect(pair.tokenType).toBe('Bearer');
      expect(pair.expiresIn).toBe(15 * 60);
      expect(pair.refreshTokenExpiresIn).toBe(7 * 24 * 3600);
      expect(pair.sessionId).toMatch(UUID);
      expect(response.headers.get('cache-control')).toMatch(/no-store/);

      const cookie = setCookieOf(response, 'refresh_token');
      expect(cookie).toBeDefined();
      expect(cookie!.value).toBe(pair.refreshToken);
      expect(cookie!.attributes.httponly).toBe(true);
      expect(String(cookie!.attributes.samesite).toLowerCase()).toBe('strict');
      expect(cookie!.attributes.path).toBe('/auth');
      expect(cookie!.attributes.secure).toBeUndefined(); // COOKIE_SECURE is off outside production
      const maxAge = Number(cookie!.attributes['max-age']);
      expect(maxAge).toBeGreaterThan(0);
      expect(maxAge).toBeLessThanOrEqual(pair.refreshTokenExpiresIn);

      // The session row belongs to this user.
      const { rows } = await db.query('SELECT user_id FROM auth_sessions WHERE id = $1', [pair.sessionId]);
      expect(rows).toEqual([{ user_id: user.id }]);
    });

    it('issues an ES256 at+jwt access token with every contract claim, verifiable with the published JWKS', async () => {
      const email = uniqueEmail('jwt');
      const user = (await register({ email, password: PASSWORD })).body;
      const pair = await login(app, email);

      const header = decodeProtectedHeader(pair.accessToken);
      expect(header).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: expect.any(String) });

      const jwks = await app.request('GET', '/.well-known/jwks.json');
      expect(jwks.status).toBe(200);
      expect(jwks.body.keys.map((key: { kid: string }) => key.kid)).toContain(header.kid);
      const { payload } = await jwtVerify(pair.accessToken, createLocalJWKSet(jwks.body), {
        algorithms: ['ES256'],
        issuer: 'auth-service',
        audience: 'api',
        typ: 'at+jwt',
      });
      expect(Object.keys(payload).sort()).toEqual(['aud', 'exp', 'iat', 'iss', 'jti', 'roles', 'sid', 'sub']);
      expect(payload).toMatchObject({ sub: user.id, sid: pair.sessionId, roles: ['user'] });
      expect(payload.jti).toEqual(expect.any(String));
      expect(payload.exp! - payload.iat!).toBe(pair.expiresIn);
      expect(Math.abs(payload.iat! - Date.now() / 1000)).toBeLessThan(60);
    });

    it('gives a fresh jti and session per login', async () => {
      const { email, accessToken, sessionId } = await registerAndLogin(app, 'twice');
      const again = await login(app, email);
      expect(again.sessionId).not.toBe(sessionId);
      expect(decodePayload(again.accessToken).jti).not.toBe(decodePayload(accessToken).jti);
    });

    it('issues an opaque refresh token of at least 256 bits that is not a JWT', async () => {
      const { refreshToken, accessToken } = await registerAndLogin(app, 'opaque');
      expect(refreshToken.length).toBeGreaterThanOrEqual(43);
      expect(refreshToken).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(refreshToken.split('.')).toHaveLength(1);
      expect(refreshToken).not.toBe(accessToken);
      expect(() => decodeProtectedHeader(refreshToken)).toThrow();
    });

    it('answers a wrong password and an unknown email alike: 401 invalid_credentials, identical bodies', async () => {
      const { email } = await registerAndLogin(app, 'wrongpw');
      const wrongPassword = await app.request('POST', '/auth/login', { body: { email, password: 'not the password' } });
      const unknownEmail = await app.request('POST', '/auth/login', { body: { email: uniqueEmail('nobody'), password: 'not the password' } });
      expectErrorBody(wrongPassword, 401, 'invalid_credentials', ['not the password']);
      expectErrorBody(unknownEmail, 401, 'invalid_credentials', ['not the password']);
      expect(unknownEmail.body).toEqual(wrongPassword.body);
      expect(setCookieOf(wrongPassword, 'refresh_token')).toBeUndefined();
      expect(wrongPassword.headers.get('www-authenticate')).toBe(unknownEmail.headers.get('www-authenticate'));
    });

    it.each([
      ['a missing password', { password: undefined }],
      ['an empty password', { password: '' }],
      ['a password over 128 characters', { password: 'p'.repeat(129) }],
      ['a malformed email', { email: 'nope' }],
      ['an unknown property', { remember: true }],
    ])('refuses %s with 400 validation_failed', async (_label, override) => {
      const response = await app.request('POST', '/auth/login', { body: { email: uniqueEmail('badlogin'), password: PASSWORD, ...override } });
      expectErrorBody(response, 400, 'validation_failed');
    });
  });

  describe('what the database keeps', () => {
    it('stores nothing of a refresh token (nor its MAC, nor a hash of it) and an argon2id hash of the password', async () => {
      const { userId, refreshToken } = await registerAndLogin(app, 'storage');
      const rotated = await app.request('POST', '/auth/refresh', { body: { refreshToken } });
      expect(rotated.status).toBe(200);
      const tokens = [refreshToken, rotated.body.refreshToken as string];
      const encodingsOf = (token: string) => {
        const raw = Buffer.from(token, 'base64url');
        const mac = raw.subarray(20);
        return [token, raw.toString('hex'), raw.toString('base64'), mac.toString('hex'), mac.toString('base64url'), mac.toString('base64'),
          createHash('sha256').update(token).digest('hex'), createHash('sha256').update(token).digest('base64')];
      };
      // No row of this user, in any table of the package, holds either token in any common encoding.
      const { rows: dump } = await db.query<{ row: string }>(
        `SELECT s::text AS row FROM auth_sessions s WHERE s.user_id = $1
         UNION ALL SELECT u::text FROM auth_users u WHERE u.id::text = $1`,
        [userId],
      );
      expect(dump.length).toBe(2);
      for (const { row } of dump) for (const token of tokens) for (const encoding of encodingsOf(token)) expect(row).not.toContain(encoding);
      const { rows: tables } = await db.query<{ name: string }>(`SELECT table_name AS name FROM information_schema.tables WHERE table_name LIKE 'auth\\_%' AND table_name NOT IN ('auth_sessions', 'auth_users', 'auth_events')`);
      expect(tables).toEqual([]);

      const { rows: users } = await db.query<{ password_hash: string }>('SELECT password_hash FROM auth_users WHERE id = $1', [userId]);
      expect(users[0].password_hash.startsWith('$argon2id$')).toBe(true);
      expect(users[0].password_hash).not.toContain(PASSWORD);
    });
  });

  describe('GET /users/me and GET /auth/claims', () => {
    it('answer the caller with a valid access token', async () => {
      const { email, userId, accessToken, sessionId } = await registerAndLogin(app, 'me');
      const me = await app.request('GET', '/users/me', { token: accessToken });
      expect(me.status).toBe(200);
      expect(Object.keys(me.body).sort()).toEqual(USER_KEYS);
      expect(me.body).toMatchObject({ id: userId, email, roles: ['user'] });

      const claims = await app.request('GET', '/auth/claims', { token: accessToken });
      expect(claims.status).toBe(200);
      const payload = decodePayload(accessToken);
      expect(claims.body).toEqual({ sub: userId, sid: sessionId, roles: ['user'], iat: payload.iat, exp: payload.exp });
    });

    it.each([
      ['no Authorization header', {}],
      ['a garbage Bearer token', { authorization: 'Bearer garbage' }],
      ['a three-part non-JWT', { authorization: 'Bearer aaa.bbb.ccc' }],
      ['an empty Bearer token', { authorization: 'Bearer ' }],
      ['a Basic credential', { authorization: 'Basic dXNlcjpwYXNz' }],
    ])('refuse %s with 401 token_invalid and a Bearer challenge', async (_label, headers: Record<string, string>) => {
      for (const path of ['/users/me', '/auth/claims']) {
        const response = await app.request('GET', path, { headers });
        expectErrorBody(response, 401, 'token_invalid');
        expect(response.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
      }
    });

    it('refuses an access token whose signature was tampered with', async () => {
      const { accessToken } = await registerAndLogin(app, 'tamper');
      const [header, payload] = accessToken.split('.');
      const forged = Buffer.from(JSON.stringify({ ...decodePayload(accessToken), roles: ['admin'] })).toString('base64url');
      for (const token of [`${header}.${forged}.${accessToken.split('.')[2]}`, `${header}.${payload}.`]) {
        const response = await app.request('GET', '/auth/claims', { token });
        expectErrorBody(response, 401, 'token_invalid', [token]);
        expect(response.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
      }
    });

    it('refuses a refresh token presented as a Bearer token', async () => {
      const { refreshToken } = await registerAndLogin(app, 'wrongkind');
      const response = await app.request('GET', '/users/me', { token: refreshToken });
      expectErrorBody(response, 401, 'token_invalid', [refreshToken]);
    });
  });

  describe('POST /auth/logout', () => {
    it('with a Bearer token: 204, then that access token and the session refresh token are refused', async () => {
      const { accessToken, refreshToken, sessionId } = await registerAndLogin(app, 'logout-bearer');
      const response = await app.request('POST', '/auth/logout', { token: accessToken });
      expect(response.status).toBe(204);
      expect(response.body).toBeUndefined();

      const me = await app.request('GET', '/users/me', { token: accessToken });
      expectErrorBody(me, 401, 'session_revoked', [accessToken]);
      expect(me.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
      expectErrorBody(await app.request('POST', '/auth/refresh', { body: { refreshToken } }), 401, 'session_revoked', [refreshToken]);
      const { rows } = await db.query('SELECT revoked_at IS NOT NULL AS revoked FROM auth_sessions WHERE id = $1', [sessionId]);
      expect(rows).toEqual([{ revoked: true }]);
    });

    it('with the refresh token in the body: 204, then both tokens of that session are refused', async () => {
      const { accessToken, refreshToken } = await registerAndLogin(app, 'logout-body');
      const response = await app.request('POST', '/auth/logout', { body: { refreshToken } });
      expect(response.status).toBe(204);
      expectErrorBody(await app.request('GET', '/auth/claims', { token: accessToken }), 401, 'session_revoked');
      expectErrorBody(await app.request('POST', '/auth/refresh', { body: { refreshToken } }), 401, 'session_revoked');
    });

    it('ends only the current session: another login of the same user keeps working', async () => {
      const first = await registerAndLogin(app, 'logout-one');
      const second = await login(app, first.email);
      expect((await app.request('POST', '/auth/logout', { token: first.accessToken })).status).toBe(204);
      expect((await app.request('GET', '/users/me', { token: second.accessToken })).status).toBe(200);
      expect((await app.request('POST', '/auth/refresh', { body: { refreshToken: second.refreshToken } })).status).toBe(200);
    });

    it('with no credential at all: 401', async () => {
      const response = await app.request('POST', '/auth/logout');
      expect(response.status).toBe(401);
      expectErrorBody(response, 401, response.body.code);
      expect(['refresh_token_invalid', 'token_invalid']).toContain(response.body.code);
    });

    it('with an unknown refresh token: 401 refresh_token_invalid', async () => {
      const bogus = 'A'.repeat(43);
      expectErrorBody(await app.request('POST', '/auth/logout', { body: { refreshToken: bogus } }), 401, 'refresh_token_invalid', [bogus]);
    });

    it('with a garbage Bearer token: 401 token_invalid, nothing revoked', async () => {
      const { refreshToken } = await registerAndLogin(app, 'logout-garbage');
      expectErrorBody(await app.request('POST', '/auth/logout', { token: 'garbage', body: { refreshToken } }), 401, 'token_invalid');
      expect((await app.request('POST', '/auth/refresh', { body: { refreshToken } })).status).toBe(200);
    });
  });

  describe('POST /auth/password', () => {
    const change = (token: string, body: unknown) => app.request('POST', '/auth/password', { token, body });

    it('refuses a wrong current password with 401 invalid_credentials and changes nothing', async () => {
      const { email, accessToken } = await registerAndLogin(app, 'pw-wrong');
      const response = await change(accessToken, { currentPassword: 'not my password', newPassword: 'a brand new password' });
      expectErrorBody(response, 401, 'invalid_credentials', ['not my password', 'a brand new password']);
      expect((await app.request('GET', '/users/me', { token: accessToken })).status).toBe(200);
      expect((await app.request('POST', '/auth/login', { body: { email, password: PASSWORD } })).status).toBe(200);
    });

    it.each([
      ['a 7-character new password', { newPassword: 'short77' }],
      ['a 129-character new password', { newPassword: 'n'.repeat(129) }],
      ['a missing current password', { currentPassword: undefined }],
      ['an unknown property', { confirm: 'a brand new password' }],
    ])('refuses %s with 400 validation_failed', async (_label, override) => {
      const { email, accessToken } = await registerAndLogin(app, 'pw-invalid');
      const response = await change(accessToken, { currentPassword: PASSWORD, newPassword: 'a brand new password', ...override });
      expectErrorBody(response, 400, 'validation_failed');
      expect((await app.request('POST', '/auth/login', { body: { email, password: PASSWORD } })).status).toBe(200);
    });

    it('needs a Bearer token', async () => {
      const response = await app.request('POST', '/auth/password', { body: { currentPassword: PASSWORD, newPassword: 'a brand new password' } });
      expectErrorBody(response, 401, 'token_invalid');
    });

    it('changes the password (204): the old one stops working, the new one works, other sessions end', async () => {
      const { email, accessToken, refreshToken } = await registerAndLogin(app, 'pw-change');
      const other = await login(app, email);
      const newPassword = 'a brand new password';
      const response = await change(accessToken, { currentPassword: PASSWORD, newPassword });
      expect(response.status).toBe(204);

      expectErrorBody(await app.request('POST', '/auth/login', { body: { email, password: PASSWORD } }), 401, 'invalid_credentials');
      expect((await app.request('POST', '/auth/login', { body: { email, password: newPassword } })).status).toBe(200);

      // The caller's own session survives; every other one is revoked, access and refresh tokens alike.
      expect((await app.request('GET', '/users/me', { token: accessToken })).status).toBe(200);
      expect((await app.request('POST', '/auth/refresh', { body: { refreshToken } })).status).toBe(200);
      expectErrorBody(await app.request('GET', '/users/me', { token: other.accessToken }), 401, 'session_revoked');
      expectErrorBody(await app.request('POST', '/auth/refresh', { body: { refreshToken: other.refreshToken } }), 401, 'session_revoked');

      const { rows } = await db.query<{ password_hash: string }>('SELECT password_hash FROM auth_users WHERE email = $1', [email]);
      expect(rows[0].password_hash.startsWith('$argon2id$')).toBe(true);
    });
  });

  describe('hashes of an older scheme and disabled accounts', () => {
    const hashOf = async (email: string) =>
      (await db.query<{ password_hash: string }>('SELECT password_hash FROM auth_users WHERE email = $1', [email])).rows[0].password_hash;

    it('replaces a weaker argon2id hash at the next successful login, and only then', async () => {
      const email = uniqueEmail('rehash');
      expect((await register({ email, password: PASSWORD })).status).toBe(201);
      const weak = await argon2.hash(PASSWORD, { algorithm: 2, memoryCost: 4096, timeCost: 1, parallelism: 1 });
      await db.query('UPDATE auth_users SET password_hash = $2 WHERE email = $1', [email, weak]);

      expect((await app.request('POST', '/auth/login', { body: { email, password: 'not the password' } })).status).toBe(401);
      expect(await hashOf(email)).toBe(weak);
      expect((await app.request('POST', '/auth/login', { body: { email, password: PASSWORD } })).status).toBe(200);
      const upgraded = await hashOf(email);
      expect(upgraded).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
      expect(await argon2.verify(upgraded, PASSWORD)).toBe(true);
      expect((await app.request('POST', '/auth/login', { body: { email, password: PASSWORD } })).status).toBe(200);
    });

    it('refuses login and refresh of a disabled account with 403 account_disabled, only to the right password', async () => {
      const { email, refreshToken } = await registerAndLogin(app, 'disabled');
      await db.query('UPDATE auth_users SET disabled_at = now() WHERE email = $1', [email]);
      expectErrorBody(await app.request('POST', '/auth/login', { body: { email, password: 'not the password' } }), 401, 'invalid_credentials');
      expectErrorBody(await app.request('POST', '/auth/login', { body: { email, password: PASSWORD } }), 403, 'account_disabled');
      expectErrorBody(await app.request('POST', '/auth/refresh', { body: { refreshToken } }), 403, 'account_disabled');
      await db.query('UPDATE auth_users SET disabled_at = NULL WHERE email = $1', [email]);
      expect((await app.request('POST', '/auth/login', { body: { email, password: PASSWORD } })).status).toBe(200);
    });
  });
});

function decodePayload(jwt: string): Record<string, any> {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));
}
