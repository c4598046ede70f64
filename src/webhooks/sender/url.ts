import { isIP } from 'node:net';
import { deniedAddressReason } from './address-policy.ts';

export interface EndpointUrlPolicy {
  /** `true`: http to any host (development only); a list: http only to these hosts. */
  allowHttp?: boolean | readonly string[];
  /** Hosts (names or IPs, matched against the URL's host) exempt from the address checks. */
  allowHosts?: readonly string[];
}

export const MAX_ENDPOINT_URL_LENGTH = 2048;

/** Lower-cased host without IPv6 brackets or a trailing dot, in the URL parser's canonical form. */
export function normalizeHost(host: string): string {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  let canonical = bare.toLowerCase();
  try {
    // Lets `::ffff:127.0.0.1` in a list match the URL's canonical `::ffff:7f00:1`, etc.
    canonical = new URL(`http://${isIP(bare) === 6 ? `[${bare}]` : bare}/`).hostname;
  } catch {
    // Not a valid host: compare it as typed, so it simply never matches.
  }
  return canonical.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
}

export function hostMatches(host: string, list: readonly string[] | undefined): boolean {
  if (!list || list.length === 0) return false;
  const target = normalizeHost(host);
  return list.some((entry) => normalizeHost(entry) === target);
}

function httpAllowed(host: string, allowHttp: EndpointUrlPolicy['allowHttp']): boolean {
  if (allowHttp === true) return true;
  return Array.isArray(allowHttp) && hostMatches(host, allowHttp);
}

/**
 * Problems that make a URL unusable for delivery, whenever it is checked: the sender applies
 * these on every attempt too, as the policy may have changed since the endpoint was registered.
 */
export function urlShapeProblems(input: string, policy: EndpointUrlPolicy = {}): string[] {
  if (input.length > MAX_ENDPOINT_URL_LENGTH)
    return [`url must be at most ${MAX_ENDPOINT_URL_LENGTH} characters`];
  // The parser silently strips these, so what we stored would not be what we call.
  if (input.trim() !== input) return ['url must not have leading or trailing whitespace'];
  if (!URL.canParse(input)) return ['url is not a valid absolute URL'];
  const url = new URL(input);
  const problems: string[] = [];
  if (url.protocol === 'http:') {
    if (!httpAllowed(url.hostname, policy.allowHttp)) problems.push('url must use https');
  } else if (url.protocol !== 'https:') {
    problems.push('url must use https');
  }
  if (url.username || url.password) problems.push('url must not contain credentials');
  if (input.includes('#')) problems.push('url must not contain a fragment');
  return problems;
}

/**
 * Registration-time validation; an empty list means acceptable. Adds early, friendly host checks
 * on top of the shape rules. They are a courtesy only: the authoritative check is on the resolved
 * address at connect time, since a public name can point anywhere later.
 */
export function validateEndpointUrl(input: string, policy: EndpointUrlPolicy = {}): string[] {
  const problems = urlShapeProblems(input, policy);
  if (!URL.canParse(input) || input.length > MAX_ENDPOINT_URL_LENGTH) return problems;
  const url = new URL(input);
  const host = normalizeHost(url.hostname);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return problems;
  if (hostMatches(host, policy.allowHosts)) return problems;
  if (isIP(host)) {
    const reason = deniedAddressReason(host);
    if (reason) problems.push(`address ${host} is not allowed: ${reason}`);
  } else if (host === 'localhost' || host.endsWith('.localhost')) {
    problems.push(`host ${host} is not allowed: loopback`);
  } else if (!host.includes('.')) {
    // Single-label names only resolve through local search domains, i.e. to internal services.
    problems.push('host must be a fully qualified domain name');
  }
  return problems;
}
