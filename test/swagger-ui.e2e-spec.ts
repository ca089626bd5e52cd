import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { startTestApp, type TestApp } from './support/test-app.js';
import { registerAndLogin } from './support/users.js';

// Debian's chromium, driven by playwright-core (no browser download). .ci/run installs it; a developer
// machine without it skips this file, CI (CI set) fails instead.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const present = existsSync(CHROMIUM);
if (!present && process.env.CI) throw new Error(`${CHROMIUM} is missing: the Swagger UI test needs Chromium (see .ci/run)`);

(present ? describe : describe.skip)('Swagger UI in a real browser', () => {
  let app: TestApp;
  let browser: Browser;
  beforeAll(async () => {
    app = await startTestApp();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('authorises with a Bearer token and executes GET /users/me → 200 with the user, under the docs CSP', async () => {
    const user = await registerAndLogin(app, 'swagger-ui');
    const page = await browser.newPage();
    // Well inside the test's own timeout, so a step that never happens fails with its locator's name.
    page.setDefaultTimeout(10_000);
    // Anything the Content-Security-Policy blocks, and any script error, shows up here.
    const problems: string[] = [];
    page.on('console', (message) => message.type() === 'error' && problems.push(message.text()));
    page.on('pageerror', (error) => problems.push(error.message));

    const docs = await page.goto(`${app.baseUrl}/docs`);
    expect(docs?.headers()['content-security-policy']).toContain("script-src 'self'");

    await page.getByRole('button', { name: 'Authorize' }).first().click();
    const dialog = page.locator('.modal-ux');
    const bearer = dialog.locator('.auth-container').filter({ has: page.locator('h4 code', { hasText: /^bearer$/ }) });
    await bearer.locator('#auth-bearer-value').fill(user.accessToken);
    await bearer.getByRole('button', { name: 'Apply credentials' }).click();
    // Applied: the form now offers to remove it.
    await bearer.getByRole('button', { name: 'Remove authorization' }).waitFor();
    await bearer.getByRole('button', { name: 'Close' }).click();

    const operation = page.locator('#operations-users-me');
    await operation.locator('.opblock-summary').click();
    await operation.getByRole('button', { name: 'Try it out' }).click();
    await operation.getByRole('button', { name: 'Execute' }).click();

    // The live response, below the request Swagger UI sent.
    const live = operation.locator('.live-responses-table tr.response');
    await live.waitFor();
    expect((await live.locator('.response-col_status').innerText()).trim()).toBe('200');
    const body = JSON.parse(await live.locator('.response-col_description pre').first().innerText());
    expect(body).toMatchObject({ id: user.userId, email: user.email });
    expect(problems).toEqual([]);
  }, 60_000);
});
