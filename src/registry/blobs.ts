import { PassThrough, type Readable } from 'node:stream';
import { repositoryScope } from '../auth/scope.js';
import { parseDigest, verifyBytes } from '../digest/index.js';
import { GantryError } from '../errors/index.js';
import { readRegistryError } from '../http/error-body.js';
import { classifyNetworkError, isNetworkFailure } from '../http/network-error.js';
import type { HttpResponse } from '../http/types.js';
import { abortError } from '../internal/abort.js';
import { redactUrl } from '../internal/redact.js';
import type { Descriptor } from '../media/types.js';
import type { Reference } from '../reference/types.js';
import type { RegistryContext } from './context.js';
import { send } from './send.js';
import type { BlobStream, RequestOptions } from './types.js';

function blobPath(ref: Reference, digest: string): string {
  // Validated up front: the digest becomes part of the URL path.
  return `/v2/${ref.repository}/blobs/${parseDigest(digest).value}`;
}

function openResponse(
  ctx: RegistryContext,
  ref: Reference,
  digest: string,
  options: RequestOptions & { headers?: Record<string, string> },
): Promise<HttpResponse> {
  return send(ctx, {
    registry: ref.registry,
    scopes: [repositoryScope(ref.repository, ['pull'])],
    method: 'GET',
    url: blobPath(ref, digest),
    ...(options.headers ? { headers: options.headers } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

/**
 * GET a small blob into memory: at most `maxBytes` (default the client's
 * limit), then checked against its digest. Throws BLOB_UNKNOWN/NOT_FOUND,
 * UNSUPPORTED when the blob is larger than the cap, DIGEST_MISMATCH.
 */
export async function getBlobBytes(
  ctx: RegistryContext,
  ref: Reference,
  digest: string,
  options: RequestOptions & { maxBytes?: number } = {},
): Promise<Uint8Array> {
  const limit = options.maxBytes ?? ctx.limits.maxBlobBytes;
  const response = await openResponse(ctx, ref, digest, options);
  if (response.status !== 200) throw await readRegistryError(response, 'GET', { notFoundCode: 'BLOB_UNKNOWN' });
  const declared = Number(response.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    await response.discard();
    throw tooLarge(ref, digest, limit);
  }
  const { bytes, truncated } = await response.read(limit);
  if (truncated) throw tooLarge(ref, digest, limit);
  verifyBytes(bytes, { digest });
  return bytes;
}

function tooLarge(ref: Reference, digest: string, limit: number): GantryError {
  return new GantryError('UNSUPPORTED', `${ref.registry}/${ref.repository}@${digest} is larger than ${limit} bytes, the limit for reading a blob into memory`, {
    details: { digest, limit },
  });
}

/** Open a blob as a stream, resuming at `from`; see RegistryClient.openBlob. */
export async function openBlob(
  ctx: RegistryContext,
  ref: Reference,
  descriptor: Pick<Descriptor, 'digest' | 'size'>,
  options: RequestOptions & { from?: number } = {},
): Promise<BlobStream> {
  const from = options.from ?? 0;
  if (!Number.isSafeInteger(from) || from < 0) throw new Error(`openBlob: from must be a non-negative integer, got ${from}`);
  const headers = from > 0 ? { range: `bytes=${from}-` } : undefined;
  const response = await openResponse(ctx, ref, descriptor.digest, { ...options, ...(headers ? { headers } : {}) });
  if (response.status === 200) return { body: classifiedBody(response, options.signal), offset: 0 };
  if (response.status === 206 && from > 0) {
    const start = contentRangeStart(response.headers['content-range']);
    if (start === from) return { body: classifiedBody(response, options.signal), offset: from };
    await response.discard();
    throw new GantryError('REGISTRY_ERROR', `${redactUrl(response.url)}: asked for bytes from ${from}, got Content-Range ${JSON.stringify(response.headers['content-range'] ?? '')}`, {
      details: { digest: descriptor.digest, from },
    });
  }
  throw await readRegistryError(response, 'GET', { notFoundCode: 'BLOB_UNKNOWN' });
}

/**
 * The response body with its failures in gantry's terms: a connection that
 * drops mid-body (undici's "other side closed") fails the stream with
 * NETWORK, an abort with INTERRUPTED; the raw undici error would reach the
 * user as an internal error. Destroying the returned stream destroys the
 * response body, so the connection is not left half read.
 */
function classifiedBody(response: HttpResponse, signal: AbortSignal | undefined): Readable {
  const body = response.body;
  const out = new PassThrough();
  body.on('error', (err: unknown) => {
    const failure = signal?.aborted ? abortError(signal) : isNetworkFailure(err) ? classifyNetworkError(err, { method: 'GET', url: response.url }).error : err;
    // The body may fail before its reader attached (a connection dropped while the target prepares):
    // the reader still learns it from the stream's errored state (pipeline, for await), so the
    // event itself is only observed here, as undici does for the bodies it destroys.
    out.on('error', observed);
    out.destroy(failure as Error);
  });
  out.on('close', () => {
    if (!body.readableEnded) body.destroy();
  });
  body.pipe(out);
  return out;
}

function observed(): void {
  // See classifiedBody: the error reaches the reader through the stream's state.
}

/** The first byte of `bytes 100-199/200`, or undefined. */
function contentRangeStart(value: string | undefined): number | undefined {
  const match = /^bytes\s+(\d+)-\d+\/(?:\d+|\*)$/i.exec(value?.trim() ?? '');
  return match?.[1] !== undefined ? Number(match[1]) : undefined;
}
