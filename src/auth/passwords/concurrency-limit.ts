import { AuthErrorCode } from '../errors/auth-error-code.js';
import { AuthError } from '../errors/auth-error.js';

/** Seconds a caller refused for want of a hashing slot is asked to wait: a slot frees in milliseconds. */
export const SATURATED_RETRY_AFTER = 1;

/**
 * At most `concurrency` tasks run at once, at most `queue` more wait their turn (first come, first
 * served), and any past those is refused at once with `503 service_unavailable` and `Retry-After`.
 * Bounds the CPU that password hashing takes and how long a login may wait for it, so a burst of
 * logins answers some of them 503 instead of slowing every other route down.
 */
export class ConcurrencyLimit {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    readonly concurrency: number,
    readonly queue: number,
  ) {}

  /** Tasks running now, and waiting. */
  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running < this.concurrency) this.running++;
    else if (this.waiting.length < this.queue) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else throw new AuthError(AuthErrorCode.ServiceUnavailable, { reason: 'password hashing saturated', retryAfter: SATURATED_RETRY_AFTER });
    try {
      return await task();
    } finally {
      // The slot passes straight to the next waiter, so none can be overtaken by a newcomer.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
