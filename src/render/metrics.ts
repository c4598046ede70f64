import { Counter, Histogram, type Registry } from 'prom-client';

export interface RenderMetrics {
  providerError(provider: string, code: string, kind: string): void;
  settled(provider: string, status: string, renderSeconds?: number): void;
}

function defineOnce(registry: Registry) {
  // Workers restarted in one process (tests, the demo) share a registry: define once, reuse.
  if (registry.getSingleMetric('provider_errors_total')) return;
  new Counter({
    name: 'provider_errors_total',
    help: 'Errors answered by video providers, by provider, code and kind',
    labelNames: ['provider', 'code', 'kind'],
    registers: [registry],
  });
  new Counter({
    name: 'variants_settled_total',
    help: 'Variants that left the pipeline, by provider and final status',
    labelNames: ['provider', 'status'],
    registers: [registry],
  });
  new Histogram({
    name: 'render_duration_seconds',
    help: 'From the first submit attempt to ready, per provider',
    labelNames: ['provider'],
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600],
    registers: [registry],
  });
}

/** What an operator pages on: render time per provider, and provider errors by code. */
export function createRenderMetrics(registry: Registry): RenderMetrics {
  defineOnce(registry);
  const errors = registry.getSingleMetric('provider_errors_total') as Counter<
    'provider' | 'code' | 'kind'
  >;
  const settled = registry.getSingleMetric('variants_settled_total') as Counter<
    'provider' | 'status'
  >;
  const duration = registry.getSingleMetric('render_duration_seconds') as Histogram<'provider'>;
  return {
    providerError: (provider, code, kind) => errors.inc({ provider, code, kind }),
    settled(provider, status, renderSeconds) {
      settled.inc({ provider, status });
      if (renderSeconds !== undefined) duration.observe({ provider }, renderSeconds);
    },
  };
}
