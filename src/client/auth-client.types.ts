/** How the refresh token travels: an HttpOnly cookie the page never sees, or the JSON body. */
export type AuthTransport = 'cookie' | 'body';

/** What every request of the client goes through. */
export type Fetch = (input: Request) => Promise<Response>;

/**
 * Where the body transport keeps its refresh token (`localStorage`, React Native's secure store, a
 * file...). Calls may be async. Without one the token lives in memory (shared with other tabs).
 */
export interface TokenStorage {
  get(): string | null | undefined | Promise<string | null | undefined>;
  set(refreshToken: string): void | Promise<void>;
  remove(): void | Promise<void>;
}

/** The signed-in session as the app may see it: no token material. */
export interface AuthSession {
  sessionId: string;
  userId: string;
  roles: string[];
  /** Local time (ms since the epoch) after which the current access token is no longer used. */
  accessTokenExpiresAt: number;
}

/** Why a session ended: the app's own call, or the server's final answer to a refresh. */
export type SessionEndReason =
  | 'logout'
  | 'logout_all'
  | 'refresh_token_reused'
  | 'refresh_token_invalid'
  | 'refresh_token_expired'
  | 'session_revoked'
  | 'account_disabled';

export interface SessionChange {
  /** `signed_in`: a login here or in another tab, or a session restored; `refreshed`: a new access token. */
  type: 'signed_in' | 'refreshed' | 'signed_out';
  /** With `signed_out`; absent when there was nothing to restore. */
  reason?: SessionEndReason;
}

export type SessionListener = (session: AuthSession | null, change: SessionChange) => void;

export interface AuthClientOptions {
  /** The API's base URL, e.g. `https://api.example.com`. Its origin is always trusted. */
  baseUrl: string;
  transport: AuthTransport;
  /** Body transport only: where the refresh token is kept (default: memory). */
  storage?: TokenStorage;
  /** Further origins (or URLs, of which the origin counts) that get the Bearer token. */
  trustedOrigins?: string[];
  /** The fetch every request goes through (default: the global fetch). */
  fetch?: Fetch;
  /**
   * Share the session with the other tabs of this origin (BroadcastChannel) and serialise their
   * refreshes (Web Locks). Default: on in a browser page, off elsewhere (a Node process may hold
   * sessions of several users, which must not adopt each other's).
   */
  crossTab?: boolean;
  /** Refresh shortly before the access token expires (default true); else only when one is needed. */
  autoRefresh?: boolean;
  /** How long a tab listens for other tabs' newer session before presenting its refresh token (ms, default 150). */
  tabSyncMs?: number;
  /** Token requests (login, refresh, logout) are abandoned after this long (ms, default 15000). */
  timeoutMs?: number;
}
