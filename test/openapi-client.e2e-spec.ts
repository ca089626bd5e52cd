import createClient from 'openapi-fetch';
import type { components, paths } from '../src/client/openapi-types.js';
import { setCookieOf } from './support/http-contract.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { PASSWORD, uniqueEmail } from './support/users.js';

/** True only when A and B are the same type (not merely assignable). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const exactly = <A, B>(proof: Equal<A, B>) => proof;

type TokenPair = components['schemas']['TokenPairDto'];

// A consumer's view: the client generated from openapi.json (src/client/openapi-types.ts) with
// openapi-fetch, over real HTTP. This file type-checks in `npm test` (npm run typecheck): a document
// that loses a precise type breaks the build, not only a run.
describe('a client generated from openapi.json', () => {
  let app: TestApp;
  let client: ReturnType<typeof createClient<paths>>;
  beforeAll(async () => {
    app = await startTestApp();
    client = createClient<paths>({ baseUrl: app.baseUrl });
  });
  afterAll(() => app.close());

  const bearer = (pair: TokenPair) => ({ authorization: `Bearer ${pair.accessToken}` });

  it('drives register → login → /users/me → refresh (body, then cookie) → logout with precise types', async () => {
    const email = uniqueEmail('typed-client');

    const registered = await client.POST('/auth/register', { body: { email, password: PASSWORD, displayName: 'Ada' } });
    expect(registered.response.status).toBe(201);
    const user: components['schemas']['UserDto'] | undefined = registered.data;
    expect(user).toMatchObject({ email, displayName: 'Ada', roles: ['user'] });

    const loggedIn = await client.POST('/auth/login', { body: { email, password: PASSWORD } });
    expect(loggedIn.response.status).toBe(200);
    const pair = loggedIn.data!;
    exactly<typeof pair.tokenType, 'Bearer'>(true);
    exactly<typeof pair.expiresIn, number>(true);
    expect(pair.tokenType).toBe('Bearer');

    const me = await client.GET('/users/me', { headers: bearer(pair) });
    expect(me.data).toEqual(user);

    const rotated = await client.POST('/auth/refresh', { body: { refreshToken: pair.refreshToken } });
    expect(rotated.response.status).toBe(200);
    expect(rotated.data!.sessionId).toBe(pair.sessionId);
    expect(rotated.data!.refreshToken).not.toBe(pair.refreshToken);

    // The cookie alone, as a browser would send it, with the declared X-Requested-With header.
    const cookie = setCookieOf(rotated.response, 'refresh_token');
    expect(cookie?.value).toBe(rotated.data!.refreshToken);
    const byCookie = await client.POST('/auth/refresh', {
      params: { header: { 'X-Requested-With': 'openapi-fetch' } },
      headers: { cookie: `refresh_token=${cookie!.value}` },
    });
    expect(byCookie.response.status).toBe(200);
    const current = byCookie.data!;
    expect(current.sessionId).toBe(pair.sessionId);

    const loggedOut = await client.POST('/auth/logout', { headers: bearer(current) });
    expect(loggedOut.response.status).toBe(204);
    expect(loggedOut.response.headers.getSetCookie().join()).toMatch(/refresh_token=;/);

    const afterLogout = await client.GET('/users/me', { headers: bearer(current) });
    expect(afterLogout.error?.code).toBe('session_revoked');
  });

  it('types each error with the codes its route and status answer', async () => {
    const email = uniqueEmail('typed-errors');
    const failed = await client.POST('/auth/login', { body: { email, password: 'not the password' } });
    expect(failed.data).toBeUndefined();
    const error = failed.error!;
    exactly<
      typeof error.code,
      'validation_failed' | 'invalid_credentials' | 'account_disabled' | 'payload_too_large' | 'unsupported_media_type' | 'rate_limited' | 'service_unavailable'
    >(true);
    expect(error).toMatchObject({ statusCode: 401, error: 'Unauthorized', code: 'invalid_credentials' });
    // The status narrows the code.
    if (error.statusCode === 401) exactly<typeof error.code, 'invalid_credentials'>(true);
    // @ts-expect-error login never answers email_taken: comparing with it does not compile.
    expect(error.code === 'email_taken').toBe(false);

    await client.POST('/auth/register', { body: { email, password: PASSWORD } });
    const taken = await client.POST('/auth/register', { body: { email, password: PASSWORD } });
    expect(taken.response.status).toBe(409);
    const takenError = taken.error!;
    if (takenError.statusCode === 409) exactly<typeof takenError.code, 'email_taken'>(true);
    expect(takenError.code).toBe('email_taken');

    const invalid = await client.POST('/auth/register', { body: { email: 'not an email', password: PASSWORD } });
    expect(invalid.response.status).toBe(400);
    if (invalid.error?.statusCode === 400) expect(invalid.error.details).toEqual(expect.arrayContaining([expect.stringMatching(/email/)]));
    else throw new Error('expected a 400');

    const csrf = await client.POST('/auth/refresh', { headers: { cookie: 'refresh_token=whatever' } });
    expect(csrf.error).toMatchObject({ statusCode: 403, code: 'csrf_rejected' });
  });
});
