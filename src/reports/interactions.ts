/**
 * Lack of fit of the main-effects model: for each pair of dimensions, does adding their two-way
 * interaction explain more than the variation between variants would? Quasi-likelihood F test
 * (McCullagh & Nelder §9.3): F = (deviance drop / added df) / φ, with φ the between-variant
 * Pearson scale (at least 1) of the model with the interaction, on that model's residual df.
 * Each variant is one combination, so an interaction and a variant's own deviation can only be
 * told apart through the other variants that share the pair of levels: a pair whose interaction
 * leaves no residual df gets no test. Pairs beyond MAX_PAIR_COLUMNS are skipped (cost), and the
 * p-values are Holm-adjusted over the pairs tested.
 */
import type { FittedModel, ModelData } from './model.ts';
import { chargedRank, strataSpecs } from './model.ts';
import { fitLogistic, fUpperTail, holm, variantDispersion } from './stats/index.ts';

/** Interaction columns (levels_a × levels_b) above which a pair is not tested. */
const MAX_PAIR_COLUMNS = 200;
/** Rows × interaction columns above which a pair is not tested: keeps the report's time bounded. */
const MAX_PAIR_WORK = 2_000_000;

export interface InteractionTest {
  dimensions: [string, string];
  /** Parameters the interaction adds beyond the main effects (0: none estimable). */
  df: number;
  deviance_drop: number | null;
  residual_df: number | null;
  f: number | null;
  p_value: number | null;
  p_adjusted: number | null;
  note: string | null;
}

export function interactionTests(
  dims: readonly { key: string; levels: readonly string[] }[],
  data: ModelData,
  main: FittedModel,
): InteractionTest[] {
  const D = dims.length;
  const out: InteractionTest[] = [];
  for (let a = 0; a < D; a++) {
    for (let b = a + 1; b < D; b++) {
      const La = dims[a]!.levels.length;
      const Lb = dims[b]!.levels.length;
      const empty = {
        df: 0,
        deviance_drop: null,
        residual_df: null,
        f: null,
        p_value: null,
        p_adjusted: null,
      };
      const pair: [string, string] = [dims[a]!.key, dims[b]!.key];
      if (La * Lb > MAX_PAIR_COLUMNS) {
        out.push({
          dimensions: pair,
          ...empty,
          note: `not tested: more than ${MAX_PAIR_COLUMNS} level pairs`,
        });
        continue;
      }
      // The fit's cost grows with rows × columns; the main effects' columns are its rank.
      if (data.rows.length * (main.fit.rank + La * Lb) > MAX_PAIR_WORK) {
        out.push({
          dimensions: pair,
          ...empty,
          note: `not tested: ${data.rows.length} rows × ${La * Lb} level pairs is past the report's work bound`,
        });
        continue;
      }
      out.push({
        dimensions: pair,
        ...pairTest(dims, data, main, a, b),
        p_adjusted: null,
        note: null,
      });
    }
  }
  const adjusted = holm(out.map((t) => t.p_value));
  return out.map((t, k) => ({
    ...t,
    p_adjusted: Number.isNaN(adjusted[k]!) ? null : adjusted[k]!,
  }));
}

function pairTest(
  dims: readonly { key: string; levels: readonly string[] }[],
  data: ModelData,
  main: FittedModel,
  a: number,
  b: number,
): Omit<InteractionTest, 'dimensions' | 'note' | 'p_adjusted'> {
  const D = dims.length;
  const Lb = dims[b]!.levels.length;
  const pairLevels = Array.from({ length: dims[a]!.levels.length * Lb }, (_, k) => String(k));
  const specs = dims.map((d) => ({ name: d.key, levels: d.levels }));
  specs.push({ name: `${dims[a]!.key}:${dims[b]!.key}`, levels: pairLevels });
  specs.push(...strataSpecs(data));
  const rows = data.rows.map((r) => {
    const levels = r.levels.slice(0, D);
    levels.push(r.levels[a]! * Lb + r.levels[b]!, ...r.levels.slice(D));
    return { levels, successes: r.successes, trials: r.trials };
  });
  const fit = fitLogistic({ dimensions: specs, rows });
  const df = fit.rank - main.fit.rank;
  const none = {
    df: Math.max(0, df),
    deviance_drop: null,
    residual_df: null,
    f: null,
    p_value: null,
  };
  if (df <= 0 || !fit.converged) return none;
  const dispersion = variantDispersion({
    successes: rows.map((r) => r.successes),
    trials: rows.map((r) => r.trials),
    fitted: fit.fitted,
    group: data.group,
    variants: data.variants,
    rank: chargedRank(fit, D + 1, data),
  });
  if (dispersion.scale === null) return { ...none, residual_df: 0 };
  const drop = Math.max(0, main.fit.deviance - fit.deviance);
  const f = drop / df / dispersion.scale;
  return {
    df,
    deviance_drop: drop,
    residual_df: dispersion.residual_df,
    f,
    p_value: fUpperTail(f, df, dispersion.residual_df),
  };
}
