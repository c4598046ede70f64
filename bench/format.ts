/** Formatting only: importing this must not load the app (memory benches measure from start). */
export const mb = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MB`;
export const ms = (t: number) => `${t.toFixed(0)} ms`;
