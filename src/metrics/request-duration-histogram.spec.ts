import { Histogram, Registry } from 'prom-client';
import { REQUEST_DURATION_BUCKETS, RequestDurationHistogram } from './request-duration-histogram.js';

const OBSERVATIONS: [method: string, route: string, status: number, seconds: number][] = [
  ['GET', '/health/live', 200, 0.0004],
  ['GET', '/health/live', 200, 0.001],
  ['GET', '/health/live', 200, 0.03],
  ['GET', '/health/live', 503, 12],
  ['POST', '/auth/refresh', 200, 0.004],
  ['GET', 'unmatched', 404, 0.0001],
  ['GET', '/a "quoted"\\route', 200, 0.2],
];

describe('RequestDurationHistogram', () => {
  it('renders exactly what prom-client renders for a Histogram given the same observations', async () => {
    const ours = new Registry();
    const histogram = new RequestDurationHistogram(ours);
    const theirs = new Registry();
    const reference = new Histogram({
      name: histogram.name,
      help: histogram.help,
      labelNames: ['method', 'route', 'status_code'],
      buckets: REQUEST_DURATION_BUCKETS,
      registers: [theirs],
    });
    for (const [method, route, status, seconds] of OBSERVATIONS) {
      histogram.observe(method, route, status, seconds);
      reference.observe({ method, route, status_code: status }, seconds);
    }
    const text = await ours.metrics();
    expect(text).toBe(await theirs.metrics());
    // prom-client's own samples carry an empty `exemplar` (null on buckets) that JSON leaves out.
    const asJson = async (registry: Registry) => JSON.parse(JSON.stringify(await registry.getMetricsAsJSON(), (key, value) => (key === 'exemplar' ? undefined : value)));
    expect(await asJson(ours)).toEqual(await asJson(theirs));
    expect(text).toContain('http_request_duration_seconds_bucket{le="0.001",method="GET",route="/health/live",status_code="200"} 2');
    expect(text).toContain('http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/health/live",status_code="503"} 1');
  });

  it('starts again from nothing when the registry resets its metrics', async () => {
    const registry = new Registry();
    const histogram = new RequestDurationHistogram(registry);
    histogram.observe('GET', '/health/live', 200, 0.001);
    registry.resetMetrics();
    expect(await registry.metrics()).not.toContain('_count');
  });
});
