import { startTestApp, type TestApp, type TestResponse } from './support/test-app.js';
import { PASSWORD, registerAndLogin, uniqueEmail } from './support/users.js';

// Password hashing is bounded: at most PASSWORD_HASH_CONCURRENCY hashes at once, PASSWORD_HASH_QUEUE
// more waiting, and whatever comes past that is answered 503 service_unavailable with Retry-After at
// once, rather than every request waiting longer. Routes that hash nothing keep answering meanwhile.
// Outcomes only: which requests of a burst were refused depends on timing, so no test says which.

describe('a burst of logins with PASSWORD_HASH_CONCURRENCY=1 and PASSWORD_HASH_QUEUE=1', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ PASSWORD_HASH_CONCURRENCY: '1', PASSWORD_HASH_QUEUE: '1' });
  });
  afterAll(() => app.close());

  it('answers some 503 with Retry-After, the rest as usual (200 or 401), never 500; /auth/claims keeps answering meanwhile', async () => {
    const user = await registerAndLogin(app, 'hash-burst');
    const attempts = Array.from({ length: 10 }, (_, index) =>
      index % 3 === 0
        ? { expected: 200, body: { email: user.email, password: PASSWORD } }
        : index % 3 === 1
          ? { expected: 401, body: { email: user.email, password: 'not the password at all' } }
          : { expected: 401, body: { email: uniqueEmail('nobody'), password: PASSWORD } }, // the dummy hash, in the same queue
    );
    const burst = attempts.map(({ body }) => app.request('POST', '/auth/login', { body }));
    const claims: TestResponse[] = [];
    for (let index = 0; index < 5; index++) claims.push(await app.request('GET', '/auth/claims', { token: user.accessToken }));
    const answers = await Promise.all(burst);

    const outcomes = answers.map((answer, index) => ({ status: answer.status, code: answer.body?.code, expected: attempts[index].expected }));
    const refused = answers.filter((answer) => answer.status === 503);
    expect({ someRefused: refused.length > 0, someServed: refused.length < answers.length, outcomes }).toEqual({
      someRefused: true,
      someServed: true,
      outcomes,
    });
    for (const answer of refused) {
      expect(answer.body).toMatchObject({ statusCode: 503, code: 'service_unavailable' });
      expect(answer.headers.get('retry-after')).toBe('1');
    }
    // Every other attempt got the answer it would have had alone.
    for (const { status, code, expected } of outcomes) {
      if (status === 503) continue;
      expect({ status, code }).toEqual(expected === 200 ? { status: 200, code: undefined } : { status: 401, code: 'invalid_credentials' });
    }
    expect(claims.map((response) => response.status)).toEqual([200, 200, 200, 200, 200]);

    // The burst over, logins are served again.
    const after = await app.request('POST', '/auth/login', { body: { email: user.email, password: PASSWORD } });
    expect(after.status).toBe(200);
  });

  it('bounds register and password change the same way', async () => {
    const user = await registerAndLogin(app, 'hash-burst-other');
    const registrations = Array.from({ length: 6 }, () => app.request('POST', '/auth/register', { body: { email: uniqueEmail('burst'), password: PASSWORD } }));
    const change = app.request('POST', '/auth/password', { token: user.accessToken, body: { currentPassword: PASSWORD, newPassword: 'a new correct horse' } });
    const answers = await Promise.all([...registrations, change]);
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((status) => status === 503).length).toBeGreaterThan(0);
    expect(statuses.every((status) => [201, 204, 503].includes(status))).toBe(true);
    for (const answer of answers.filter(({ status }) => status === 503)) {
      expect(answer.body.code).toBe('service_unavailable');
      expect(answer.headers.get('retry-after')).toBe('1');
    }
  });
});
