import { z } from 'zod';
import { providerNames } from '../providers/catalog.ts';

// The setting parsers the one env schema (src/config.ts) is built of, kept apart from its list of
// settings; each turns one env string into a value.

export const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** JSON text, parsed: a syntax error is an issue on the setting, like any other bad value. */
const jsonText = z.string().transform((text, ctx) => {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `is not JSON (${(err as Error).message})` });
    return z.NEVER;
  }
});

/** PEM text; `\n` escapes accepted, as one-line env files need them. */
export const pem = z
  .string()
  .transform((s) => s.replaceAll('\\n', '\n'))
  .refine((s) => s.includes('-----BEGIN '), 'must be PEM');

export const pricesSchema = jsonText.pipe(
  z.partialRecord(
    z.enum(providerNames),
    z.record(
      z.string().min(1),
      z.record(
        z.string().regex(/^\d+x\d+$/, 'sizes are WxH'),
        z.number().nonnegative().max(1_000, 'is USD per second of video'),
      ),
    ),
  ),
);

/** A model's own caps in MODEL_LIMITS_JSON: any of the three, each at least 1. */
export const modelLimitsSchema = jsonText.pipe(
  z.partialRecord(
    z.enum(providerNames),
    z.record(
      z.string().min(1),
      z
        .strictObject({
          rpm: z.number().int().min(1).optional(),
          max_concurrent: z.number().int().min(1).optional(),
          daily_limit: z.number().int().min(1).optional(),
        })
        .transform((l) => ({
          ...(l.rpm === undefined ? {} : { rpm: l.rpm }),
          ...(l.max_concurrent === undefined ? {} : { maxConcurrent: l.max_concurrent }),
          ...(l.daily_limit === undefined ? {} : { dailyLimit: l.daily_limit }),
        })),
    ),
  ),
);

export const csv = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);
