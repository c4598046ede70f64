import { defineConfig } from 'drizzle-kit';

// drizzle-kit only generates SQL from the schema here; `admatrix migrate` applies it.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema.ts',
  out: './migrations',
});
