import { startTestApp, type TestApp } from './support/test-app.js';
import { registerAndLogin } from './support/users.js';

describe('smoke', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  it('logs in and reaches a protected route', async () => {
    const { accessToken, email } = await registerAndLogin(app);
    const me = await app.request('GET', '/users/me', { token: accessToken });
    expect(me.status).toBe(200);
    expect(me.body.email).toBe(email);
  });
});
