import { Counter, Histogram, type Registry } from 'prom-client';

export interface WebhookMetrics {
  /** One attempt's outcome and how long the endpoint took. */
  attempt(outcome: string, seconds: number): void;
  /** A delivery reached the endpoint: seconds from the event's commit to its 2xx. */
  delivered(lagSeconds: number): void;
}

function defineOnce(registry: Registry) {
  // Workers restarted in one process (tests, the demo) share a registry: define once, reuse.
  if (registry.getSingleMetric('webhook_attempts_total')) return;
  new Counter({
    name: 'webhook_attempts_total',
    help: 'Webhook delivery attempts, by outcome (delivered, failed, throttled, gone, blocked)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  new Histogram({
    name: 'webhook_attempt_duration_seconds',
    help: "One attempt's request to a customer endpoint, by outcome",
    labelNames: ['outcome'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15],
    registers: [registry],
  });
  new Histogram({
    name: 'webhook_delivery_lag_seconds',
    help: 'From the event being recorded to its endpoint answering 2xx, retries included',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 5, 30, 60, 300, 3600, 86400],
    registers: [registry],
  });
}

/** What an operator pages on for webhooks: failing attempts, slow endpoints, late deliveries. */
export function createWebhookMetrics(registry: Registry): WebhookMetrics {
  defineOnce(registry);
  const attempts = registry.getSingleMetric('webhook_attempts_total') as Counter<'outcome'>;
  const duration = registry.getSingleMetric(
    'webhook_attempt_duration_seconds',
  ) as Histogram<'outcome'>;
  const lag = registry.getSingleMetric('webhook_delivery_lag_seconds') as Histogram;
  return {
    attempt(outcome, seconds) {
      attempts.inc({ outcome });
      duration.observe({ outcome }, seconds);
    },
    delivered: (lagSeconds) => lag.observe(lagSeconds),
  };
}
