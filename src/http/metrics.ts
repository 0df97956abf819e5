import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { PoolStats } from '../core/db/db.js';

/** Prometheus metrics of one process: request counts and latencies by route and status, DB pool. */
export class HttpMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'method' | 'route' | 'status_code'>;
  readonly duration: Histogram<'method' | 'route' | 'status_code'>;

  constructor(poolStats: () => PoolStats) {
    collectDefaultMetrics({ register: this.registry, prefix: 'payloom_' });
    this.requests = new Counter({
      name: 'payloom_http_requests_total',
      help: 'HTTP requests answered, by method, route template and status code.',
      labelNames: ['method', 'route', 'status_code'],
      registers: [this.registry],
    });
    this.duration = new Histogram({
      name: 'payloom_http_request_duration_seconds',
      help: 'HTTP request latency, by method, route template and status code.',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
    const gauge = (name: string, help: string, read: (s: PoolStats) => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.set(read(poolStats()));
        },
      });
    gauge('payloom_db_pool_connections', 'Database connections open in this process.', (s) => s.total);
    gauge('payloom_db_pool_idle', 'Idle database connections in this process.', (s) => s.idle);
    gauge('payloom_db_pool_waiting', 'Queries waiting for a database connection.', (s) => s.waiting);
  }

  observe(method: string, route: string, statusCode: number, seconds: number): void {
    const labels = { method, route, status_code: String(statusCode) };
    this.requests.inc(labels);
    this.duration.observe(labels, seconds);
  }
}
