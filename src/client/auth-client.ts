import createClient, { type Middleware } from 'openapi-fetch';
import { errorCode, refusal } from './auth-client.error.js';
import type { AuthClientOptions, AuthSession, Fetch, SessionEndReason, SessionListener } from './auth-client.types.js';
import { bearerFetch, bearerMiddleware } from './bearer.js';
import type { components, paths } from './openapi-types.js';
import { refreshLock } from './refresh-lock.js';
import { type RefreshAnswer, SessionKeeper } from './session-keeper.js';
import { pageUrl, trustedOriginTest } from './trusted-origins.js';

type Schemas = components['schemas'];
export type User = Schemas['UserDto'];
export type SessionInfo = Schemas['SessionDto'];
export type RegisterInput = Schemas['RegisterDto'];
export type ChangePasswordInput = Schemas['ChangePasswordDto'];

/** The refusals after which a session cannot come back: it ends, once. */
const FINAL_REFUSALS: ReadonlySet<string> = new Set<SessionEndReason>([
  'refresh_token_reused',
  'refresh_token_invalid',
  'refresh_token_expired',
  'session_revoked',
  'account_disabled',
]);

// The API demands this header when the refresh token comes from the cookie (a form post cannot set it).
const CSRF_HEADER = { 'X-Requested-With': 'auth-client' };

export interface AuthClient {
  register(input: RegisterInput): Promise<User>;
  login(credentials: { email: string; password: string }): Promise<AuthSession>;
  /** Ends the session here and in every tab at once, then on the server (errors reaching it are swallowed). */
  logout(): Promise<void>;
  /** Ends the session here and in every tab at once, then every session of the user on the server (a refusal rejects). */
  logoutAll(): Promise<void>;
  sessions(): Promise<SessionInfo[]>;
  revokeSession(id: string): Promise<void>;
  changePassword(input: ChangePasswordInput): Promise<void>;
  /** A valid access token (refreshed first when needed), or null when signed out. Keep it in memory only. */
  getAccessToken(): Promise<string | null>;
  /** The session, restoring it first when this client does not know yet (cookie, storage, another tab). */
  getSession(): Promise<AuthSession | null>;
  /** Called with the session on sign-in and refresh, with null (and a reason) when it ends. */
  onSessionChange(listener: SessionListener): () => void;
  /** fetch with the Bearer token for trusted origins only; on `token_expired` one shared refresh, one retry. */
  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response>;
  /** The same as an openapi-fetch middleware. */
  readonly middleware: Middleware;
  /** Stops timers and leaves the tab channel. */
  close(): void;
}

function timeoutSignal(ms: number): AbortSignal | undefined {
  return (AbortSignal as { timeout?: (ms: number) => AbortSignal }).timeout?.(ms);
}

function isBrowserPage(): boolean {
  return typeof (globalThis as { document?: unknown }).document === 'object';
}

/** A client of the auth API, for browsers (cookie transport) and mobile apps, servers and scripts (body transport). */
export function createAuthClient(options: AuthClientOptions): AuthClient {
  const fetch: Fetch = options.fetch ?? ((request) => globalThis.fetch(request));
  const api = createClient<paths>({ baseUrl: options.baseUrl, fetch });
  const byCookie = options.transport === 'cookie';
  // Body transport never lets a cookie in, so no cookie can ever disagree with the body's token.
  const credentials: 'include' | 'omit' = byCookie ? 'include' : 'omit';
  const timeoutMs = options.timeoutMs ?? 15_000;
  const crossTab = options.crossTab ?? isBrowserPage();
  const channelName = crossTab ? `auth-client ${new URL(options.baseUrl, pageUrl()).href}` : undefined;
  const carrying = (refreshToken: string | undefined) => (byCookie || !refreshToken ? { headers: CSRF_HEADER } : { body: { refreshToken } });

  const refresh = async (refreshToken: string | undefined): Promise<RefreshAnswer> => {
    const sentAt = Date.now();
    const { data, error, response } = await api.POST('/auth/refresh', { ...carrying(refreshToken), credentials, signal: timeoutSignal(timeoutMs) });
    if (data) return { pair: data, sentAt };
    const code = errorCode(error);
    if (code && FINAL_REFUSALS.has(code)) return { ended: code as SessionEndReason };
    throw refusal(response, error);
  };

  const keeper = new SessionKeeper({
    refresh,
    keepsRefreshToken: !byCookie,
    storage: byCookie ? undefined : options.storage,
    channelName,
    lock: refreshLock(channelName && `${channelName} refresh`),
    autoRefresh: options.autoRefresh ?? true,
    tabSyncMs: options.tabSyncMs ?? 150,
  });
  const context = { keeper, isTrusted: trustedOriginTest(options.baseUrl, options.trustedOrigins) };
  const middleware = bearerMiddleware(context);
  const authorized = { middleware: [middleware], credentials };

  return {
    async register(input) {
      const { data, error, response } = await api.POST('/auth/register', { body: input, credentials });
      if (!data) throw refusal(response, error);
      return data;
    },
    async login({ email, password }) {
      const sentAt = Date.now();
      const { data, error, response } = await api.POST('/auth/login', { body: { email, password }, credentials, signal: timeoutSignal(timeoutMs) });
      if (!data) throw refusal(response, error);
      return keeper.signedIn(data, sentAt);
    },
    async logout() {
      if (keeper.isSignedOut()) return;
      const refreshToken = await keeper.presentable();
      keeper.end('logout');
      try {
        await api.POST('/auth/logout', { ...carrying(refreshToken), credentials, signal: timeoutSignal(timeoutMs) });
      } catch {
        // Offline: the session is forgotten here all the same, and dies on the server within its idle lifetime.
      }
    },
    async logoutAll() {
      const token = await keeper.accessToken();
      if (!token) return;
      // Every tab signs out before the server revokes, as with logout: none meets a `session_revoked` first.
      keeper.end('logout_all');
      const { error, response } = await api.POST('/auth/logout-all', { credentials, headers: { Authorization: `Bearer ${token}` } });
      if (!response.ok && response.status !== 401) throw refusal(response, error);
    },
    async sessions() {
      const { data, error, response } = await api.GET('/auth/sessions', authorized);
      if (!data) throw refusal(response, error);
      return data;
    },
    async revokeSession(id) {
      const { error, response } = await api.DELETE('/auth/sessions/{id}', { ...authorized, params: { path: { id } } });
      if (!response.ok) throw refusal(response, error);
      if (keeper.session?.sessionId === id) keeper.end('logout');
    },
    async changePassword(input) {
      const { error, response } = await api.POST('/auth/password', { ...authorized, body: input });
      if (!response.ok) throw refusal(response, error);
    },
    getAccessToken: () => keeper.accessToken(),
    getSession: () => keeper.resolve(),
    onSessionChange: (listener) => keeper.onChange(listener),
    fetch: bearerFetch(context, fetch),
    middleware,
    close: () => keeper.close(),
  };
}

