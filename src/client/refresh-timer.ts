const MIN_DELAY_MS = 1000;
// setTimeout holds at most 2^31 − 1 ms.
const MAX_DELAY_MS = 2_147_483_647;

/**
 * When to refresh a token valid until `expiresAt`: ahead of it by about 15 % of its remaining life
 * (at least 250 ms, at most a minute) and a random extra up to 10 % (at most 30 s), so tabs and
 * devices holding tokens of the same age do not all come at once.
 */
export function refreshDueAt(expiresAt: number, now: number, random = Math.random()): number {
  const remaining = Math.max(expiresAt - now, 0);
  const lead = Math.min(Math.max(remaining * 0.15, 250), 60_000);
  const jitter = random * Math.min(remaining * 0.1, 30_000);
  return expiresAt - lead - jitter;
}

// A timer firing this much later than asked was frozen or throttled: the tab was asleep.
const LATE_MS = 1000;

/** One pending proactive refresh; timers never keep a Node process alive. */
export class RefreshTimer {
  private handle: ReturnType<typeof setTimeout> | undefined;

  /** `onDue(late)`: `late` when the timer fired well after its time (a sleeping or frozen tab). */
  constructor(private readonly onDue: (late: boolean) => void) {}

  /** At `at`, but never sooner than a second from now, so a token born nearly expired cannot spin. */
  scheduleAt(at: number): void {
    this.scheduleIn(at - Date.now());
  }

  scheduleIn(delayMs: number): void {
    this.cancel();
    const delay = Math.min(Math.max(delayMs, MIN_DELAY_MS), MAX_DELAY_MS);
    const due = Date.now() + delay;
    const handle = setTimeout(() => this.onDue(Date.now() - due > LATE_MS), delay);
    (handle as { unref?: () => void }).unref?.();
    this.handle = handle;
  }

  cancel(): void {
    if (this.handle !== undefined) clearTimeout(this.handle);
    this.handle = undefined;
  }
}
