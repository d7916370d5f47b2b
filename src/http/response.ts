import type { Readable } from 'node:stream';
import { abortError } from '../internal/abort.js';
import { classifyNetworkError, isNetworkFailure } from './network-error.js';
import type { HttpResponse } from './types.js';

type RawHeaders = Record<string, string | string[] | undefined>;

/** Wrap a status, undici's header record and a body stream as an HttpResponse. */
export function createResponse(init: {
  status: number;
  headers: RawHeaders;
  method: string;
  url: string;
  body: Readable;
  /** See HttpResponse.attempts. */
  attempts?: number;
  /** The request's signal: an abort while the body is read surfaces as INTERRUPTED. */
  signal?: AbortSignal;
}): HttpResponse {
  const lists = new Map<string, string[]>();
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(init.headers)) {
    if (value === undefined) continue;
    const key = name.toLowerCase();
    const values = Array.isArray(value) ? value : [value];
    lists.set(key, [...(lists.get(key) ?? []), ...values]);
    headers[key] = (lists.get(key) ?? []).join(', ');
  }
  const body = init.body;
  return {
    status: init.status,
    headers,
    url: init.url,
    ...(init.attempts !== undefined ? { attempts: init.attempts } : {}),
    body,
    headerValues: (name) => [...(lists.get(name.toLowerCase()) ?? [])],
    read: async (maxBytes) => {
      try {
        return await readAtMost(body, maxBytes);
      } catch (err) {
        if (init.signal?.aborted) throw abortError(init.signal);
        if (isNetworkFailure(err)) throw classifyNetworkError(err, init).error;
        throw err;
      }
    },
    discard: () => discardBody(body),
  };
}

/**
 * Collect up to `maxBytes` of a stream. Past the cap the stream is destroyed
 * (the connection goes with it: cheaper than draining an unwanted body).
 */
export async function readAtMost(body: Readable, maxBytes: number): Promise<{ bytes: Uint8Array; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body as AsyncIterable<Buffer | string>) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (total + buf.length > maxBytes) {
      chunks.push(buf.subarray(0, maxBytes - total));
      total = maxBytes;
      body.destroy();
      return { bytes: new Uint8Array(Buffer.concat(chunks, total)), truncated: true };
    }
    chunks.push(buf);
    total += buf.length;
  }
  return { bytes: new Uint8Array(Buffer.concat(chunks, total)), truncated: false };
}

/** Bodies past this size are cut off rather than drained: a new connection is cheaper. */
const DRAIN_LIMIT = 256 * 1024;

/**
 * Never rejects: the bytes are unwanted, so a connection failing while they
 * drain only means the connection is not reused.
 */
async function discardBody(body: Readable): Promise<void> {
  if (body.destroyed || body.readableEnded) return;
  let seen = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer | string>) {
      seen += chunk.length;
      if (seen > DRAIN_LIMIT) {
        body.destroy();
        return;
      }
    }
  } catch (err) {
    if (!(err instanceof Error)) throw err;
    body.destroy();
  }
}
