import { Module } from '@nestjs/common';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { AuthMetrics } from './auth-metrics.js';
import { MetricsController } from './metrics.controller.js';
import { RequestDurationHistogram } from './request-duration-histogram.js';

/** The token of the HTTP histogram, which app.factory.ts hooks into the adapter. */
export const HTTP_REQUEST_DURATION = Symbol('HTTP_REQUEST_DURATION');

/**
 * GET /metrics (METRICS=on): the auth outcomes, the revocation feed, request durations and Node's
 * process metrics. A registry of its own per app, so several apps in one process (the tests) never clash.
 */
@Module({
  controllers: [MetricsController],
  providers: [
    {
      provide: Registry,
      useFactory: () => {
        const registry = new Registry();
        collectDefaultMetrics({ register: registry });
        return registry;
      },
    },
    { provide: HTTP_REQUEST_DURATION, inject: [Registry], useFactory: (registry: Registry) => new RequestDurationHistogram(registry) },
    AuthMetrics,
  ],
})
export class MetricsModule {}
