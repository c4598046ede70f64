import { z } from 'zod';

const modelSchema = z.object({
  id: z.string().meta({ examples: ['gen4.5'] }),
  text_to_video: z.boolean().describe('Renders from a prompt alone'),
  image_to_video: z
    .boolean()
    .describe('Takes a first-frame image (the campaign video.reference_asset_id)'),
  seconds: z.array(z.number().int()).describe('Clip lengths it renders'),
  sizes: z
    .object({
      text_to_video: z.array(z.string()),
      image_to_video: z.array(z.string()),
    })
    .describe('WIDTHxHEIGHT sizes per mode (some models take more sizes from an image)'),
  audio: z.boolean().describe('Can add a soundtrack'),
  prompt_max_chars: z
    .number()
    .int()
    .nullable()
    .describe('Longest prompt it takes; null where the provider states none'),
  price_per_second_usd: z
    .record(z.string(), z.number())
    .describe('USD per second of video by size (PRICES_JSON applied): the quote uses these'),
  limits: z
    .object({
      rpm: z.number().int().nullable(),
      max_concurrent: z.number().int().nullable(),
      daily_limit: z.number().int().nullable(),
    })
    .nullable()
    .describe(
      "This model's own caps (catalog, MODEL_LIMITS_JSON), counted over its renders alone; null (or a null field) = its provider's. The provider's limits still bound all its models together",
    ),
});

const accountSchema = z
  .object({
    credit_balance: z.number(),
    balance_usd: z.number(),
    max_monthly_spend_usd: z.number(),
    models: z.record(
      z.string(),
      z.object({
        max_concurrent: z.number().int().nullable(),
        max_daily: z.number().int().nullable(),
        daily_used: z.number().int(),
      }),
    ),
  })
  .describe("The provider's own figures (Runway: credit balance and tier limits)");

export const providerListSchema = z
  .object({
    data: z.array(
      z.object({
        name: z.string().meta({ examples: ['runway'] }),
        default_model: z.string(),
        models: z.array(modelSchema),
        limits: z
          .object({
            rpm: z.number().int().nullable(),
            max_concurrent: z.number().int().nullable(),
            daily_limit: z.number().int().nullable(),
          })
          .nullable()
          .describe(
            "This deployment's own limits (<PROVIDER>_RPM, _MAX_CONCURRENT, _DAILY_LIMIT); null for local",
          ),
        account: accountSchema
          .nullable()
          .describe('null where the provider reports none, or did not answer in time'),
        account_error: z
          .string()
          .nullable()
          .describe('Why account is null for a provider that reports one'),
      }),
    ),
    not_configured: z
      .array(z.string())
      .describe('Providers admatrix knows but this deployment has no key for: a 422 if asked for'),
  })
  .meta({
    id: 'ProviderList',
    examples: [
      {
        data: [
          {
            name: 'runway',
            default_model: 'gen4.5',
            models: [
              {
                id: 'gen4.5',
                text_to_video: true,
                image_to_video: true,
                seconds: [2, 3, 4, 5, 6, 7, 8, 9, 10],
                sizes: {
                  text_to_video: ['1280x720', '720x1280'],
                  image_to_video: ['1280x720', '720x1280', '960x960'],
                },
                audio: false,
                prompt_max_chars: 1000,
                price_per_second_usd: { '1280x720': 0.12, '720x1280': 0.12, '960x960': 0.12 },
                limits: { rpm: null, max_concurrent: 2, daily_limit: 100 },
              },
            ],
            limits: { rpm: 60, max_concurrent: 1, daily_limit: null },
            account: {
              credit_balance: 12_000,
              balance_usd: 120,
              max_monthly_spend_usd: 1_000,
              models: { 'gen4.5': { max_concurrent: 1, max_daily: 50, daily_used: 3 } },
            },
            account_error: null,
          },
        ],
        not_configured: ['openai', 'fal'],
      },
    ],
  });
