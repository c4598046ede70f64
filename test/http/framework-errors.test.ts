import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';

// Over a real socket: inject() skips Node's HTTP parser, where half of these errors are raised.
let t: TestApp;
let port: number;
beforeAll(async () => {
  t = await createTestApp();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const address = t.app.server.address();
  port = typeof address === 'object' && address ? address.port : 0;
});
afterAll(() => t.close());

/** Writes raw bytes, reads until the server closes (or the response is complete). */
function raw(request: string): Promise<{ status: number; headers: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete response; got: ${data.slice(0, 300)}`));
    }, 10_000);
    const done = () => {
      const [head = '', ...rest] = data.split('\r\n\r\n');
      const body = rest.join('\r\n\r\n');
      const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? Number.NaN);
      if (!head || Number.isNaN(length) || Buffer.byteLength(body) < length) return false;
      clearTimeout(timer);
      socket.destroy();
      resolve({ status: Number(head.split(' ')[1]), headers: head, body: body.slice(0, length) });
      return true;
    };
    socket.on('data', (d) => {
      data += d.toString();
      done();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      if (!done()) {
        clearTimeout(timer);
        reject(new Error(`closed without a complete response; got: ${data.slice(0, 300)}`));
      }
    });
    socket.write(request);
  });
}

function expectProblem(res: { status: number; headers: string; body: string }, status: number) {
  expect(res.status).toBe(status);
  expect(res.headers).toMatch(/content-type: application\/problem\+json/i);
  const body = JSON.parse(res.body);
  expect(body).toMatchObject({ status, type: expect.stringContaining('https://admatrix.dev/') });
  expect(body.request_id).toMatch(/^req_/);
  return body;
}

describe('framework and parser errors are problem+json', () => {
  it('431 for a URL over 16 KB', async () => {
    const res = await raw(`GET /v1/campaigns?q=${'a'.repeat(17_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    expectProblem(res, 431);
  });

  it('431 for headers over 16 KB', async () => {
    const res = await raw(
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(17_000)}\r\n\r\n`,
    );
    expectProblem(res, 431);
  });

  it('414 for a path parameter over 100 characters', async () => {
    const res = await raw(`GET /v1/campaigns/${'c'.repeat(101)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    const body = expectProblem(res, 414);
    expect(body.instance).toBe(`/v1/campaigns/${'c'.repeat(101)}`);
  });

  it('400 for a bad percent-encoding', async () => {
    const res = await raw('GET /v1/campaigns/%FF HTTP/1.1\r\nHost: x\r\n\r\n');
    const body = expectProblem(res, 400);
    expect(body.errors[0].path).toBe('params');
  });

  it('400 for Content-Length with Transfer-Encoding', async () => {
    const res = await raw(
      'POST /v1/campaigns HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n',
    );
    expectProblem(res, 400);
  });

  it('still answers normally on a fresh connection afterwards', async () => {
    const res = await raw('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(res.status).toBe(200);
  });
});
