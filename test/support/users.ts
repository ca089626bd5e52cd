import { randomUUID } from 'node:crypto';
import type { TestApp } from './test-app.js';

export const PASSWORD = 'correct horse battery';

/** A unique email per call, so specs never collide in the shared test database. */
export function uniqueEmail(label = 'user'): string {
  return `${label}-${randomUUID()}@example.test`;
}

/** Registers a fresh user and logs in; returns the credentials and the token pair. */
export async function registerAndLogin(app: TestApp, label?: string) {
  const email = uniqueEmail(label);
  const registered = await app.request('POST', '/auth/register', { body: { email, password: PASSWORD } });
  if (registered.status !== 201) throw new Error(`register failed: ${registered.status} ${JSON.stringify(registered.body)}`);
  const tokens = await login(app, email);
  return { email, userId: registered.body.id as string, ...tokens };
}

/** Logs in and returns the token pair. */
export async function login(app: TestApp, email: string, password = PASSWORD) {
  const response = await app.request('POST', '/auth/login', { body: { email, password } });
  if (response.status !== 200) throw new Error(`login failed: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body as {
    accessToken: string;
    refreshToken: string;
    sessionId: string;
    expiresIn: number;
    refreshTokenExpiresIn: number;
  };
}
