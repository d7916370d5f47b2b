import { createServer } from 'node:net';

/**
 * Ask the kernel for a TCP port that is free on 127.0.0.1 right now.
 *
 * The port is released before this resolves, so another process may take it
 * before the caller binds it: callers that spawn a server on it should retry
 * with a fresh port when the bind fails (see `startRegistry`).
 */
export async function freePort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error(`unexpected listen address: ${String(address)}`));
        return;
      }
      const { port } = address;
      server.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}
