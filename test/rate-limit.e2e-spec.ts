import { randomUUID } from 'node:crypto';
import { type AuthEvent, AuthEvents } from '../src/auth/index.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { PASSWORD, registerAndLogin, uniqueEmail } from './support/users.js';

/** TRUST_PROXY lets each test speak from its own client address, so the counters do not mix. */
let nextAddress = 1;
const fromNewAddress = () => ({ 'x-forwarded-for': `198.51.100.${nextAddress++}` });

describe('rate limits on the credential routes', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ RATE_LIMIT: 'on', TRUST_PROXY: '1' });
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
    // Each refusal is a login_throttled event, naming no account.
    const throttled: AuthEvent[] = [];
    const unsubscribe = app.app.get(AuthEvents).subscribe((event) => void (event.type === 'login_throttled' && throttled.push(event)));
    // The limit holds even for the right password, and is keyed on the normalised email.
    const blocked = await app.request('POST', '/auth/login', {
      body: { email: ` ${email.toUpperCase()} `, password: PASSWORD },
      headers: fromNewAddress(),
    });
    expect(blocked.status).toBe(429);
    unsubscribe();
    expect(throttled).toEqual([expect.objectContaining({ userId: null, ip: expect.stringMatching(/^198\.51\.100\./), detail: { scope: 'account' } })]);
  });

  it('counts an account by its normalised email, whatever padding, case or Unicode form', async () => {
    const email = uniqueEmail('bob');
    expect((await app.request('POST', '/auth/register', { body: { email, password: PASSWORD }, headers: fromNewAddress() })).status).toBe(201);
    const { statuses } = await loginAttempts(10, email, fromNewAddress);
    expect(statuses.every((status) => status === 401)).toBe(true);
    // Padded past the longest email, the key used to be skipped: the right password then got in.
    for (const variant of [`${' '.repeat(260)}${email}`, email.toUpperCase(), `\t${email.toUpperCase()}${' '.repeat(300)}`]) {
      const response = await app.request('POST', '/auth/login', { body: { email: variant, password: PASSWORD }, headers: fromNewAddress() });
      expect(response.status).toBe(429);
      expect(response.body.code).toBe('rate_limited');
    }

    // Composed and decomposed accents are one account (Unicode NFC), known or not.
    const composed = `jos\u00e9-${randomUUID()}@example.test`;
    expect((await loginAttempts(10, composed, fromNewAddress)).statuses.every((status) => status === 401)).toBe(true);
    const decomposed = await app.request('POST', '/auth/login', {
      body: { email: ` ${composed.normalize('NFD').toUpperCase()}`, password: 'wrong password' },
      headers: fromNewAddress(),
    });
    expect(decomposed.status).toBe(429);
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

  /** A fresh account and its access token, from an address of its own. */
  async function newUser(label: string) {
    const email = uniqueEmail(label);
    expect((await app.request('POST', '/auth/register', { body: { email, password: PASSWORD }, headers: fromNewAddress() })).status).toBe(201);
    const login = await app.request('POST', '/auth/login', { body: { email, password: PASSWORD }, headers: fromNewAddress() });
    expect(login.status).toBe(200);
    return { email, accessToken: login.body.accessToken as string };
  }

  const changePassword = (accessToken: string, currentPassword: string, headers: Record<string, string>) =>
    app.request('POST', '/auth/password', { body: { currentPassword, newPassword: 'a brand new password' }, token: accessToken, headers });

  it('limits password changes per account, from any address, before any hashing', async () => {
    const { email, accessToken } = await newUser('changer');
    for (let attempt = 0; attempt < 10; attempt++) {
      const wrong = await changePassword(accessToken, 'wrong password', fromNewAddress());
      expect(wrong.status).toBe(401);
      expect(wrong.body.code).toBe('invalid_credentials');
    }
    // The right current password now gets the same refusal: it is answered before the handler hashes anything.
    const blocked = await changePassword(accessToken, PASSWORD, fromNewAddress());
    expect(blocked.status).toBe(429);
    expect(blocked.body.code).toBe('rate_limited');
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    // Nothing changed: the old password still logs in, the new one does not.
    const login = (password: string) => app.request('POST', '/auth/login', { body: { email, password }, headers: fromNewAddress() });
    expect((await login(PASSWORD)).status).toBe(200);
    expect((await login('a brand new password')).status).toBe(401);
  });

  it('limits password changes per client address across accounts', async () => {
    const users = [await newUser('spray-a'), await newUser('spray-b'), await newUser('spray-c'), await newUser('spray-d')];
    const address = fromNewAddress();
    const statuses: number[] = [];
    // Ten per account stays under each account's limit; the address reaches its 30 a minute.
    for (const { accessToken } of users.slice(0, 3)) {
      for (let attempt = 0; attempt < 10; attempt++) statuses.push((await changePassword(accessToken, 'wrong password', address)).status);
    }
    expect(statuses.every((status) => status === 401)).toBe(true);
    expect((await changePassword(users[3].accessToken, 'wrong password', address)).status).toBe(429);
    expect((await changePassword(users[3].accessToken, 'wrong password', fromNewAddress())).status).toBe(401);
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
