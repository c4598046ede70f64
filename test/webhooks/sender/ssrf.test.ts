import http from 'node:http';
import type { LookupFunction } from 'node:net';
import { RequestFilteringHttpAgent } from 'request-filtering-agent';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { deniedAddressReason, guardLookup } from '../../../src/webhooks/sender/address-policy.ts';
import { createWebhookSender } from '../../../src/webhooks/sender/index.ts';
import { AGENT_REFUSAL } from '../../../src/webhooks/sender/send.ts';
import { type Receiver, type SocketWatch, startReceiver, watchClientSockets } from './receiver.ts';

const body = '{"type":"run.completed"}';
const headers = { 'content-type': 'application/json' };

let receiver: Receiver;
let sockets: SocketWatch;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(() => receiver.close());
beforeEach(() => {
  receiver.reset();
  sockets = watchClientSockets();
  return () => sockets.stop();
});

// Every host points at the loopback receiver's port: the loopback ones would reach it if the
// filter failed, and each test also asserts that no socket connected anywhere.
const literals: [host: string, canonical: string][] = [
  ['127.0.0.1', '127.0.0.1'],
  ['[::1]', '::1'],
  ['10.0.0.1', '10.0.0.1'],
  ['172.16.0.1', '172.16.0.1'],
  ['192.168.1.1', '192.168.1.1'],
  ['169.254.169.254', '169.254.169.254'],
  ['100.64.0.1', '100.64.0.1'],
  ['0.0.0.0', '0.0.0.0'],
  ['[fc00::1]', 'fc00::1'],
  ['[fe80::1]', 'fe80::1'],
  ['[::ffff:127.0.0.1]', '::ffff:7f00:1'],
  ['[::ffff:7f00:1]', '::ffff:7f00:1'],
  // Beyond the brief's list: forms the URL parser turns into loopback, and ranges the agent misses.
  ['0x7f.1', '127.0.0.1'],
  ['2130706433', '127.0.0.1'],
  ['[::127.0.0.1]', '::7f00:1'],
  ['[64:ff9b::a00:1]', '64:ff9b::a00:1'],
  ['[2002:7f00:1::1]', '2002:7f00:1::1'],
  ['255.255.255.255', '255.255.255.255'],
  ['224.0.0.1', '224.0.0.1'],
  ['[ff02::1]', 'ff02::1'],
];

describe('default sender (no allowHosts)', () => {
  const httpSender = createWebhookSender({ allowHttp: true });
  const defaultSender = createWebhookSender();

  it.each(literals)('blocks http://%s before any socket exists', async (host, canonical) => {
    const result = await httpSender.send({
      url: `http://${host}:${receiver.port}/hook`,
      headers,
      body,
    });
    expect(result.outcome).toBe('blocked');
    // The tenant-visible error names no address; the operator detail does.
    expect(result.error).toBe('blocked: private address');
    expect(result.detail).toContain(`address ${canonical} is not allowed`);
    expect(result.status).toBeUndefined();
    expect(sockets.created).toHaveLength(0);
    expect(receiver.connections).toBe(0);
  });

  it.each(literals)('blocks https://%s before any socket exists', async (host, canonical) => {
    const result = await defaultSender.send({
      url: `https://${host}:${receiver.port}/`,
      headers,
      body,
    });
    expect(result).toMatchObject({ outcome: 'blocked', error: 'blocked: private address' });
    expect(result.detail).toContain(`address ${canonical} is not allowed`);
    expect(sockets.created).toHaveLength(0);
    expect(receiver.connections).toBe(0);
  });

  it.each(['http', 'https'])(
    'blocks %s://localhost at DNS time, without connecting',
    async (scheme) => {
      const sender = scheme === 'http' ? httpSender : defaultSender;
      const result = await sender.send({
        url: `${scheme}://localhost:${receiver.port}/`,
        headers,
        body,
      });
      expect(result.outcome).toBe('blocked');
      expect(result.error).toBe('blocked: private address');
      expect(result.detail).toMatch(
        /^address (127\.0\.0\.1|::1) \(resolved from localhost\) is not allowed: loopback$/,
      );
      // The socket exists (the lookup runs inside connect) but never completes a handshake.
      expect(sockets.created).toHaveLength(1);
      expect(sockets.connected).toHaveLength(0);
      expect(receiver.connections).toBe(0);
    },
  );

  it('refuses http unless allowed, even to a public host', async () => {
    const result = await defaultSender.send({ url: 'http://example.com/hook', headers, body });
    expect(result).toMatchObject({ outcome: 'blocked', error: 'url must use https' });
    expect(sockets.created).toHaveLength(0);
  });
});

describe('connect-time checks on resolved names', () => {
  /** A resolver under test control: the name is public-looking, its answer is not. */
  function resolvingTo(addresses: string[]) {
    const asked: string[] = [];
    const lookup: LookupFunction = (hostname, options, callback) => {
      asked.push(hostname);
      const entries = addresses.map((address) => ({
        address,
        family: address.includes(':') ? 6 : 4,
      }));
      if (options.all) callback(null, entries);
      else callback(null, entries[0]!.address, entries[0]!.family);
    };
    return { lookup, asked };
  }

  it.each([
    [['10.0.0.1'], '10.0.0.1', 'private'],
    [['169.254.169.254'], '169.254.169.254', 'link-local/cloud metadata'],
    [['100.64.0.1'], '100.64.0.1', 'carrier-grade NAT'],
    [['fd00::1'], 'fd00::1', 'unique local (private)'],
    [['::ffff:a9fe:a9fe'], '::ffff:a9fe:a9fe', 'IPv4-mapped IPv6'],
    // One bad answer among good ones is enough: happy eyeballs may pick any of them.
    [['93.184.215.14', '127.0.0.1'], '127.0.0.1', 'loopback'],
  ])(
    'a name resolving to %j is blocked, checked at send time',
    async (addresses, address, reason) => {
      const { lookup, asked } = resolvingTo(addresses);
      const sender = createWebhookSender({ lookup });
      const result = await sender.send({ url: 'https://hooks.customer.example/in', headers, body });
      expect(asked).toEqual(['hooks.customer.example']);
      expect(result).toEqual({
        outcome: 'blocked',
        durationMs: expect.any(Number),
        // What the tenant's attempt log gets: not what its name resolved to.
        error: 'blocked: private address',
        detail: `address ${address} (resolved from hooks.customer.example) is not allowed: ${reason}`,
      });
      expect(sockets.connected).toHaveLength(0);
    },
  );

  it('passes public answers through unchanged', async () => {
    const { lookup } = resolvingTo(['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c']);
    const guarded = guardLookup(lookup);
    const answer = await new Promise<unknown[]>((resolve) =>
      guarded('example.com', { all: true }, (err, address) => resolve([err, address])),
    );
    expect(answer).toEqual([
      null,
      [
        { address: '93.184.215.14', family: 4 },
        { address: '2606:2800:21f:cb07:6820:80da:af6b:8b2c', family: 6 },
      ],
    ]);
  });
});

describe('allowHosts', () => {
  it('lets the listed host reach the receiver', async () => {
    const sender = createWebhookSender({ allowHosts: ['127.0.0.1'], allowHttp: ['127.0.0.1'] });
    const result = await sender.send({ url: receiver.url(), headers, body });
    expect(result).toMatchObject({ outcome: 'delivered', status: 204 });
    expect(receiver.requests).toHaveLength(1);
    // Proves the socket watch used by the blocking tests does see real connections.
    expect(sockets.created).toHaveLength(1);
    expect(sockets.connected).toHaveLength(1);
  });

  it('matches the URL host, not whatever another name resolves to', async () => {
    const sender = createWebhookSender({ allowHosts: ['127.0.0.1'], allowHttp: true });
    const result = await sender.send({ url: `http://localhost:${receiver.port}/`, headers, body });
    expect(result.outcome).toBe('blocked');
    expect(receiver.connections).toBe(0);
  });

  it('exempts a host name (e.g. a docker-compose service) and still uses the given resolver', async () => {
    const lookup: LookupFunction = (_host, options, callback) =>
      options.all
        ? callback(null, [{ address: '127.0.0.1', family: 4 }])
        : callback(null, '127.0.0.1', 4);
    const sender = createWebhookSender({
      allowHosts: ['Receiver.Test'],
      allowHttp: ['receiver.test'],
      lookup,
    });
    const result = await sender.send({
      url: `http://receiver.test:${receiver.port}/`,
      headers,
      body,
    });
    expect(result).toMatchObject({ outcome: 'delivered', status: 204 });
    expect(receiver.requests[0]?.headers.host).toBe(`receiver.test:${receiver.port}`);
  });
});

describe('request-filtering-agent as the second layer', () => {
  // Only loopback targets here: if the agent let one through, it would reach our receiver.
  it.each(['127.0.0.1', '[::1]', '[::ffff:7f00:1]', 'localhost'])(
    'refuses %s by itself, with a message our classifier recognises',
    async (host) => {
      const agent = new RequestFilteringHttpAgent();
      const error = await new Promise<Error>((resolve, reject) => {
        const req = http.request(`http://${host}:${receiver.port}/`, { agent }, () =>
          reject(new Error('the agent let the request through')),
        );
        req.on('error', resolve);
        req.end();
      });
      expect(error.message).toMatch(AGENT_REFUSAL);
      expect(receiver.connections).toBe(0);
    },
  );
});

describe('deniedAddressReason', () => {
  it.each([
    ['127.255.255.254', 'loopback'],
    ['10.255.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.0.1', 'private'],
    ['100.127.255.255', 'carrier-grade NAT'],
    ['0.1.2.3', 'unspecified/"this network"'],
    ['198.18.0.1', 'benchmarking'],
    ['192.0.2.1', 'documentation'],
    ['240.0.0.1', 'reserved'],
    ['::', 'unspecified'],
    ['::ffff:10.0.0.1', 'IPv4-mapped IPv6'],
    ['fdff::1', 'unique local (private)'],
    ['febf::1', 'link-local'],
    ['fec0::1', 'site-local'],
    ['2001:0::1', 'IETF special-purpose (incl. Teredo)'],
    ['2001:db8::1', 'documentation'],
    ['100::1', 'not global unicast'],
    ['4000::1', 'not global unicast'],
    ['example.com', 'not an IP address'],
  ])('%s: %s', (address, reason) => {
    expect(deniedAddressReason(address)).toBe(reason);
  });

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '172.32.0.1',
    '100.128.0.1',
    '169.255.0.1',
    '2606:4700:4700::1111',
    '2a00:1450:4001::200e',
  ])('allows the public address %s', (address) => {
    expect(deniedAddressReason(address)).toBeUndefined();
  });
});
