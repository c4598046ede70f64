import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AssetService } from '../assets/service.ts';
import type { CampaignService } from '../campaigns/service.ts';
import type { SecretBox } from '../crypto/secrets.ts';
import type { Db } from '../db/client.ts';
import type { DeliveryService } from '../deliveries/service.ts';
import type { AuthFailureLimiter } from '../http/auth-failures.ts';
import { problems } from '../http/problem.ts';
import type { KeyRateLimit } from '../http/rate-limit.ts';
import type { MatrixService } from '../matrices/service.ts';
import type { WorkerDirectory } from '../ops/heartbeat.ts';
import type { ProviderDirectory } from '../providers/service.ts';
import type { ReportService } from '../reports/service.ts';
import type { ReviewService } from '../reviews/service.ts';
import type { RunService } from '../runs/service.ts';
import type { TenantService } from '../tenants/service.ts';
import type { VariantService } from '../variants/service.ts';
import type { WebhookService } from '../webhooks/service.ts';
import type { SafeHtml } from './html.ts';
import type { PageContext } from './layout.ts';
import type { ConsoleSession, SessionStore } from './session.ts';

/** The console calls the same services as /v1: quote, run, review and report rules live there. */
export interface ConsoleDeps {
  db: Db;
  box: SecretBox;
  tenants: Pick<TenantService, 'authenticate'>;
  sessions: SessionStore;
  /** Failed sign-ins per client address, counted with /v1's failed keys; null = unlimited. */
  signInLimiter: AuthFailureLimiter | null;
  campaigns: CampaignService;
  assets: Pick<AssetService, 'upload'>;
  uploadLimitBytes: number;
  providers: ProviderDirectory;
  matrices: MatrixService;
  runs: RunService;
  variants: VariantService;
  reviews: ReviewService;
  reports: ReportService;
  deliveries: DeliveryService;
  webhooks: WebhookService;
  workers: WorkerDirectory;
  maxFileBytes: number;
  /** The most variants one "approve/reject all matching" touches (CONSOLE_BULK_REVIEW_MAX). */
  bulkReviewMax: number;
  /** /v1's per-key budget (RATE_LIMIT_PER_MINUTE), shared; null = unlimited. */
  rateLimit: KeyRateLimit | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    consoleSession: ConsoleSession | null;
  }
}

export type Form = Record<string, string | string[]>;

export function sessionOf(request: FastifyRequest): ConsoleSession {
  if (!request.consoleSession) throw problems.unauthorized('Sign in first.');
  return request.consoleSession;
}

export function pageContext(request: FastifyRequest): PageContext {
  const s = sessionOf(request);
  return { csrfToken: s.csrfToken, keyPrefix: s.auth.keyPrefix, scopes: s.auth.scopes };
}

export const tenantOf = (request: FastifyRequest) => sessionOf(request).auth.tenantId;

export function formOf(request: FastifyRequest): Form {
  return (request.body ?? {}) as Form;
}

/** The first value of a form field, trimmed; '' when absent. */
export function field(form: Form, name: string): string {
  const v = form[name];
  return (Array.isArray(v) ? (v[0] ?? '') : (v ?? '')).trim();
}

export function fields(form: Form, name: string): string[] {
  const v = form[name];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

export function sendHtml(reply: FastifyReply, body: SafeHtml, status = 200) {
  return reply.code(status).type('text/html; charset=utf-8').send(body.value);
}

export function seeOther(reply: FastifyReply, location: string) {
  return reply.code(303).header('location', location).send();
}

/** Ids in console URLs: the services answer 404 for anything not the tenant's own. */
export const idParam = (request: FastifyRequest) => {
  const id = (request.params as { id?: string }).id ?? '';
  if (!/^[a-z]{2,4}_[0-9a-z]{10,40}$/.test(id)) throw problems.notFound('object');
  return id;
};

export const usd = (n: number | null | undefined) =>
  n === null || n === undefined ? '—' : `$${n.toFixed(2)}`;
