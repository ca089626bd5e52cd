import { randomUUID } from 'node:crypto';
import { expectErrorBody } from './support/http-contract.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { login, PASSWORD, registerAndLogin } from './support/users.js';

// é as one code point (NFC) and as e + combining acute accent (NFD): what different keyboards send.
const E_ACUTE_NFC = '\u00e9';
const E_ACUTE_NFD = 'e\u0301';

describe('emails and passwords are compared in Unicode NFC', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  const register = (email: string, password: string) => app.request('POST', '/auth/register', { body: { email, password } });

  it('jos\\u00e9@… and jose\\u0301@… are one account: the second registration gets 409 email_taken, and either logs in', async () => {
    const id = randomUUID();
    const composed = `jos${E_ACUTE_NFC}-${id}@example.test`;
    const decomposed = `jos${E_ACUTE_NFD}-${id}@example.test`;
    const created = await register(composed, PASSWORD);
    expect(created.status).toBe(201);
    expect(created.body.email).toBe(composed);
    expectErrorBody(await register(decomposed, PASSWORD), 409, 'email_taken', [PASSWORD]);
    expect((await login(app, decomposed)).sessionId).toBeDefined();
    expect((await login(app, ` ${decomposed.toUpperCase()} `)).sessionId).toBeDefined();
  });

  it('stores a decomposed email composed', async () => {
    const id = randomUUID();
    const created = await register(`jos${E_ACUTE_NFD}-${id}@example.test`, PASSWORD);
    expect(created.status).toBe(201);
    expect(created.body.email).toBe(`jos${E_ACUTE_NFC}-${id}@example.test`);
  });

  it('a password registered composed logs in decomposed, and the other way round', async () => {
    for (const [registered, typed] of [
      [E_ACUTE_NFC, E_ACUTE_NFD],
      [E_ACUTE_NFD, E_ACUTE_NFC],
    ]) {
      const email = `nfc-${randomUUID()}@example.test`;
      expect((await register(email, `caf${registered} au lait, s'il vous pla\u00eet`)).status).toBe(201);
      const response = await app.request('POST', '/auth/login', { body: { email, password: `caf${typed} au lait, s'il vous pla\u00eet` } });
      expect(response.status).toBe(200);
    }
  });

  it('a password change takes the current and the new password in either form', async () => {
    const { email, accessToken } = await registerAndLogin(app, 'nfc-change');
    const body = { currentPassword: PASSWORD, newPassword: `r${E_ACUTE_NFD}sum${E_ACUTE_NFD} tr${E_ACUTE_NFD}s long` };
    expect((await app.request('POST', '/auth/password', { token: accessToken, body })).status).toBe(204);
    expect((await login(app, email, `r${E_ACUTE_NFC}sum${E_ACUTE_NFC} tr${E_ACUTE_NFC}s long`)).sessionId).toBeDefined();
  });

  it('counts the 8–128 characters after NFC', async () => {
    // 128 code units typed decomposed are 64 characters: accepted. 200 decomposed are 100: accepted.
    for (const password of [E_ACUTE_NFD.repeat(64), E_ACUTE_NFD.repeat(100)]) {
      expect((await register(`nfc-${randomUUID()}@example.test`, password)).status).toBe(201);
    }
    // 8 code units typed decomposed are 4 characters: too short. 129 composed: too long.
    for (const password of [E_ACUTE_NFD.repeat(4), E_ACUTE_NFD.repeat(129)]) {
      expectErrorBody(await register(`nfc-${randomUUID()}@example.test`, password), 400, 'validation_failed', [password]);
    }
  });
});

describe('a password of only whitespace is refused (NIST SP 800-63B)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  const WHITESPACE = [' '.repeat(8), ' \t \n \r  ', '\u00a0'.repeat(10), '\u3000'.repeat(8), '\u2003 \u2009\u200a\u2028\u2029\ufeff '];

  it.each(WHITESPACE.map((password) => [JSON.stringify(password), password]))('on register: %s gets 400 validation_failed', async (_label, password) => {
    const email = `blank-${randomUUID()}@example.test`;
    expectErrorBody(await app.request('POST', '/auth/register', { body: { email, password } }), 400, 'validation_failed');
    // No account was made.
    expect((await app.request('POST', '/auth/register', { body: { email, password: PASSWORD } })).status).toBe(201);
  });

  it('on password change: 400 validation_failed, and the old password still works', async () => {
    const { email, accessToken } = await registerAndLogin(app, 'blank-change');
    for (const newPassword of WHITESPACE) {
      expectErrorBody(await app.request('POST', '/auth/password', { token: accessToken, body: { currentPassword: PASSWORD, newPassword } }), 400, 'validation_failed', [PASSWORD]);
    }
    expect((await login(app, email)).sessionId).toBeDefined();
  });

  it('still accepts spaces inside a password, and around other characters', async () => {
    for (const password of ['  correct horse  ', ' \u00a0x\u00a0       ']) {
      expect((await app.request('POST', '/auth/register', { body: { email: `blank-${randomUUID()}@example.test`, password } })).status).toBe(201);
    }
  });
});
