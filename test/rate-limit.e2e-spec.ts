import { startTestApp, type TestApp } from './support/test-app.js';
import { PASSWORD, registerAndLogin, uniqueEmail } from './support/users.js';

/** TRUST_PROXY lets each test speak from its own client address, so the counters do not mix. */
let nextAddress = 1;
const fromNewAddress = () => ({ 'x-forwarded-for': `198.51.100.${nextAddress++}` });

describe('rate limits on the credential routes', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ RATE_LIMIT: 'on', TRUST_PROXY: 'true' });
  });
  afterAll(() => app.close());

  async function loginAttempts(count: number, email: string, headers: () => Record<string, string>) {
    const statuses: number[] = [];
    let last;
    for (let attempt = 0; attempt < count; attempt++) {
      last = await app.request('POST', '/auth/login', { body: { email, password: 'wrong password' }, headers: headers() });
      statuses.push(last.status);
    }
    return { statuses, last: last! };
  }

  it('limits login attempts per account from many addresses, known and unknown accounts alike', async () => {
    const email = uniqueEmail('limited');
    expect((await app.request('POST', '/auth/register', { body: { email, password: PASSWORD }, headers: fromNewAddress() })).status).toBe(201);
    for (const target of [email, uniqueEmail('nobody')]) {
      const { statuses, last } = await loginAttempts(11, target, fromNewAddress);
      expect(statuses.slice(0, 10).every((status) => status === 401)).toBe(true);
      expect(last.status).toBe(429);
      expect(last.body.code).toBe('rate_limited');
      expect(Number(last.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    // The limit holds even for the right password, and is keyed on the normalised email.
    const blocked = await app.request('POST', '/auth/login', {
      body: { email: ` ${email.toUpperCase()} `, password: PASSWORD },
      headers: fromNewAddress(),
    });
    expect(blocked.status).toBe(429);
  });

  it('limits login attempts per client address across accounts', async () => {
    const address = fromNewAddress();
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 31; attempt++) {
      const response = await app.request('POST', '/auth/login', {
        body: { email: uniqueEmail('spray'), password: 'wrong password' },
        headers: address,
      });
      statuses.push(response.status);
    }
    expect(statuses.slice(0, 30).every((status) => status === 401)).toBe(true);
    expect(statuses[30]).toBe(429);
    // Another address is unaffected.
    const other = await app.request('POST', '/auth/login', {
      body: { email: uniqueEmail('other'), password: 'wrong password' },
      headers: fromNewAddress(),
    });
    expect(other.status).toBe(401);
  });

  it('limits registrations and refreshes per client address', async () => {
    const address = fromNewAddress();
    const registrations = [];
    for (let attempt = 0; attempt < 11; attempt++) {
      registrations.push(
        (await app.request('POST', '/auth/register', { body: { email: uniqueEmail('reg'), password: PASSWORD }, headers: address })).status,
      );
    }
    expect(registrations.slice(0, 10).every((status) => status === 201)).toBe(true);
    expect(registrations[10]).toBe(429);

    const refreshAddress = fromNewAddress();
    const refreshes = await Promise.all(
      Array.from({ length: 121 }, () =>
        app.request('POST', '/auth/refresh', { body: { refreshToken: 'x'.repeat(43) }, headers: refreshAddress }),
      ),
    );
    expect(refreshes.filter((response) => response.status === 401)).toHaveLength(120);
    expect(refreshes.filter((response) => response.status === 429)).toHaveLength(1);
  });

  it('leaves the other routes alone', async () => {
    const { accessToken } = await registerAndLogin(app, 'free');
    const address = fromNewAddress();
    const responses = await Promise.all(
      Array.from({ length: 200 }, () => app.request('GET', '/auth/claims', { token: accessToken, headers: address })),
    );
    expect(responses.every((response) => response.status === 200)).toBe(true);
  });
});
