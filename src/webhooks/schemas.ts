import { z } from 'zod';
import { eventTypes } from '../events/types.ts';
import { paginationQuery } from '../http/pagination.ts';

const eventsField = z
  .array(z.enum(eventTypes))
  .min(1)
  .max(eventTypes.length)
  .transform((list) => [...new Set(list)])
  .describe('Event types sent to this endpoint');

export const createEndpointBody = z
  .object({
    url: z.string().min(1).max(2048).describe('https; http only to hosts the deployment allows'),
    events: eventsField,
    description: z.string().trim().max(500).optional(),
  })
  .meta({
    examples: [
      {
        url: 'https://hooks.example.org/admatrix',
        events: ['variant.ready', 'run.completed'],
        description: 'Production',
      },
    ],
  });

export const updateEndpointBody = z
  .object({
    url: z.string().min(1).max(2048),
    events: eventsField,
    description: z.string().trim().max(500).nullable(),
    enabled: z.boolean().describe('Re-enabling clears the reason it was disabled'),
  })
  .partial();

export const endpointSchema = z
  .object({
    id: z.string(),
    url: z.string(),
    events: z.array(z.string()),
    description: z.string().nullable(),
    enabled: z.boolean(),
    disabled_reason: z.string().nullable(),
    disabled_at: z.iso.datetime().nullable(),
    failing_since: z.iso.datetime().nullable(),
    previous_secret_expires_at: z.iso
      .datetime()
      .nullable()
      .describe('Until then, deliveries carry a signature with the previous secret too'),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .meta({ id: 'WebhookEndpoint' });

export const endpointWithSecretSchema = endpointSchema
  .extend({ secret: z.string().describe('whsec_…, shown only now') })
  .meta({ id: 'WebhookEndpointWithSecret' });

export const attemptSchema = z
  .object({
    id: z.string(),
    event_id: z.string(),
    delivery_id: z.string(),
    attempt: z.number().int(),
    outcome: z.enum(['delivered', 'failed', 'blocked', 'gone', 'throttled']),
    status_code: z.number().int().nullable(),
    duration_ms: z.number().int(),
    response_excerpt: z.string().nullable(),
    error: z.string().nullable(),
    created_at: z.iso.datetime(),
  })
  .meta({ id: 'WebhookAttempt' });

export const listAttemptsQuery = paginationQuery.extend({
  event_id: z.string().max(64).optional(),
});

export const eventSchema = z
  .object({
    id: z.string(),
    type: z.string(),
    created_at: z.iso.datetime(),
    data: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'Event' });

export const listEventsQuery = paginationQuery.extend({
  type: z.enum(eventTypes).optional(),
});

export const replayBody = z
  .object({
    endpoint_id: z
      .string()
      .max(64)
      .optional()
      .describe('Only this endpoint; by default every enabled endpoint subscribed to the type'),
  })
  // A POST with no body at all arrives as null.
  .nullish();

export const replayResponse = z.object({
  event_id: z.string(),
  deliveries: z.array(z.object({ id: z.string(), endpoint_id: z.string() })),
});

export const idParams = z.object({ id: z.string().min(1).max(64) });
