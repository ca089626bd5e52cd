import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import type { TestResponse } from './test-app.js';

export interface HttpOptions {
  body?: unknown;
  token?: string;
  /** The request is abandoned (and the promise rejects) after this long. */
  timeoutMs?: number;
}

/**
 * One request to `baseUrl`, as the specs look at a response. Rejects when no answer arrives: the
 * connection was refused or reset (a killed process), or `timeoutMs` passed (a hang).
 */
export async function httpRequest<T = any>(baseUrl: string, method: string, path: string, options: HttpOptions = {}): Promise<TestResponse<T>> {
  const headers: Record<string, string> = {};
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON: left as text.
  }
  return { status: response.status, headers: response.headers, body: body as T };
}

export async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The compiled service (`node dist/main.js`) as a real process. */
export interface ServiceProcess {
  port: number;
  baseUrl: string;
  child: ChildProcessWithoutNullStreams;
  /** Resolves with the time (Date.now()) the process was seen to exit, and how. */
  exited: Promise<{ at: number; code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
}

/**
 * Spawns `node dist/main.js` with exactly `env` (plus PATH, HOST and PORT) and waits until
 * GET /health answers 200; rejects with the process's output when it exits or is not ready in time.
 */
export async function startServiceProcess(env: Record<string, string>, port: number, readyWithinMs = 30_000): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ['dist/main.js'], {
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: String(port), ...env },
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = once(child, 'exit').then(([code, signal]) => ({ at: Date.now(), code: code as number | null, signal: signal as NodeJS.Signals | null }));
  let gone = false;
  void exited.then(() => (gone = true));
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + readyWithinMs;
  while (!gone && Date.now() < deadline) {
    const status = await httpRequest(baseUrl, 'GET', '/health', { timeoutMs: 2000 }).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) return { port, baseUrl, child, exited, output: () => output };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (!gone) child.kill('SIGKILL');
  throw new Error(`the service on port ${port} did not become ready:\n${output}`);
}
