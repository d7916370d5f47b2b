import type { Readable } from 'node:stream';
import { repositoryScope } from '../auth/scope.js';
import type { Scope } from '../auth/types.js';
import { isDigest, parseDigest } from '../digest/index.js';
import { GantryError, type RegistryError } from '../errors/index.js';
import { readRegistryError } from '../http/error-body.js';
import type { HttpResponse } from '../http/types.js';
import { redactUrl } from '../internal/redact.js';
import type { Reference } from '../reference/types.js';
import { writeInChunks } from './chunked-write.js';
import type { RegistryContext } from './context.js';
import type { RequestOptions, UploadSession, UploadState, UploadWriteOptions } from './types.js';
import { confirmedOffset, sendToLocation, uploadLocation } from './upload-request.js';

/** The scopes of every upload request but DELETE: one token serves a whole push. */
export function pushScopes(ref: Reference): Scope[] {
  return [repositoryScope(ref.repository, ['pull', 'push'])];
}

export interface UploadSessionInit {
  ctx: RegistryContext;
  ref: Reference;
  state: UploadState;
  chunkBytes: number;
}

/** An UploadSession over a registry's upload URL; see the interface for the contract. */
export function createUploadSession(init: UploadSessionInit): UploadSession {
  const { ctx, ref, chunkBytes } = init;
  const state: UploadState = { ...init.state };
  const name = `${ref.registry}/${ref.repository}`;

  const patch = async (part: Readable, signal: AbortSignal, bytes: () => number, options: UploadWriteOptions): Promise<void> => {
    const before = state.offset;
    const response = await sendToLocation(ctx, {
      ref,
      location: state.location,
      method: 'PATCH',
      scopes: pushScopes(ref),
      // Docker's streamed PATCH (chunked transfer coding, no Content-Length or Content-Range), which every
      // registry docker pushes to accepts, and which can end early without breaking the session: a
      // fixed-length body cut short leaves distribution 2.8 holding more than the session's state says,
      // and it then refuses (and deletes) the session.
      headers: { 'content-type': 'application/octet-stream' },
      body: part,
      signal,
    });
    if (response.status !== 202 && response.status !== 204) throw await readRegistryError(response, 'PATCH', { notFoundCode: 'BLOB_UPLOAD_UNKNOWN' });
    await response.discard();
    const expected = before + bytes();
    if (response.headers.location) state.location = uploadLocation(response, 'PATCH');
    state.offset = confirmedOffset(response.headers.range, expected) ?? expected;
    await options.onChunk?.({ ...state });
    if (state.offset !== expected) {
      throw new GantryError('REGISTRY_ERROR', `upload to ${name}: sent up to byte ${expected}, the registry confirmed ${state.offset}`, {
        hint: 'Run the command again: it resumes from what the registry confirmed.',
        details: { expected, confirmed: state.offset, url: redactUrl(response.url) },
      });
    }
  };

  // PUT <location>?digest=: completes the session, with the whole blob as its body or with none.
  const close = async (digest: string, options: RequestOptions & { body?: Readable; length?: number }): Promise<string> => {
    const expected = parseDigest(digest).value;
    const response = await sendToLocation(ctx, {
      ref,
      location: state.location,
      method: 'PUT',
      query: { digest: expected },
      scopes: pushScopes(ref),
      ...(options.body ? { body: options.body, headers: { 'content-type': 'application/octet-stream', 'content-length': String(options.length ?? 0) } } : {}),
      // Not idempotent: a second PUT after a lost answer would find the session gone.
      idempotent: false,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (response.status === 201 || response.status === 204) {
      await response.discard();
      checkCreatedDigest(response, expected, name);
      return expected;
    }
    const err = await readRegistryError(response, 'PUT', { notFoundCode: 'BLOB_UPLOAD_UNKNOWN' });
    // distribution answers a digest that does not match what it received with DIGEST_INVALID, a length
    // it disagrees with (ErrBlobInvalidLength) with BLOB_UPLOAD_INVALID. The session may outlive the refusal.
    if (err.hasCode('DIGEST_INVALID', 'BLOB_UPLOAD_INVALID', 'SIZE_INVALID')) throw refused(err, name, expected);
    throw err;
  };

  return {
    get location() {
      return state.location;
    },
    get offset() {
      return state.offset;
    },

    async write(body, options = {}) {
      const start = state.offset;
      await writeInChunks(body, {
        chunkBytes,
        ...(options.length !== undefined ? { length: options.length } : {}),
        offset: start,
        label: `upload to ${name}`,
        sendPart: (part, signal, bytes) => patch(part, signal, bytes, options),
        ...(options.onProgress ? { onBytes: (sent: number) => options.onProgress?.(start + sent) } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      return state.offset;
    },

    async finish(digest, options = {}) {
      return close(digest, options);
    },

    async finishWith(body, digest, options) {
      if (state.offset !== 0) throw new Error(`finishWith: the session already holds ${state.offset} bytes`);
      // The body's own failure (a digest or size check on the way) is the one to report, not the cut request it causes.
      let bodyError: unknown;
      const onError = (err: unknown): void => {
        bodyError ??= err;
      };
      body.once('error', onError);
      try {
        return await close(digest, { ...options, body }).catch((err: unknown) => {
          throw bodyError ?? err;
        });
      } finally {
        body.off('error', onError);
        if (bodyError !== undefined) throw bodyError;
      }
    },

    cancel: (options = {}) => cancelUpload(ctx, ref, state.location, options),
  };
}

/** DELETE an upload session; resolves false when it was already gone. See UploadSession.cancel. */
export async function cancelUpload(ctx: RegistryContext, ref: Reference, location: string, options: RequestOptions = {}): Promise<boolean> {
  const response = await sendToLocation(ctx, {
    ref,
    location,
    method: 'DELETE',
    // distribution asks for the `delete` action on any DELETE, upload sessions included.
    scopes: [repositoryScope(ref.repository, ['delete'])],
    idempotent: true,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (response.status >= 200 && response.status < 300) {
    await response.discard();
    return true;
  }
  const err = await readRegistryError(response, 'DELETE', { notFoundCode: 'BLOB_UPLOAD_UNKNOWN' });
  if (response.status === 404 || err.hasCode('BLOB_UPLOAD_UNKNOWN', 'BLOB_UPLOAD_INVALID')) return false;
  throw err;
}

function checkCreatedDigest(response: HttpResponse, expected: string, name: string): void {
  const header = response.headers['docker-content-digest']?.trim();
  if (!header || !isDigest(header) || parseDigest(header).algorithm !== parseDigest(expected).algorithm) return;
  if (header !== expected) {
    throw new GantryError('DIGEST_MISMATCH', `upload to ${name}: asked for ${expected}, the registry stored ${header}`, {
      details: { expected, actual: header, url: redactUrl(response.url) },
    });
  }
}

function refused(err: RegistryError, name: string, digest: string): GantryError {
  return new GantryError('DIGEST_MISMATCH', `upload to ${name}: the registry refused ${digest}: the bytes it received do not have that digest or size`, {
    hint: 'The content changed in transit or the source served the wrong bytes: retry, and tell the registry operator if it persists.',
    cause: err,
    details: { digest, status: err.status, errors: err.entries },
  });
}
