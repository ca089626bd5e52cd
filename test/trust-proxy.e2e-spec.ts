import { expectErrorBody } from './support/http-contract.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { PASSWORD, uniqueEmail } from './support/users.js';

// The test client connects from 127.0.0.1, so that is the socket's peer (the first proxy, if any).
const LOGINS_PER_CLIENT = 30;

/** Registers and logs in with `X-Forwarded-For: forwardedFor`; returns the address the new session recorded. */
async function sessionAddress(app: TestApp, forwardedFor: string): Promise<string> {
  const email = uniqueEmail('proxied');
  const headers = { 'x-forwarded-for': forwardedFor };
  expect((await app.request('POST', '/auth/register', { body: { email, password: PASSWORD }, headers })).status).toBe(201);
  const login = await app.request('POST', '/auth/login', { body: { email, password: PASSWORD }, headers });
  expect(login.status).toBe(200);
  const sessions = await app.request('GET', '/auth/sessions', { token: login.body.accessToken });
  expect(sessions.status).toBe(200);
  return sessions.body.find((session: { current: boolean }) => session.current).ip;
}

/** 40 failed logins, each of a fresh account (so only the per-client limit counts) with its own forged left-most entry. */
async function loginStatuses(app: TestApp, forwardedFor: (attempt: number) => string): Promise<number[]> {
  const statuses: number[] = [];
  for (let attempt = 1; attempt <= 40; attempt++) {
    const body = { email: uniqueEmail('nobody'), password: 'wrong password' };
    statuses.push((await app.request('POST', '/auth/login', { body, headers: { 'x-forwarded-for': forwardedFor(attempt) } })).status);
  }
  return statuses;
}

const limitedAfter = (count: number) => [...Array(count).fill(401), ...Array(40 - count).fill(429)];

describe('TRUST_PROXY unset: X-Forwarded-For is ignored', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ RATE_LIMIT: 'on' });
  });
  afterAll(() => app.close());

  it('records the socket address, whatever the header says', async () => {
    expect(await sessionAddress(app, '198.51.100.1, 192.0.2.1')).toBe('127.0.0.1');
  });
});

describe('TRUST_PROXY=1: one proxy, the right-most entry is the client', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ RATE_LIMIT: 'on', TRUST_PROXY: '1' });
  });
  afterAll(() => app.close());

  it('records the right-most entry, never the client-written left-most one', async () => {
    expect(await sessionAddress(app, '198.51.100.1, 192.0.2.44')).toBe('192.0.2.44');
  });

  it('counts logins that forge a new left-most entry each time as one client, and limits them', async () => {
    expect(await loginStatuses(app, (attempt) => `203.0.113.${attempt}, 127.0.0.1`)).toEqual(limitedAfter(LOGINS_PER_CLIENT));
    // The same client as a request with no header at all: 127.0.0.1.
    const direct = await app.request('POST', '/auth/login', { body: { email: uniqueEmail('nobody'), password: 'wrong password' } });
    expectErrorBody(direct, 429, 'rate_limited');
  });
});

describe('TRUST_PROXY as a list: only the listed proxies are believed', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ RATE_LIMIT: 'on', TRUST_PROXY: '127.0.0.1, 10.0.0.0/8' });
  });
  afterAll(() => app.close());

  it('walks past listed proxies to the first address that is not one', async () => {
    expect(await sessionAddress(app, '198.51.100.7, 10.2.3.4')).toBe('198.51.100.7');
    expect(await sessionAddress(app, '198.51.100.7, 192.0.2.5, 10.2.3.4')).toBe('192.0.2.5');
  });

  it('counts logins behind an unlisted hop as that hop, and limits them', async () => {
    expect(await loginStatuses(app, (attempt) => `203.0.113.${attempt}, 192.0.2.99, 10.0.0.1`)).toEqual(limitedAfter(LOGINS_PER_CLIENT));
  });
});
