import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { OPENAPI_JSON, OPENAPI_TYPES, renderTypes, serializeDocument } from '../scripts/openapi-files.js';
import { generatePrivateJwk } from '../src/auth/index.js';
import { startTestApp, type TestApp } from './support/test-app.js';

const inRepository = (path: string) => new URL(`../${path}`, import.meta.url);

// The committed files are what consumers generate clients from: they must be what production serves.
describe(`${OPENAPI_JSON} and ${OPENAPI_TYPES} (regenerate with \`npm run openapi\` when this fails)`, () => {
  let app: TestApp;
  let served: string;
  beforeAll(async () => {
    app = await startTestApp({
      NODE_ENV: 'production',
      RATE_LIMIT: 'on',
      DATABASE_URL: process.env.TEST_DATABASE_URL!,
      JWT_PRIVATE_KEYS: JSON.stringify({ keys: [generatePrivateJwk('ES256')] }),
      REFRESH_TOKEN_SECRET: randomBytes(48).toString('base64url'),
    });
    const response = await fetch(`${app.baseUrl}/docs-json`);
    expect(response.status).toBe(200);
    served = await response.text();
  });
  afterAll(() => app.close());

  it(`${OPENAPI_JSON} is the document the service serves with NODE_ENV=production, key for key`, async () => {
    const committed = await readFile(inRepository(OPENAPI_JSON), 'utf8');
    expect(JSON.parse(committed)).toEqual(JSON.parse(served));
    expect(committed).toBe(serializeDocument(JSON.parse(served)));
  });

  it('names the refresh cookie as production sets it', () => {
    expect(JSON.parse(served).components.securitySchemes.refreshCookie).toMatchObject({ type: 'apiKey', in: 'cookie', name: '__Secure-refresh_token' });
  });

  it(`${OPENAPI_TYPES} is openapi-typescript's output for ${OPENAPI_JSON}`, async () => {
    const committed = await readFile(inRepository(OPENAPI_TYPES), 'utf8');
    expect(committed).toBe(await renderTypes(JSON.parse(served)));
  });
});
