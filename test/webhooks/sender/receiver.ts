import dc from 'node:diagnostics_channel';
import http, {
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export type Handler = (req: ReceivedRequest, res: ServerResponse, raw: IncomingMessage) => void;

export interface Receiver {
  port: number;
  url(path?: string): string;
  /** Every TCP connection accepted, whether or not a request followed. */
  connections: number;
  requests: ReceivedRequest[];
  handle(handler: Handler): void;
  reset(): void;
  close(): Promise<void>;
}

/** A loopback HTTP server that records what reaches it; the handler decides how to answer. */
export async function startReceiver(): Promise<Receiver> {
  let handler: Handler = (_req, res) => res.writeHead(204).end();
  const state = { connections: 0, requests: [] as ReceivedRequest[] };
  const server = http.createServer((raw, res) => {
    const chunks: Buffer[] = [];
    raw.on('data', (c: Buffer) => chunks.push(c));
    raw.on('end', () => {
      const req: ReceivedRequest = {
        method: raw.method ?? '',
        path: raw.url ?? '',
        headers: raw.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      state.requests.push(req);
      handler(req, res, raw);
    });
  });
  server.on('connection', () => {
    state.connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: (path = '/hook') => `http://127.0.0.1:${port}${path}`,
    get connections() {
      return state.connections;
    },
    get requests() {
      return state.requests;
    },
    handle(h) {
      handler = h;
    },
    reset() {
      state.connections = 0;
      state.requests = [];
      handler = (_req, res) => res.writeHead(204).end();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface SocketWatch {
  /** Client sockets created while watching (net.connect/createConnection). */
  created: Socket[];
  /** Of those, the ones that completed a TCP handshake. */
  connected: Socket[];
  stop(): void;
}

/** Observes outgoing client sockets in this process, to prove a refusal came before connecting. */
export function watchClientSockets(): SocketWatch {
  const watch: SocketWatch = {
    created: [],
    connected: [],
    stop: () => dc.unsubscribe('net.client.socket', onSocket),
  };
  function onSocket(message: unknown) {
    const { socket } = message as { socket: Socket };
    watch.created.push(socket);
    socket.once('connect', () => watch.connected.push(socket));
  }
  dc.subscribe('net.client.socket', onSocket);
  return watch;
}
