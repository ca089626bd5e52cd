import type { INestApplication } from '@nestjs/common';
import type { DestinationStream } from 'pino';
import { createApp } from '../../src/app.factory.js';
import { loadConfiguration } from '../../src/config/configuration.js';

/** A response as the tests look at it. */
export interface TestResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export interface RequestOptions {
  body?: unknown;
  /** Sent as-is instead of JSON-encoding `body`. */
  rawBody?: string;
  token?: string;
  headers?: Record<string, string>;
}

/** The real service on a real port over the test database; nothing mocked. */
export interface TestApp {
  app: INestApplication;
  baseUrl: string;
  request<T = any>(method: string, path: string, options?: RequestOptions): Promise<TestResponse<T>>;
  close(): Promise<void>;
}

// Specs fire bursts of logins from one address on purpose; test/rate-limit.e2e-spec.ts turns the limits on.
// TEST_HTTP_ADAPTER (fastify or express) runs the whole contract suite on either adapter.
export const TEST_ENV = {
  NODE_ENV: 'test',
  LOG_LEVEL: 'silent',
  RATE_LIMIT: 'off',
  HTTP_ADAPTER: process.env.TEST_HTTP_ADAPTER ?? 'fastify',
} as const;

/** Starts the app with the test defaults and `env` on top, listening on a free port; its log lines go to `logDestination` if given. */
export async function startTestApp(
  env: Record<string, string> = {},
  databaseUrl = process.env.TEST_DATABASE_URL,
  logDestination?: DestinationStream,
): Promise<TestApp> {
  if (!databaseUrl) throw new Error('TEST_DATABASE_URL is not set: run the tests through jest (global-setup)');
  const configuration = loadConfiguration({ ...TEST_ENV, DATA_DIR: process.env.TEST_DATA_DIR, ...env });
  const app = await createApp(configuration, databaseUrl, logDestination);
  await app.listen(0, '127.0.0.1');
  return asTestApp(app);
}

/** Any app listening on 127.0.0.1 (a host app built in a spec), spoken to like the service. */
export async function asTestApp(app: INestApplication): Promise<TestApp> {
  const baseUrl = await app.getUrl();
  return {
    app,
    baseUrl,
    request: (method, path, options = {}) => send(baseUrl, method, path, options),
    close: () => app.close(),
  };
}

async function send(baseUrl: string, method: string, path: string, options: RequestOptions): Promise<TestResponse> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const response = await fetch(`${baseUrl}${path}`, { method, headers, body });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON (Swagger UI): the tests look at the text.
  }
  return { status: response.status, headers: response.headers, body: parsed };
}
