import { execFile } from 'node:child_process';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startTestApp, type TestApp } from './support/test-app.js';
import { login, registerAndLogin } from './support/users.js';

// What `npm run keys:generate` runs after building; jest's global setup has built dist/ already.
const GENERATE_KEY = fileURLToPath(new URL('../dist/scripts/generate-key.js', import.meta.url));
const run = promisify(execFile);

interface PrivateJwk {
  kid: string;
  alg: string;
  use: string;
  kty: string;
  d?: string;
  [member: string]: unknown;
}

async function generateKey(...args: string[]): Promise<PrivateJwk> {
  const { stdout } = await run(process.execPath, [GENERATE_KEY, ...args]);
  return JSON.parse(stdout) as PrivateJwk;
}

const kidOf = (token: string): string => JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8')).kid;

describe('npm run keys:generate', () => {
  it('prints one private ES256 JWK by default, with kid, alg and use', async () => {
    const jwk = await generateKey();
    expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig', kid: expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect(createPrivateKey({ key: jwk as never, format: 'jwk' }).asymmetricKeyType).toBe('ec');
  });

  it('prints an RSA 2048 JWK with --alg RS256, and a new kid every time', async () => {
    const [first, second] = await Promise.all([generateKey('--alg', 'RS256'), generateKey('--alg=RS256')]);
    expect(first).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
    expect(createPrivateKey({ key: first as never, format: 'jwk' }).asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(second.kid).not.toBe(first.kid);
  });

  it.each([['HS256'], ['EdDSA'], ['none']])('refuses --alg %s with a usage message and exit code 2', async (alg) => {
    await expect(run(process.execPath, [GENERATE_KEY, '--alg', alg])).rejects.toMatchObject({
      code: 2,
      stdout: '',
      stderr: expect.stringContaining('--alg must be ES256 or RS256'),
    });
  });
});

describe('key rotation: [old] → [old, new] → [new, old] → [new], nobody logged out', () => {
  let oldKey: PrivateJwk;
  let newKey: PrivateJwk;
  let app: TestApp | undefined;
  let user: Awaited<ReturnType<typeof registerAndLogin>>;
  /** Issued under [old], presented at every later stage. */
  let oldToken: string;
  /** Issued under [new, old]. */
  let newToken: string;

  const restartWith = async (...keys: PrivateJwk[]): Promise<TestApp> => {
    await app?.close();
    app = await startTestApp({ JWT_PRIVATE_KEYS: JSON.stringify({ keys }) });
    return app;
  };
  const claimsStatus = async (running: TestApp, token: string) => {
    const response = await running.request('GET', '/auth/claims', { token });
    return { status: response.status, code: response.body?.code, sub: response.body?.sub };
  };
  const publishedKids = async (running: TestApp) => {
    const response = await running.request('GET', '/.well-known/jwks.json');
    expect(response.status).toBe(200);
    for (const key of response.body.keys) expect(key).not.toHaveProperty('d');
    return response.body.keys.map((key: { kid: string }) => key.kid);
  };

  beforeAll(async () => {
    [oldKey, newKey] = await Promise.all([generateKey(), generateKey()]);
  });
  afterAll(() => app?.close());

  it('with [old]: tokens carry the old kid and pass; the key set lists old only', async () => {
    const running = await restartWith(oldKey);
    user = await registerAndLogin(running, 'rotation-keys');
    oldToken = user.accessToken;
    expect(kidOf(oldToken)).toBe(oldKey.kid);
    expect(await claimsStatus(running, oldToken)).toEqual({ status: 200, code: undefined, sub: user.userId });
    expect(await publishedKids(running)).toEqual([oldKey.kid]);
  });

  it('restarted with [old, new] (publish): still signs with old, the key set lists both', async () => {
    const running = await restartWith(oldKey, newKey);
    expect(await claimsStatus(running, oldToken)).toEqual({ status: 200, code: undefined, sub: user.userId });
    expect(kidOf((await login(running, user.email)).accessToken)).toBe(oldKey.kid);
    expect(await publishedKids(running)).toEqual([oldKey.kid, newKey.kid]);
  });

  it('restarted with [new, old] (promote): the old token still passes, new tokens carry the new kid, the key set lists both', async () => {
    const running = await restartWith(newKey, oldKey);
    expect(await claimsStatus(running, oldToken)).toEqual({ status: 200, code: undefined, sub: user.userId });

    newToken = (await login(running, user.email)).accessToken;
    expect(kidOf(newToken)).toBe(newKey.kid);
    expect(await claimsStatus(running, newToken)).toEqual({ status: 200, code: undefined, sub: user.userId });

    // The session opened under [old] refreshes into a new-key token: its holder never notices the rotation.
    const refreshed = await running.request('POST', '/auth/refresh', { body: { refreshToken: user.refreshToken } });
    expect(refreshed.status).toBe(200);
    expect(kidOf(refreshed.body.accessToken)).toBe(newKey.kid);
    expect(await claimsStatus(running, refreshed.body.accessToken)).toEqual({ status: 200, code: undefined, sub: user.userId });

    expect(await publishedKids(running)).toEqual([newKey.kid, oldKey.kid]);
  });

  it('restarted with [new] (retire): an old-key token is refused, new-key tokens pass, the key set lists new only', async () => {
    const running = await restartWith(newKey);
    expect(await claimsStatus(running, oldToken)).toEqual({ status: 401, code: 'token_invalid', sub: undefined });
    expect(await claimsStatus(running, newToken)).toEqual({ status: 200, code: undefined, sub: user.userId });
    expect(await publishedKids(running)).toEqual([newKey.kid]);
  });

  it('the public keys published are the public halves of the configured keys', async () => {
    const running = app!;
    const response = await running.request('GET', '/.well-known/jwks.json');
    const expected = createPublicKey(createPrivateKey({ key: newKey as never, format: 'jwk' })).export({ format: 'jwk' });
    expect(response.body.keys).toEqual([{ ...expected, kid: newKey.kid, alg: 'ES256', use: 'sig' }]);
  });
});
