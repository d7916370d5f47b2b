import { readRegistryError } from '../http/error-body.js';
import type { Reference } from '../reference/types.js';
import type { RegistryContext } from './context.js';
import { send } from './send.js';
import type { UploadOptions, UploadSession } from './types.js';
import { confirmedOffset, sendToLocation, uploadLocation } from './upload-request.js';
import { createUploadSession, pushScopes } from './upload-session.js';

/**
 * Bytes per PATCH by default. Measured against distribution 2.8 on loopback
 * (256 MiB blob, median of 5): 4 MiB chunks 223 MiB/s, 16 MiB 278, 64 MiB
 * 313, 256 MiB 318; each PATCH costs the registry a reopen and an fsync.
 * Smaller chunks would not make resuming finer: an interruption ends the
 * chunk in flight early and the registry keeps what it received.
 */
export const DEFAULT_UPLOAD_CHUNK_BYTES = 64 * 1024 * 1024;

/** Open an upload session; see RegistryClient.startUpload. */
export async function startUpload(ctx: RegistryContext, ref: Reference, chunkBytes: number, options: UploadOptions = {}): Promise<UploadSession> {
  const response = await send(ctx, {
    registry: ref.registry,
    scopes: pushScopes(ref),
    method: 'POST',
    url: `/v2/${ref.repository}/blobs/uploads/`,
    // Sent again after a reset or a 5xx, the worst outcome is an unused session the registry purges.
    idempotent: true,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (response.status !== 202) throw await readRegistryError(response, 'POST');
  await response.discard();
  return createUploadSession({
    ctx,
    ref,
    state: { location: uploadLocation(response, 'POST'), offset: confirmedOffset(response.headers.range, 0) ?? 0 },
    chunkBytes: options.chunkBytes ?? chunkBytes,
  });
}

/** Find where an upload session stands; see RegistryClient.resumeUpload. */
export async function resumeUpload(
  ctx: RegistryContext,
  ref: Reference,
  location: string,
  chunkBytes: number,
  options: UploadOptions & { expectedOffset?: number } = {},
): Promise<UploadSession | undefined> {
  const response = await sendToLocation(ctx, {
    ref,
    location,
    method: 'GET',
    scopes: pushScopes(ref),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (response.status >= 200 && response.status < 300) {
    await response.discard();
    const offset = confirmedOffset(response.headers.range, options.expectedOffset);
    // A registry that cannot say where a session stands cannot resume it.
    if (offset === undefined) return undefined;
    return createUploadSession({
      ctx,
      ref,
      state: { location: response.headers.location ? uploadLocation(response, 'GET') : location, offset },
      chunkBytes: options.chunkBytes ?? chunkBytes,
    });
  }
  const err = await readRegistryError(response, 'GET', { notFoundCode: 'BLOB_UPLOAD_UNKNOWN' });
  // Gone: purged, completed, cancelled, or (distribution) its state token no longer matches what it holds.
  if (response.status === 404 || err.hasCode('BLOB_UPLOAD_UNKNOWN', 'BLOB_UPLOAD_INVALID')) return undefined;
  throw err;
}
