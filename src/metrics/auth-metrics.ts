import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { Counter, Gauge, Registry } from 'prom-client';
import { AuthOutcomes, LoginOutcome, RefreshOutcome } from '../auth/index.js';

/** The auth package's outcomes as counters, and whether its revocation feed is connected. */
@Injectable()
export class AuthMetrics implements OnModuleInit, OnModuleDestroy {
  private readonly logins: Counter<'outcome'>;
  private readonly refreshes: Counter<'outcome'>;
  private stop: (() => void) | undefined;

  constructor(
    registry: Registry,
    private readonly outcomes: AuthOutcomes,
  ) {
    this.logins = new Counter({ name: 'auth_logins_total', help: 'Logins, by outcome', labelNames: ['outcome'], registers: [registry] });
    this.refreshes = new Counter({ name: 'auth_refreshes_total', help: 'Refresh-token presentations, by outcome', labelNames: ['outcome'], registers: [registry] });
    // Every outcome is a series from the start, so rate() and alerts see the first one.
    for (const outcome of Object.values(LoginOutcome)) this.logins.inc({ outcome }, 0);
    for (const outcome of Object.values(RefreshOutcome)) this.refreshes.inc({ outcome }, 0);
    new Gauge({
      name: 'auth_revocation_feed_connected',
      help: '1 while this process receives the revocations of every instance, 0 while its feed is down',
      registers: [registry],
      // Read at scrape time: nothing to keep in step.
      collect() {
        this.set(outcomes.revocationFeedConnected ? 1 : 0);
      },
    });
  }

  onModuleInit(): void {
    this.stop = this.outcomes.observe({
      login: (outcome) => this.logins.inc({ outcome }),
      refresh: (outcome) => this.refreshes.inc({ outcome }),
    });
  }

  onModuleDestroy(): void {
    this.stop?.();
  }
}
