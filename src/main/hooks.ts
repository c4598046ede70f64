/**
 * Module hooks, registered by the entry points before anything else is imported.
 *
 * drizzle-orm is loaded through its CommonJS build. Node 24's ESM resolver, for every import
 * inside a package, re-parses that package's whole `exports` map (while reading its "type"), and
 * drizzle-orm's package.json is 179 KB for an ESM build of 448 files. Importing it allocated
 * about 150 MB of garbage that V8 then kept as resident memory: 298 MB RSS for the import alone,
 * against 73 MB (and 120 ms instead of 450 ms) through the CommonJS build. Every import of
 * drizzle-orm in the process goes through here, so there is one copy of it, never both.
 */
import { registerHooks } from 'node:module';

const drizzle = /^drizzle-orm(\/|$)/;

registerHooks({
  resolve(specifier, context, nextResolve) {
    if (!drizzle.test(specifier)) return nextResolve(specifier, context);
    return nextResolve(specifier, {
      ...context,
      conditions: [...context.conditions.filter((c) => c !== 'import'), 'require'],
    });
  },
});
