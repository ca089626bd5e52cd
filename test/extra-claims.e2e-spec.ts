import pg from 'pg';
import type { StoredUser } from '../src/auth/index.js';
import { startHostApp } from './support/host-app.js';
import { asTestApp, type TestApp } from './support/test-app.js';
import { registerAndLogin } from './support/users.js';

// A host app on the package's own users table with an extraClaims hook. A refresh reads what it needs
// of the user in its rotation statement, unless extraClaims is set: the hook is then handed the whole
// user, read anew at every refresh, so a claim follows the account.

const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));

describe('extraClaims with the package users table', () => {
  let app: TestApp;
  let db: pg.Client;
  beforeAll(async () => {
    const extraClaims = (user: StoredUser) => ({ emailDomain: user.email.split('@')[1], displayName: user.displayName });
    app = await asTestApp(await startHostApp({ extraClaims }));
    db = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
    await db.connect();
  });
  afterAll(async () => {
    await app?.close();
    await db?.end();
  });

  it('puts the claims into the login token and, read from the user anew, into every refreshed one', async () => {
    const user = await registerAndLogin(app, 'extra-claims');
    expect(claimsOf(user.accessToken)).toMatchObject({ sub: user.userId, emailDomain: 'example.test', displayName: null });

    await db.query('UPDATE auth_users SET display_name = $2 WHERE id = $1', [user.userId, 'Ada']);
    const refreshed = await app.request('POST', '/auth/refresh', { body: { refreshToken: user.refreshToken } });
    expect(refreshed.status).toBe(200);
    expect(claimsOf(refreshed.body.accessToken)).toMatchObject({ sub: user.userId, sid: user.sessionId, roles: ['user'], emailDomain: 'example.test', displayName: 'Ada' });
  });

  it('still refuses the refresh of a disabled account, and of one whose user is gone', async () => {
    const disabled = await registerAndLogin(app, 'extra-claims-disabled');
    await db.query('UPDATE auth_users SET disabled_at = now() WHERE id = $1', [disabled.userId]);
    const refused = await app.request('POST', '/auth/refresh', { body: { refreshToken: disabled.refreshToken } });
    expect({ status: refused.status, code: refused.body.code }).toEqual({ status: 403, code: 'account_disabled' });

    const gone = await registerAndLogin(app, 'extra-claims-gone');
    await db.query('DELETE FROM auth_users WHERE id = $1', [gone.userId]);
    const unknown = await app.request('POST', '/auth/refresh', { body: { refreshToken: gone.refreshToken } });
    expect({ status: unknown.status, code: unknown.body.code }).toEqual({ status: 401, code: 'refresh_token_invalid' });
  });
});
