import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { AuthEvents } from '../src/auth/index.js';
import { expectErrorBody } from './support/http-contract.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { login, PASSWORD, registerAndLogin } from './support/users.js';

const ADMIN_USER_KEYS = ['createdAt', 'disabledAt', 'displayName', 'email', 'id', 'roles'];
const ADMIN_SESSION_KEYS = ['createdAt', 'expiresAt', 'id', 'ip', 'lastUsedAt', 'userAgent'];
const UNKNOWN_UUID = '00000000-0000-4000-8000-000000000000';

describe('administration', () => {
  let app: TestApp;
  let db: pg.Pool;
  let admin: Awaited<ReturnType<typeof registerAndLogin>>;

  beforeAll(async () => {
    app = await startTestApp();
    db = new pg.Pool({ connectionString: process.env.TEST_DATABASE_URL, max: 2 });
    // The first administrator is made outside the API (the command line does it in production).
    const registered = await registerAndLogin(app, 'admin');
    await db.query(`UPDATE auth_users SET roles = '{admin}' WHERE id = $1`, [registered.userId]);
    admin = { ...registered, ...(await login(app, registered.email)) };
  });
  afterAll(async () => {
    await db?.end();
    await app?.close();
  });

  const asAdmin = (method: string, path: string, body?: unknown) => app.request(method, path, { token: admin.accessToken, body });

  /** Every row of `type` about `userId` in auth_events, the batch writer flushed first. */
  async function eventsOf(type: string, userId: string): Promise<{ session_id: string | null; detail: Record<string, unknown> }[]> {
    expect(await app.app.get(AuthEvents).flush()).toBe(true);
    const { rows } = await db.query('SELECT session_id, detail FROM auth_events WHERE type = $1 AND user_id = $2 ORDER BY id', [type, userId]);
    return rows;
  }

  describe('who may call', () => {
    const routes: [string, string][] = [
      ['GET', '/admin/users'],
      ['GET', `/admin/users/${UNKNOWN_UUID}`],
      ['PUT', `/admin/users/${UNKNOWN_UUID}/roles`],
      ['POST', `/admin/users/${UNKNOWN_UUID}/disable`],
      ['POST', `/admin/users/${UNKNOWN_UUID}/enable`],
      ['GET', `/admin/users/${UNKNOWN_UUID}/sessions`],
      ['DELETE', `/admin/users/${UNKNOWN_UUID}/sessions`],
      ['DELETE', `/admin/sessions/${UNKNOWN_UUID}`],
    ];

    it.each(routes)('%s %s answers 401 without a token and 403 forbidden to a non-admin', async (method, path) => {
      const body = method === 'PUT' ? { roles: ['admin'] } : undefined;
      const anonymous = await app.request(method, path, { body });
      expectErrorBody(anonymous, 401, 'token_invalid');
      expect(anonymous.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
      const user = await registerAndLogin(app, 'not-admin');
      expectErrorBody(await app.request(method, path, { token: user.accessToken, body }), 403, 'forbidden');
    });
  });

  describe('GET /admin/users', () => {
    const prefix = `page-${randomUUID().slice(0, 8)}`;
    const emails: string[] = [];
    beforeAll(async () => {
      for (let index = 0; index < 5; index++) {
        const email = `${prefix}-${index}@example.test`;
        expect((await app.request('POST', '/auth/register', { body: { email, password: PASSWORD } })).status).toBe(201);
        emails.push(email);
      }
    });

    it('pages through the users whose email starts with the filter, in email order, with an opaque cursor', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      const pages: number[] = [];
      do {
        const query: string = `email=${prefix.toUpperCase()}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
        const response = await asAdmin('GET', `/admin/users?${query}`);
        expect(response.status).toBe(200);
        expect(response.headers.get('cache-control')).toBe('no-store');
        expect(Object.keys(response.body).sort()).toEqual(['items', 'nextCursor']);
        for (const user of response.body.items) {
          expect(Object.keys(user).sort()).toEqual(ADMIN_USER_KEYS);
          expect(user.disabledAt).toBeNull();
        }
        pages.push(response.body.items.length);
        seen.push(...response.body.items.map((user: { email: string }) => user.email));
        cursor = response.body.nextCursor;
        if (cursor) expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
      } while (cursor);
      expect(pages).toEqual([2, 2, 1]);
      expect(seen).toEqual(emails);
    });

    it('defaults to 20 per page and answers users with disabledAt', async () => {
      const many = `many-${randomUUID().slice(0, 8)}`;
      for (let index = 0; index < 21; index++) {
        expect((await app.request('POST', '/auth/register', { body: { email: `${many}-${index}@example.test`, password: PASSWORD } })).status).toBe(201);
      }
      const response = await asAdmin('GET', `/admin/users?email=${many}`);
      expect(response.status).toBe(200);
      expect(response.body.items).toHaveLength(20);
      expect(Object.keys(response.body.items[0]).sort()).toEqual(ADMIN_USER_KEYS);
      expect(JSON.stringify(response.body)).not.toMatch(/password|hash|argon/i);
      const rest = await asAdmin('GET', `/admin/users?email=${many}&cursor=${response.body.nextCursor}`);
      expect(rest.body).toMatchObject({ nextCursor: null });
      expect(rest.body.items).toHaveLength(1);
    });

    it('answers an empty page for a prefix nobody has, and treats empty parameters as absent', async () => {
      expect((await asAdmin('GET', `/admin/users?email=nobody-${randomUUID()}`)).body).toEqual({ items: [], nextCursor: null });
      const response = await asAdmin('GET', `/admin/users?email=${prefix}&limit=&cursor=`);
      expect(response.status).toBe(200);
      expect(response.body.items).toHaveLength(5);
    });

    it('takes the filter literally: % and _ are no wildcards', async () => {
      expect((await asAdmin('GET', `/admin/users?email=${encodeURIComponent('%')}`)).body.items).toEqual([]);
      expect((await asAdmin('GET', `/admin/users?email=${prefix.replace('-', '_')}`)).body.items).toEqual([]);
    });

    it.each([
      ['limit=0'],
      ['limit=101'],
      ['limit=-1'],
      ['limit=abc'],
      ['limit=1.5'],
      ['limit=1&limit=2'],
      ['email=a&email=b'],
      [`email=${'a'.repeat(255)}`],
      ['cursor=not-a-cursor'],
      ['cursor=%2B%2F%3D'],
      [`cursor=${Buffer.from('{"after":42}').toString('base64url')}`],
      // U+0000 would reach Postgres, whose text cannot hold it (a 500).
      ['email=a%00b'],
      ['email=%01'],
      [`cursor=${Buffer.from('{"after":"a\\u0000b"}').toString('base64url')}`],
      ['page=2'],
      ['sort=email'],
    ])('answers 400 validation_failed to ?%s', async (query) => {
      expectErrorBody(await asAdmin('GET', `/admin/users?${query}`), 400, 'validation_failed');
    });
  });

  describe('GET /admin/users/:id', () => {
    it('answers the user with disabledAt', async () => {
      const user = await registerAndLogin(app, 'get-one');
      const response = await asAdmin('GET', `/admin/users/${user.userId}`);
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        id: user.userId,
        email: user.email,
        displayName: null,
        roles: ['user'],
        createdAt: expect.any(String),
        disabledAt: null,
      });
    });

    it.each([UNKNOWN_UUID, 'not-a-uuid', '12345', 'x'.repeat(300)])('answers 404 user_not_found for %s, on every user route', async (id) => {
      expectErrorBody(await asAdmin('GET', `/admin/users/${id}`), 404, 'user_not_found');
      expectErrorBody(await asAdmin('PUT', `/admin/users/${id}/roles`, { roles: ['user'] }), 404, 'user_not_found');
      expectErrorBody(await asAdmin('POST', `/admin/users/${id}/disable`), 404, 'user_not_found');
      expectErrorBody(await asAdmin('POST', `/admin/users/${id}/enable`), 404, 'user_not_found');
      expectErrorBody(await asAdmin('GET', `/admin/users/${id}/sessions`), 404, 'user_not_found');
      expectErrorBody(await asAdmin('DELETE', `/admin/users/${id}/sessions`), 404, 'user_not_found');
    });
  });

  describe('PUT /admin/users/:id/roles', () => {
    it('replaces the roles; they reach the user at the next refresh; the change is an event', async () => {
      const user = await registerAndLogin(app, 'roles');
      const response = await asAdmin('PUT', `/admin/users/${user.userId}/roles`, { roles: ['editor', 'user'] });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ id: user.userId, roles: ['editor', 'user'], disabledAt: null });
      expect((await asAdmin('GET', `/admin/users/${user.userId}`)).body.roles).toEqual(['editor', 'user']);

      // The access token already issued keeps its roles; the refreshed one carries the new ones.
      expect((await app.request('GET', '/auth/claims', { token: user.accessToken })).body.roles).toEqual(['user']);
      const refreshed = await app.request('POST', '/auth/refresh', { body: { refreshToken: user.refreshToken } });
      expect(refreshed.status).toBe(200);
      expect((await app.request('GET', '/auth/claims', { token: refreshed.body.accessToken })).body.roles).toEqual(['editor', 'user']);

      expect((await eventsOf('roles_changed', user.userId)).map((row) => row.detail)).toEqual([{ from: ['user'], to: ['editor', 'user'], actor: admin.userId }]);
    });

    it('makes an administrator of a user, who may then use the admin routes', async () => {
      const user = await registerAndLogin(app, 'promoted');
      expect((await asAdmin('PUT', `/admin/users/${user.userId}/roles`, { roles: ['admin'] })).status).toBe(200);
      const refreshed = await app.request('POST', '/auth/refresh', { body: { refreshToken: user.refreshToken } });
      expect((await app.request('GET', '/admin/users?limit=1', { token: refreshed.body.accessToken })).status).toBe(200);
    });

    it.each([
      ['no roles property', {}],
      ['an empty list', { roles: [] }],
      ['a string instead of a list', { roles: 'admin' }],
      ['a non-string role', { roles: [42] }],
      ['an empty role name', { roles: [''] }],
      ['a role with spaces', { roles: ['super admin'] }],
      ['a role over 64 characters', { roles: ['r'.repeat(65)] }],
      ['duplicate roles', { roles: ['user', 'user'] }],
      ['more than 32 roles', { roles: Array.from({ length: 33 }, (_, index) => `role${index}`) }],
      ['an unknown property', { roles: ['user'], extra: true }],
    ])('answers 400 validation_failed to %s', async (_label, body) => {
      const user = await registerAndLogin(app, 'bad-roles');
      expectErrorBody(await asAdmin('PUT', `/admin/users/${user.userId}/roles`, body), 400, 'validation_failed');
      expect((await asAdmin('GET', `/admin/users/${user.userId}`)).body.roles).toEqual(['user']);
    });
  });

  describe('concurrent changes of one user', () => {
    it('audit roles changes as a chain: each from is what the one before left, the last to is what stays', async () => {
      const user = await registerAndLogin(app, 'roles-race');
      const sets = ['a', 'b', 'c', 'd', 'e', 'f'].map((role) => [role]);
      for (const answer of await Promise.all(sets.map((roles) => asAdmin('PUT', `/admin/users/${user.userId}/roles`, { roles })))) {
        expect(answer.status).toBe(200);
      }
      const details = (await eventsOf('roles_changed', user.userId)).map((row) => row.detail as { from: string[]; to: string[] });
      expect(details).toHaveLength(sets.length);
      expect(details[0].from).toEqual(['user']);
      for (let index = 1; index < details.length; index++) expect(details[index].from).toEqual(details[index - 1].to);
      expect((await asAdmin('GET', `/admin/users/${user.userId}`)).body.roles).toEqual(details[details.length - 1].to);
    });

    it('audit disable and enable racing each other: the last event is the state that stays', async () => {
      const user = await registerAndLogin(app, 'toggle-race');
      const toggles = Array.from({ length: 8 }, (_, index) => asAdmin('POST', `/admin/users/${user.userId}/${index % 2 ? 'enable' : 'disable'}`));
      for (const answer of await Promise.all(toggles)) expect(answer.status).toBe(204);
      const disabled = (await asAdmin('GET', `/admin/users/${user.userId}`)).body.disabledAt !== null;
      const expected = disabled ? 'account_disabled' : 'account_enabled';
      expect(await app.app.get(AuthEvents).flush()).toBe(true);
      const { rows } = await db.query(`SELECT type FROM auth_events WHERE user_id = $1 AND type IN ('account_disabled', 'account_enabled') ORDER BY id`, [user.userId]);
      const types = rows.map((row) => row.type as string);
      // Alternating, starting with a disabling, ending with the state the account is in.
      expect(types.length).toBeGreaterThan(0);
      types.forEach((type, index) => expect(type).toBe(index % 2 ? 'account_enabled' : 'account_disabled'));
      expect(types.at(-1)).toBe(expected);
    });
  });

  describe('disable and enable', () => {
    it('kills the access tokens at once, then refuses login and refresh with 403 account_disabled, until enabled', async () => {
      const user = await registerAndLogin(app, 'disabled');
      const second = await login(app, user.email);
      // A token rotated before the disabling comes back afterwards too.
      const rotated = await app.request('POST', '/auth/refresh', { body: { refreshToken: second.refreshToken } });
      expect(rotated.status).toBe(200);

      expect((await asAdmin('POST', `/admin/users/${user.userId}/disable`)).status).toBe(204);
      expectErrorBody(await app.request('GET', '/users/me', { token: user.accessToken }), 401, 'session_revoked');
      expectErrorBody(await app.request('GET', '/users/me', { token: rotated.body.accessToken }), 401, 'session_revoked');
      expectErrorBody(await app.request('POST', '/auth/login', { body: { email: user.email, password: PASSWORD } }), 403, 'account_disabled');
      for (const refreshToken of [user.refreshToken, second.refreshToken, rotated.body.refreshToken]) {
        expectErrorBody(await app.request('POST', '/auth/refresh', { body: { refreshToken } }), 403, 'account_disabled');
      }
      // The wrong password still says only that.
      expectErrorBody(await app.request('POST', '/auth/login', { body: { email: user.email, password: 'not the password' } }), 401, 'invalid_credentials');

      const shown = await asAdmin('GET', `/admin/users/${user.userId}`);
      expect(new Date(shown.body.disabledAt).toISOString()).toBe(shown.body.disabledAt);
      expect((await asAdmin('GET', `/admin/users/${user.userId}/sessions`)).body).toEqual([]);
      // Disabling again changes nothing, not even when it was disabled.
      expect((await asAdmin('POST', `/admin/users/${user.userId}/disable`)).status).toBe(204);
      expect((await asAdmin('GET', `/admin/users/${user.userId}`)).body.disabledAt).toBe(shown.body.disabledAt);

      expect((await asAdmin('POST', `/admin/users/${user.userId}/enable`)).status).toBe(204);
      expect((await asAdmin('GET', `/admin/users/${user.userId}`)).body.disabledAt).toBeNull();
      const again = await login(app, user.email);
      expect((await app.request('GET', '/users/me', { token: again.accessToken })).status).toBe(200);
      // The sessions revoked by disabling stay revoked.
      expectErrorBody(await app.request('POST', '/auth/refresh', { body: { refreshToken: user.refreshToken } }), 401, 'session_revoked');

      const revoked = await eventsOf('session_revoked', user.userId);
      expect(revoked.map((row) => row.detail)).toEqual([
        { reason: 'account_disabled', actor: admin.userId },
        { reason: 'account_disabled', actor: admin.userId },
      ]);
      expect((await eventsOf('account_disabled', user.userId)).map((row) => row.detail)).toEqual([{ actor: admin.userId }]);
      expect((await eventsOf('account_enabled', user.userId)).map((row) => row.detail)).toEqual([{ actor: admin.userId }]);
    });

    it('leaves no live session behind for logins racing the disabling', async () => {
      const user = await registerAndLogin(app, 'race');
      const logins = Array.from({ length: 6 }, () => app.request('POST', '/auth/login', { body: { email: user.email, password: PASSWORD } }));
      const disabled = asAdmin('POST', `/admin/users/${user.userId}/disable`);
      const answers = await Promise.all(logins);
      expect((await disabled).status).toBe(204);
      for (const answer of answers) expect([200, 403]).toContain(answer.status);
      const { rows } = await db.query('SELECT count(*)::int AS live FROM auth_sessions WHERE user_id = $1 AND revoked_at IS NULL', [user.userId]);
      expect(rows[0].live).toBe(0);
      for (const answer of answers.filter((reply) => reply.status === 200)) {
        expectErrorBody(await app.request('GET', '/users/me', { token: answer.body.accessToken }), 401, 'session_revoked');
      }
    });

    it('refuses a body on every route that takes none, and changes nothing', async () => {
      const user = await registerAndLogin(app, 'disable-body');
      for (const [method, path] of [
        ['POST', `/admin/users/${user.userId}/disable`],
        ['POST', `/admin/users/${user.userId}/enable`],
        ['DELETE', `/admin/users/${user.userId}/sessions`],
        ['DELETE', `/admin/sessions/${user.sessionId}`],
      ]) {
        expectErrorBody(await asAdmin(method, path, { reason: 'spam' }), 400, 'validation_failed');
      }
      expect((await app.request('GET', '/users/me', { token: user.accessToken })).status).toBe(200);
    });
  });

  describe('sessions', () => {
    it("lists a user's live sessions without token material or current", async () => {
      const user = await registerAndLogin(app, 'sessions');
      const response = await asAdmin('GET', `/admin/users/${user.userId}/sessions`);
      expect(response.status).toBe(200);
      expect(response.body).toHaveLength(1);
      expect(Object.keys(response.body[0]).sort()).toEqual(ADMIN_SESSION_KEYS);
      expect(response.body[0].id).toBe(user.sessionId);
      expect(JSON.stringify(response.body)).not.toContain(user.refreshToken);
    });

    it('ends one session of anyone: its tokens die at once; session_revoked with reason admin', async () => {
      const user = await registerAndLogin(app, 'end-one');
      const other = await login(app, user.email);
      expect((await asAdmin('DELETE', `/admin/sessions/${user.sessionId}`)).status).toBe(204);
      expectErrorBody(await app.request('GET', '/users/me', { token: user.accessToken }), 401, 'session_revoked');
      expectErrorBody(await app.request('POST', '/auth/refresh', { body: { refreshToken: user.refreshToken } }), 401, 'session_revoked');
      expect((await app.request('GET', '/users/me', { token: other.accessToken })).status).toBe(200);
      // Already ended: not a live session any more.
      expectErrorBody(await asAdmin('DELETE', `/admin/sessions/${user.sessionId}`), 404, 'session_not_found');
      expect(await eventsOf('session_revoked', user.userId)).toEqual([{ session_id: user.sessionId, detail: { reason: 'admin', actor: admin.userId } }]);
    });

    it.each([UNKNOWN_UUID, 'not-a-uuid'])('answers 404 session_not_found for session %s', async (id) => {
      expectErrorBody(await asAdmin('DELETE', `/admin/sessions/${id}`), 404, 'session_not_found');
    });

    it('ends every session of a user', async () => {
      const user = await registerAndLogin(app, 'end-all');
      const other = await login(app, user.email);
      expect((await asAdmin('DELETE', `/admin/users/${user.userId}/sessions`)).status).toBe(204);
      for (const token of [user.accessToken, other.accessToken]) {
        expectErrorBody(await app.request('GET', '/users/me', { token }), 401, 'session_revoked');
      }
      expect((await asAdmin('GET', `/admin/users/${user.userId}/sessions`)).body).toEqual([]);
      // The user may log in again: only sessions ended, not the account.
      await login(app, user.email);
      const events = await eventsOf('session_revoked', user.userId);
      expect(events.map((row) => row.detail)).toEqual([
        { reason: 'admin', actor: admin.userId },
        { reason: 'admin', actor: admin.userId },
      ]);
    });
  });

  it('documents every admin route in the OpenAPI document, with its errors', async () => {
    const document = (await app.request('GET', '/docs-json')).body;
    const operations = [
      ['/admin/users', 'get', ['200', '400', '401', '403']],
      ['/admin/users/{id}', 'get', ['200', '401', '403', '404']],
      ['/admin/users/{id}/roles', 'put', ['200', '400', '401', '403', '404']],
      ['/admin/users/{id}/disable', 'post', ['204', '401', '403', '404']],
      ['/admin/users/{id}/enable', 'post', ['204', '401', '403', '404']],
      ['/admin/users/{id}/sessions', 'get', ['200', '401', '403', '404']],
      ['/admin/users/{id}/sessions', 'delete', ['204', '401', '403', '404']],
      ['/admin/sessions/{id}', 'delete', ['204', '401', '403', '404']],
    ] as const;
    for (const [path, method, statuses] of operations) {
      const operation = document.paths[path]?.[method];
      expect({ path, method, found: Boolean(operation) }).toEqual({ path, method, found: true });
      expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining([...statuses]));
      expect(operation.security).toEqual(expect.arrayContaining([expect.objectContaining({ bearer: [] })]));
    }
    const schemaName = (ref: string) => ref.split('/').pop()!;
    const user = document.components.schemas[schemaName(document.paths['/admin/users/{id}'].get.responses['200'].content['application/json'].schema.$ref)];
    expect(Object.keys(user.properties).sort()).toEqual(ADMIN_USER_KEYS);
    expect(user.properties.disabledAt.nullable).toBe(true);
  });
});
