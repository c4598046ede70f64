#!/usr/bin/env node
// Hooks apply only to imports resolved after they are registered, hence the dynamic import.
import './hooks.ts';

const { run } = await import('./commands.ts');
await run(process.argv.slice(2));
