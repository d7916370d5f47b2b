import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpClient } from '../../../src/http/client.js';
import { createRegistryClient } from '../../../src/registry/index.js';

/**
 * A TCP server on 127.0.0.1 that accepts connections and answers what it is
 * told to: `silent` never says a word (a hung registry, or a TLS handshake
 * that never completes); `plain` answers plain HTTP requests with a registry's
 * `200 {}` and leaves TLS handshakes hanging (an insecure registry whose
 * HTTPS port drops packets, on the same port for the test's sake).
 */
interface RawServer {
  host: string;
  /** Connections whose first byte was a TLS handshake record. */
  tlsConnections: number;
  /** Connections that sent plain HTTP. */
  plainConnections: number;
  close(): Promise<void>;
}

const servers: RawServer[] = [];
const closers: Array<{ close(): Promise<void> }> = [];

afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function rawServer(mode: 'silent' | 'plain'): Promise<RawServer> {
  const sockets = new Set<Socket>();
  const state = { tlsConnections: 0, plainConnections: 0 };
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => sockets.delete(socket));
    socket.once('data', (chunk: Buffer) => {
      // 0x16: a TLS handshake record (RFC 8446 section 5.1).
      if (chunk[0] === 0x16) {
        state.tlsConnections++;
        return;
      }
      state.plainConnections++;
      if (mode === 'plain') socket.end('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}');
    });
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  const raw: RawServer = {
    host: `127.0.0.1:${address.port}`,
    get tlsConnections() {
      return state.tlsConnections;
    },
    get plainConnections() {
      return state.plainConnections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  servers.push(raw);
  return raw;
}

describe('timeouts', () => {
  it('retries a request whose response headers time out once, not four times', async () => {
    const server = await rawServer('silent');
    const http = createHttpClient({ userAgent: 'test', timeouts: { headersMs: 150 }, retry: { baseDelayMs: 1, maxDelayMs: 2 } });
    closers.push(http);
    const err = await http.request({ method: 'GET', url: `http://${server.host}/v2/` }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'TIMEOUT' });
    expect(server.plainConnections).toBe(2);
  });

  it('still retries other transient failures up to the attempt limit', async () => {
    // A server that drops every connection at once: ECONNRESET/UND_ERR_SOCKET, retried as before.
    const dropper = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => dropper.listen({ host: '127.0.0.1', port: 0 }, resolve));
    let connections = 0;
    dropper.on('connection', () => connections++);
    const address = dropper.address();
    if (address === null || typeof address === 'string') throw new Error('no address');
    const lines: string[] = [];
    const http = createHttpClient({ userAgent: 'test', retry: { baseDelayMs: 1, maxDelayMs: 2 }, log: (line) => lines.push(line) });
    closers.push(http, { close: () => new Promise<void>((resolve) => dropper.close(() => resolve())) });
    await expect(http.request({ method: 'GET', url: `http://127.0.0.1:${address.port}/v2/` })).rejects.toMatchObject({ code: 'NETWORK' });
    expect(connections).toBe(4);
    // --debug shows each wait, so four attempts are not invisible.
    expect(lines.filter((l) => /^http: \.\. retrying GET http:\/\/127\.0\.0\.1:\d+\/v2\/ in \d+ ms \(NETWORK; attempt [234] of 4\)$/.test(l))).toHaveLength(3);
  });

  it('does not retry a timed-out HTTPS probe when the registry may fall back to plain HTTP', async () => {
    const server = await rawServer('plain');
    const lines: string[] = [];
    const client = createRegistryClient({
      version: 'test',
      env: {},
      timeouts: { connectMs: 150 },
      retry: { baseDelayMs: 1, maxDelayMs: 2 },
      log: (line) => lines.push(line),
      // Marked, HTTPS goes first (unmarked, a loopback registry is asked over plain HTTP first).
      insecure: [server.host],
    });
    closers.push(client);
    const result = await client.ping(server.host);
    expect(result).toMatchObject({ baseUrl: `http://${server.host}`, status: 200 });
    expect(server.tlsConnections).toBe(1);
    expect(lines.some((l) => l.includes('failed (TIMEOUT)'))).toBe(true);
  });
});
