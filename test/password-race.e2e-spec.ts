import { startTestApp, type TestApp } from './support/test-app.js';
import { PASSWORD, registerAndLogin } from './support/users.js';

// API.md: "A password change commits the new hash and the revocation of every other session so that
// no login that read the old hash can leave a live session behind." Logins with the old password run
// in loops while the owner changes it; afterwards no session they got may still work.
let app: TestApp;

beforeAll(async () => {
  app = await startTestApp({ DB_POOL_SIZE: '30' });
});
afterAll(() => app.close());

describe('password change racing logins with the old password', () => {
  it.each([1, 2, 3])('leaves no live session from the old password (round %i)', async () => {
    const owner = await registerAndLogin(app, 'race');
    let changed = false;
    const sessions: string[] = [];
    const loop = async () => {
      while (!changed) {
        const response = await app.request('POST', '/auth/login', { body: { email: owner.email, password: PASSWORD } });
        if (response.status === 200) sessions.push(response.body.accessToken);
        else expect({ status: response.status, code: response.body.code }).toEqual({ status: 401, code: 'invalid_credentials' });
      }
    };
    const loops = Array.from({ length: 6 }, loop);
    // Let the loops get going, so logins are in flight (hashing) when the change lands.
    await new Promise((resolve) => setTimeout(resolve, 150));
    const change = await app.request('POST', '/auth/password', {
      token: owner.accessToken,
      body: { currentPassword: PASSWORD, newPassword: 'a different password' },
    });
    expect(change.status).toBe(204);
    // Logins that had already read the old hash finish now; give them the time of a few hashes.
    await new Promise((resolve) => setTimeout(resolve, 300));
    changed = true;
    await Promise.all(loops);

    expect(sessions.length).toBeGreaterThan(0);
    const alive: string[] = [];
    for (const accessToken of sessions) {
      const me = await app.request('GET', '/users/me', { token: accessToken });
      if (me.status !== 401 || me.body.code !== 'session_revoked') alive.push(`${me.status} ${me.body.code ?? ''}`);
    }
    expect(alive).toEqual([]);
    expect((await app.request('GET', '/users/me', { token: owner.accessToken })).status).toBe(200);
  });
});
