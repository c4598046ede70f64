import { endsAtMs } from './behaviour.ts';
import type { VideoStore } from './store.ts';
import type { FakeVideoRecord, SentWebhook, WebhookConfig } from './types.ts';
import { buildEvent, generateWebhookSecret, postWebhook } from './webhooks.ts';

type Webhook = Required<WebhookConfig>;

/**
 * Timers only wake the dispatcher; whether an event is due is decided by the store's clock.
 * With an injected clock there are no timers at all (they run on real time and would race the
 * test): the test calls `deliverDue()` after moving its clock.
 */
export class WebhookDispatcher {
  private readonly store: VideoStore;
  private readonly timed: boolean;
  private hook: Webhook | null = null;
  private readonly notified = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<Promise<SentWebhook>>();

  constructor(store: VideoStore, timed: boolean) {
    this.store = store;
    this.timed = timed;
  }

  get secret(): string | undefined {
    return this.hook?.secret;
  }

  configure(c: WebhookConfig | null | undefined): void {
    this.hook = c ? { url: c.url, secret: c.secret ?? generateWebhookSecret() } : null;
  }

  schedule(r: FakeVideoRecord): void {
    if (!this.timed || !this.hook || r.renderOutcome === 'never_finish' || this.notified.has(r.id))
      return;
    const t = setTimeout(
      () => {
        this.timers.delete(t);
        void this.deliverDue();
      },
      Math.max(0, endsAtMs(r) - this.store.now()) + 1,
    );
    t.unref();
    this.timers.add(t);
  }

  async deliverDue(): Promise<void> {
    const hook = this.hook;
    if (!hook) return;
    const nowMs = this.store.now();
    const started: Promise<SentWebhook>[] = [];
    for (const r of this.store.records.values()) {
      if (this.notified.has(r.id) || r.renderOutcome === 'never_finish' || endsAtMs(r) > nowMs) {
        continue;
      }
      this.notified.add(r.id);
      const type = r.renderOutcome === 'completed' ? 'video.completed' : 'video.failed';
      const event = buildEvent(type, r.id, Math.floor(endsAtMs(r) / 1000));
      started.push(this.send(hook, event.id, type, r.id, JSON.stringify(event)));
    }
    await Promise.all(started);
  }

  /** Same `webhook-id` and body, fresh timestamp and signature: what a retrying sender does. */
  redeliver(eventId: string): Promise<SentWebhook> {
    const prev = this.store.sentWebhooks.find((w) => w.eventId === eventId);
    if (!prev) throw new Error(`no webhook event ${eventId} was sent`);
    if (!this.hook) throw new Error('no webhook configured');
    return this.send(this.hook, prev.eventId, prev.type, prev.videoId, prev.body);
  }

  private send(
    hook: Webhook,
    eventId: string,
    type: SentWebhook['type'],
    videoId: string,
    body: string,
  ): Promise<SentWebhook> {
    const p = postWebhook(hook.url, hook.secret, eventId, type, videoId, body).then((sent) => {
      this.store.sentWebhooks.push(sent);
      return sent;
    });
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
    return p;
  }

  reset(): void {
    this.stopTimers();
    this.notified.clear();
  }

  async close(): Promise<void> {
    this.stopTimers();
    await Promise.allSettled([...this.inFlight]);
  }

  private stopTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
