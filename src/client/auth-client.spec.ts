import { type AuthClientOptions, createAuthClient, type SessionChange, type TokenStorage } from './index.js';

// A fake API in memory: the client's logic (single flight, retries, terminal answers, tabs) without a server.
const API = 'https://api.example.test';

function jwt(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'at+jwt' })}.${part(claims)}.signature`;
}

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const refused = (status: number, code: string) => json(status, { statusCode: status, error: 'Refused', message: 'Refused.', code });

class FakeApi {
  refreshes = 0;
  generation = 0;
  /** What the next refreshes answer instead of a new pair. */
  refreshAnswer: (() => Response) | undefined;
  /** Access tokens the API calls expired, whatever their exp says. */
  readonly expired = new Set<string>();
  readonly seen: { url: string; authorization: string | null }[] = [];
  readonly refreshBodies: unknown[] = [];
  lifetimeS = 900;

  pair() {
    const now = Math.floor(Date.now() / 1000);
    this.generation += 1;
    const accessToken = jwt({ sub: 'user-1', sid: 'session-1', roles: ['user'], iat: now, exp: now + this.lifetimeS, jti: String(this.generation) });
    return { accessToken, tokenType: 'Bearer', expiresIn: this.lifetimeS, refreshToken: `rt-${this.generation}`, refreshTokenExpiresIn: 3600, sessionId: 'session-1' };
  }

  fetch = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const authorization = request.headers.get('authorization');
    this.seen.push({ url: request.url, authorization });
    await new Promise((resolve) => setTimeout(resolve, 5));
    if (url.pathname === '/auth/login') return json(200, this.pair());
    if (url.pathname === '/auth/refresh') {
      this.refreshes += 1;
      const body = await request.text(); // empty with the cookie transport
      this.refreshBodies.push(body ? JSON.parse(body) : undefined);
      return this.refreshAnswer?.() ?? json(200, this.pair());
    }
    if (url.pathname === '/auth/logout') return new Response(null, { status: 204 });
    const token = authorization?.replace(/^Bearer /, '');
    if (!token) return refused(401, 'token_invalid');
    if (this.expired.has(token)) return refused(401, 'token_expired');
    return json(200, { ok: true, token });
  };
}

function memoryStorage(): TokenStorage & { value: string | null } {
  return {
    value: null,
    get() {
      return this.value;
    },
    set(token) {
      this.value = token;
    },
    remove() {
      this.value = null;
    },
  };
}

function clientOf(api: FakeApi, options: Partial<AuthClientOptions> = {}) {
  const client = createAuthClient({ baseUrl: API, transport: 'body', fetch: api.fetch, autoRefresh: false, ...options });
  const changes: [string | null, SessionChange][] = [];
  client.onSessionChange((session, change) => changes.push([session?.sessionId ?? null, change]));
  return { client, changes, signOuts: () => changes.filter(([session]) => session === null) };
}

/** A client of `api`, logged in, and its first access token. */
async function signedIn(api: FakeApi, options: Partial<AuthClientOptions> = {}) {
  const made = clientOf(api, options);
  await made.client.login({ email: 'a@example.test', password: 'pw' });
  return { ...made, token: (await made.client.getAccessToken())! };
}

const tokenOf = async (response: Response) => ((await response.json()) as { token: string }).token;

describe('createAuthClient', () => {
  const realNow = Date.now;
  afterEach(() => {
    Date.now = realNow;
  });

  it('shares one refresh among 50 callers whose token has expired here', async () => {
    const api = new FakeApi();
    const { client } = await signedIn(api);
    const skewed = realNow() + 1000 * api.lifetimeS;
    Date.now = () => skewed;
    const tokens = await Promise.all(Array.from({ length: 50 }, () => client.getAccessToken()));
    expect(api.refreshes).toBe(1);
    expect(new Set(tokens).size).toBe(1);
  });

  it('on 401 token_expired refreshes once for all waiting requests and retries each once', async () => {
    const api = new FakeApi();
    const { client, token: stale } = await signedIn(api);
    api.expired.add(stale);
    const responses = await Promise.all(Array.from({ length: 50 }, () => client.fetch(`${API}/users/me`)));
    expect(responses.map((response) => response.status)).toEqual(Array(50).fill(200));
    expect(api.refreshes).toBe(1);
    const used = await Promise.all(responses.map(tokenOf));
    expect(new Set(used)).toEqual(new Set([await client.getAccessToken()]));
    expect(api.seen.filter((request) => request.url.endsWith('/users/me'))).toHaveLength(100);
  });

  it('returns the second 401 to the caller instead of refreshing again', async () => {
    const api = new FakeApi();
    const { client, token: first } = await signedIn(api);
    api.expired.add(first);
    const originalPair = api.pair.bind(api);
    api.pair = () => {
      const pair = originalPair();
      api.expired.add(pair.accessToken);
      return pair;
    };
    const response = await client.fetch(`${API}/users/me`);
    expect(response.status).toBe(401);
    expect(api.refreshes).toBe(1);
  });

  it.each(['refresh_token_reused', 'refresh_token_invalid', 'refresh_token_expired', 'session_revoked', 'account_disabled'])(
    'ends the session once on %s, and asks the server no more',
    async (code) => {
      const api = new FakeApi();
      const { client, signOuts, token } = await signedIn(api);
      api.refreshAnswer = () => refused(code === 'account_disabled' ? 403 : 401, code);
      api.expired.add(token);
      const responses = await Promise.all(Array.from({ length: 10 }, () => client.fetch(`${API}/users/me`)));
      expect(responses.map((response) => response.status)).toEqual(Array(10).fill(401));
      expect(api.refreshes).toBe(1);
      expect(signOuts()).toEqual([[null, { type: 'signed_out', reason: code }]]);
      expect(await client.getAccessToken()).toBeNull();
      expect(api.refreshes).toBe(1);
    },
  );

  it('ends the session on a Bearer request refused as session_revoked', async () => {
    const api = new FakeApi();
    const fetch = api.fetch;
    api.fetch = async (request) => (new URL(request.url).pathname === '/users/me' ? refused(401, 'session_revoked') : fetch(request));
    const { client, signOuts } = await signedIn(api);
    await Promise.all([client.fetch(`${API}/users/me`), client.fetch(`${API}/users/me`)]);
    expect(signOuts()).toEqual([[null, { type: 'signed_out', reason: 'session_revoked' }]]);
  });

  it('keeps the session through a refresh failing for want of a network, and says so to the caller', async () => {
    const api = new FakeApi();
    const { client, signOuts } = await signedIn(api);
    api.refreshAnswer = () => refused(503, 'service_unavailable');
    const skewed = realNow() + 1000 * api.lifetimeS;
    Date.now = () => skewed;
    await expect(client.getAccessToken()).rejects.toMatchObject({ name: 'AuthClientError', status: 503, code: 'service_unavailable' });
    expect(signOuts()).toEqual([]);
    api.refreshAnswer = undefined;
    expect(await client.getAccessToken()).toEqual(expect.any(String));
  });

  it('sends the Bearer token to trusted origins only, and never over an Authorization of the caller', async () => {
    const api = new FakeApi();
    const { client, token } = await signedIn(api, { trustedOrigins: ['https://files.example.test'] });
    for (const url of [
      `${API}/users/me`,
      'https://files.example.test/x',
      'https://api.example.test.evil.test/x',
      'http://api.example.test/x',
      'https://api.example.test:8443/x',
    ]) {
      await client.fetch(url);
    }
    await client.fetch(`${API}/users/me`, { headers: { authorization: 'Bearer mine' } });
    const sent = api.seen.filter((request) => !request.url.includes('/auth/'));
    expect(sent.map(({ authorization }) => authorization)).toEqual([`Bearer ${token}`, `Bearer ${token}`, null, null, null, 'Bearer mine']);
  });

  it('works as an openapi-fetch middleware, retrying once on expiry', async () => {
    const createClient = (await import('openapi-fetch')).default;
    const api = new FakeApi();
    const { client, token } = await signedIn(api);
    api.expired.add(token);
    const typed = createClient<{ '/users/me': { get: { responses: { 200: { content: { 'application/json': { token: string } } } } } } }>({
      baseUrl: API,
      fetch: api.fetch,
    });
    typed.use(client.middleware);
    const [one, two] = await Promise.all([typed.GET('/users/me'), typed.GET('/users/me')]);
    expect(one.data?.token).toBe(await client.getAccessToken());
    expect(two.data?.token).toBe(await client.getAccessToken());
    expect(api.refreshes).toBe(1);
  });

  it('keeps the refresh token in the storage given, and presents a newer one written there by someone else', async () => {
    const api = new FakeApi();
    const storage = memoryStorage();
    const { client } = await signedIn(api, { storage });
    expect(storage.value).toBe('rt-1');
    storage.value = 'rt-from-another-process';
    const skewed = realNow() + 1000 * api.lifetimeS;
    Date.now = () => skewed;
    await client.getAccessToken();
    expect(api.refreshBodies).toEqual([{ refreshToken: 'rt-from-another-process' }]);
    expect(storage.value).toBe('rt-2');
    await client.logout();
    expect(storage.value).toBeNull();
  });

  it('restores a session from storage, and ends it without a reason when there is none', async () => {
    const api = new FakeApi();
    const storage = memoryStorage();
    storage.value = 'rt-0';
    const { client, changes } = clientOf(api, { storage });
    expect((await client.getSession())?.sessionId).toBe('session-1');
    expect(changes).toEqual([['session-1', { type: 'signed_in' }]]);
    const { client: empty, changes: emptyChanges } = clientOf(api, { storage: memoryStorage() });
    expect(await empty.getSession()).toBeNull();
    expect(emptyChanges).toEqual([[null, { type: 'signed_out' }]]);
  });

  it('restoring from a cookie when there is none ends without a reason', async () => {
    const api = new FakeApi();
    api.refreshAnswer = () => refused(401, 'refresh_token_invalid');
    const { client, changes } = clientOf(api, { transport: 'cookie' });
    expect(await client.getSession()).toBeNull();
    expect(changes).toEqual([[null, { type: 'signed_out' }]]);
  });

  it('logout forgets the session and tells the listeners once', async () => {
    const api = new FakeApi();
    const { client, signOuts } = await signedIn(api);
    await client.logout();
    await client.logout();
    expect(signOuts()).toEqual([[null, { type: 'signed_out', reason: 'logout' }]]);
    expect(await client.getAccessToken()).toBeNull();
    expect(api.seen.filter((request) => request.url.endsWith('/auth/logout'))).toHaveLength(1);
  });

  describe('across tabs (BroadcastChannel)', () => {
    const tabs: { close(): void }[] = [];
    afterEach(() => tabs.splice(0).forEach((tab) => tab.close()));
    const tab = (api: FakeApi) => {
      const opened = clientOf(api, { crossTab: true, tabSyncMs: 50 });
      tabs.push(opened.client);
      return opened;
    };
    const until = async (condition: () => boolean) => {
      for (let i = 0; i < 100 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    };

    it('a sign-in and a sign-out in one tab reach the others', async () => {
      const api = new FakeApi();
      const one = tab(api);
      const two = tab(api);
      await one.client.login({ email: 'a@example.test', password: 'pw' });
      await until(() => two.changes.length > 0);
      expect(two.changes).toEqual([['session-1', { type: 'signed_in' }]]);
      expect(await two.client.getAccessToken()).toBe(await one.client.getAccessToken());
      await one.client.logout();
      await until(() => two.signOuts().length > 0);
      expect(two.signOuts()).toEqual([[null, { type: 'signed_out', reason: 'logout' }]]);
    });

    it('logoutAll signs the other tabs out before the server revokes their session', async () => {
      const api = new FakeApi();
      let revoked = false;
      const fetch = api.fetch;
      api.fetch = async (request) => {
        if (new URL(request.url).pathname === '/auth/logout-all') {
          await until(() => two.signOuts().length > 0);
          revoked = true;
          // The other tab's request, now that the server has revoked the session.
          await two.client.fetch(`${API}/users/me`);
          return new Response(null, { status: 204 });
        }
        return revoked && request.headers.has('authorization') ? refused(401, 'session_revoked') : fetch(request);
      };
      const one = tab(api);
      const two = tab(api);
      await one.client.login({ email: 'a@example.test', password: 'pw' });
      await until(() => two.changes.length > 0);
      await one.client.logoutAll();
      expect(one.signOuts()).toEqual([[null, { type: 'signed_out', reason: 'logout_all' }]]);
      expect(two.signOuts()).toEqual([[null, { type: 'signed_out', reason: 'logout_all' }]]);
    });

    it('a logout is not undone by a refresh of that session answered after it', async () => {
      const api = new FakeApi();
      const one = tab(api);
      const two = tab(api);
      await one.client.login({ email: 'a@example.test', password: 'pw' });
      await until(() => two.changes.length > 0);
      // Two's refresh was answered after one's logout began, but before the logout's message reached it.
      api.expired.add((await two.client.getAccessToken())!);
      const refreshed = (await two.client.fetch(`${API}/users/me`)).status;
      await until(() => one.changes.length > 1);
      const now = Date.now();
      Date.now = () => now - 1000;
      await one.client.logout();
      Date.now = realNow;
      await until(() => two.signOuts().length > 0);
      // And a tab still broadcasting that session afterwards does not sign the others back in.
      const late = new BroadcastChannel(`auth-client ${API}/`);
      late.postMessage({ type: 'session', session: { accessToken: (api.pair()).accessToken, expiresAt: now + 60_000, obtainedAt: now + 1, sentAt: now } });
      late.close();
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(refreshed).toBe(200);
      expect(two.signOuts()).toEqual([[null, { type: 'signed_out', reason: 'logout' }]]);
      expect(one.changes.at(-1)).toEqual([null, { type: 'signed_out', reason: 'logout' }]);
      expect(await one.client.getAccessToken()).toBeNull();
    });

    it('a new tab adopts the session of the others instead of refreshing', async () => {
      const api = new FakeApi();
      const one = tab(api);
      await one.client.login({ email: 'a@example.test', password: 'pw' });
      const late = tab(api);
      expect(await late.client.getAccessToken()).toBe(await one.client.getAccessToken());
      expect(api.refreshes).toBe(0);
    });
  });
});
