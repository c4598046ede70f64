export const scopes = [
  'campaigns:read',
  'campaigns:write',
  'metrics:write',
  'reports:read',
  'webhooks:manage',
] as const;

export type Scope = (typeof scopes)[number];

export function isScope(value: string): value is Scope {
  return (scopes as readonly string[]).includes(value);
}
