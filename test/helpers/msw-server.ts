import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { getResponse, type RequestHandler } from 'msw';

/** A request as the server saw it, for assertions (which headers reached which host). */
export interface RecordedRequest {
  method: string;
  /** `http://127.0.0.1:PORT/path?query` */
  url: string;
  /** Lowercased names. */
  headers: Record<string, string>;
  body: string;
  /** The client's port: equal for requests that shared a keep-alive connection. */
  remotePort: number;
}

/**
 * msw handlers served over real HTTP on 127.0.0.1, so gantry's own undici
 * transport runs (msw's interceptors do not see undici). Handlers match full
 * URLs: build them from `origin`.
 */
export interface MswServer {
  /** `http://127.0.0.1:PORT` */
  readonly origin: string;
  /** `127.0.0.1:PORT` */
  readonly host: string;
  /** Every request received, in order. */
  readonly requests: RecordedRequest[];
  /** Requests no handler answered (they got a 404 with `x-msw-unhandled: 1`). */
  readonly unhandled: string[];
  /** Add handlers in front of the current ones (they win), as msw's `server.use`. */
  use(...handlers: RequestHandler[]): void;
  /** Drop every handler and every record. */
  reset(): void;
  /** Stop listening and cut open connections. */
  close(): Promise<void>;
  /** Cut open keep-alive connections (to test reconnects). */
  dropConnections(): void;
}

/** Request bodies are test-sized; more than this is a test bug. */
const MAX_BODY = 64 * 1024 * 1024;

export async function startMswServer(...initial: RequestHandler[]): Promise<MswServer> {
  let handlers: RequestHandler[] = [...initial];
  const requests: RecordedRequest[] = [];
  const unhandled: string[] = [];
  const sockets = new Set<Socket>();

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      // A handler threw: answer 500 with the message, so the test sees it.
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain', 'x-msw-error': '1' });
      res.end(err instanceof Error ? err.message : String(err));
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const url = `http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    const method = req.method ?? 'GET';
    requests.push({ method, url, headers, body: body.toString('utf8'), remotePort: req.socket.remotePort ?? 0 });
    const hasBody = method !== 'GET' && method !== 'HEAD';
    const request = new Request(url, { method, headers, ...(hasBody ? { body } : {}) });
    const response = await getResponse(handlers, request);
    if (!response) {
      unhandled.push(`${method} ${url}`);
      res.writeHead(404, { 'content-type': 'text/plain', 'x-msw-unhandled': '1' });
      res.end(`no msw handler for ${method} ${url}`);
      return;
    }
    if (response.type === 'error') {
      // HttpResponse.error(): a network failure, as a reset connection.
      req.socket.destroy();
      return;
    }
    const out: Record<string, string | string[]> = {};
    response.headers.forEach((value, name) => {
      const existing = out[name];
      out[name] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
    });
    res.writeHead(response.status, out);
    if (method === 'HEAD' || !response.body) {
      res.end();
      return;
    }
    // Streamed as the handler produces it, so tests can trickle bodies.
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      if (res.destroyed) return;
      res.write(chunk);
    }
    res.end();
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = `127.0.0.1:${port}`;

  return {
    origin: `http://${host}`,
    host,
    requests,
    unhandled,
    use(...more) {
      handlers = [...more, ...handlers];
    },
    reset() {
      handlers = [];
      requests.length = 0;
      unhandled.length = 0;
    },
    dropConnections() {
      for (const socket of sockets) socket.destroy();
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > MAX_BODY) throw new Error(`request body over ${MAX_BODY} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
