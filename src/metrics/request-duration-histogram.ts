import type { Metric, Registry } from 'prom-client';

/** Upper bounds in seconds, 1 ms to 10 s. */
export const REQUEST_DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

type Labels = { method: string; route: string; status_code: number };

/** A sample as prom-client's registry renders it: `labels` first, then `sharedLabels` (how it puts `le` first). */
interface Sample {
  metricName: string;
  labels: Labels | { le: number | '+Inf' };
  sharedLabels?: Labels;
  value: number;
}

interface Series {
  readonly labels: Labels;
  /** Observations per bucket, not yet cumulative; those above the last bound count only in `count`. */
  readonly perBucket: number[];
  sum: number;
  count: number;
}

/**
 * `http_request_duration_seconds`, a Prometheus histogram by method, route template and status,
 * rendered by prom-client's registry like its own. prom-client's Histogram validates and hashes the
 * labels of every observation (0.8 µs, a twentieth of a whole request); here a series is found
 * through maps keyed by the route template, method and status the adapter already holds.
 */
export class RequestDurationHistogram {
  readonly name = 'http_request_duration_seconds';
  readonly help = 'Time from the request to its response, by method, route template and status';
  readonly type = 'histogram' as const;
  readonly aggregator = 'sum' as const;
  private readonly routes = new Map<string, Map<string, Map<number, Series>>>();

  /** Counted in `registry`, which asks it for its values on every scrape. */
  constructor(registry: Registry) {
    // Registry takes anything with these members; its type names prom-client's own classes only.
    registry.registerMetric(this as unknown as Metric);
  }

  observe(method: string, route: string, statusCode: number, seconds: number): void {
    const series = this.seriesOf(method, route, statusCode);
    let bucket = 0;
    while (bucket < REQUEST_DURATION_BUCKETS.length && seconds > REQUEST_DURATION_BUCKETS[bucket]) bucket++;
    if (bucket < REQUEST_DURATION_BUCKETS.length) series.perBucket[bucket]++;
    series.sum += seconds;
    series.count++;
  }

  /** The samples as the registry renders them (prom-client's typings name `type` as an enum; at run time it is this string). */
  getForPromString() {
    const values: Sample[] = [];
    for (const byMethod of this.routes.values()) {
      for (const byStatus of byMethod.values()) {
        for (const { labels, perBucket, sum, count } of byStatus.values()) {
          let cumulative = 0;
          REQUEST_DURATION_BUCKETS.forEach((le, bucket) => {
            cumulative += perBucket[bucket];
            values.push({ metricName: `${this.name}_bucket`, labels: { le }, sharedLabels: labels, value: cumulative });
          });
          values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf' }, sharedLabels: labels, value: count });
          values.push({ metricName: `${this.name}_sum`, labels, value: sum });
          values.push({ metricName: `${this.name}_count`, labels, value: count });
        }
      }
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** The samples with each one's labels in one object, as `registry.getMetricsAsJSON()` gives prom-client's own. */
  get() {
    const metric = this.getForPromString();
    return { ...metric, values: metric.values.map(({ labels, sharedLabels, ...sample }) => ({ ...sample, labels: { ...labels, ...sharedLabels } })) };
  }

  reset(): void {
    this.routes.clear();
  }

  private seriesOf(method: string, route: string, statusCode: number): Series {
    let byMethod = this.routes.get(route);
    if (byMethod === undefined) this.routes.set(route, (byMethod = new Map()));
    let byStatus = byMethod.get(method);
    if (byStatus === undefined) byMethod.set(method, (byStatus = new Map()));
    let series = byStatus.get(statusCode);
    if (series === undefined) {
      series = { labels: { method, route, status_code: statusCode }, perBucket: REQUEST_DURATION_BUCKETS.map(() => 0), sum: 0, count: 0 };
      byStatus.set(statusCode, series);
    }
    return series;
  }
}
