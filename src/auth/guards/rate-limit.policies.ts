export interface RateWindow {
  max: number;
  /** Milliseconds. */
  windowMs: number;
}

export interface RateLimitPolicy {
  name: string;
  /** Per client address. */
  perClient: RateWindow;
  /** Per account, whether or not the account exists. */
  perAccount?: RateWindow;
  /**
   * What names the account: `'email'` (default), the normalised email in the body; `'user'`, the
   * verified caller's user id (the route authenticates first: `@RateLimit()` above `@Authenticated()`).
   */
  account?: 'email' | 'user';
}

const MINUTE = 60_000;

/** The limits on the credential routes; everything else is unlimited here. */
export const RATE_LIMITS = {
  login: { name: 'login', perClient: { max: 30, windowMs: MINUTE }, perAccount: { max: 10, windowMs: 5 * MINUTE } },
  register: { name: 'register', perClient: { max: 10, windowMs: MINUTE }, perAccount: { max: 5, windowMs: 5 * MINUTE } },
  refresh: { name: 'refresh', perClient: { max: 120, windowMs: MINUTE } },
  password: { name: 'password', perClient: { max: 30, windowMs: MINUTE }, perAccount: { max: 10, windowMs: 5 * MINUTE }, account: 'user' },
} satisfies Record<string, RateLimitPolicy>;
