import { repositoryScope } from '../auth/scope.js';
import { isDigest, parseDigest } from '../digest/index.js';
import { GantryError, isGantryError } from '../errors/index.js';
import { readRegistryError } from '../http/error-body.js';
import { redactUrl } from '../internal/redact.js';
import { findPathProblem } from '../reference/path.js';
import { referenceError } from '../reference/syntax-problem.js';
import type { Reference } from '../reference/types.js';
import type { RegistryContext } from './context.js';
import { send } from './send.js';
import type { BlobStat, RequestOptions } from './types.js';
import { uploadLocation } from './upload-request.js';
import { cancelUpload, pushScopes } from './upload-session.js';

/** HEAD a blob; see RegistryClient.statBlob. */
export async function statBlob(ctx: RegistryContext, ref: Reference, digest: string, options: RequestOptions = {}): Promise<BlobStat | undefined> {
  const value = parseDigest(digest).value;
  const response = await send(ctx, {
    registry: ref.registry,
    scopes: [repositoryScope(ref.repository, ['pull'])],
    method: 'HEAD',
    url: `/v2/${ref.repository}/blobs/${value}`,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (response.status === 404) {
    await response.discard();
    return undefined;
  }
  if (response.status !== 200) throw await readRegistryError(response, 'HEAD', { notFoundCode: 'BLOB_UNKNOWN' });
  await response.discard();
  const size = Number(response.headers['content-length']);
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new GantryError('REGISTRY_ERROR', `HEAD ${redactUrl(response.url)}: the registry sent no blob size`, { details: { digest: value } });
  }
  const header = response.headers['docker-content-digest']?.trim();
  return { size, ...(header && isDigest(header) ? { digest: header } : {}) };
}

/**
 * Cross-repository mount; see RegistryClient.mountBlob (REFERENCE_INVALID
 * for a malformed `fromRepository`, before any request). The token request
 * names both repositories (push on the target, pull on the source) in one
 * scope set, as docker does: distribution checks both on the same request.
 */
export async function mountBlob(
  ctx: RegistryContext,
  ref: Reference,
  digest: string,
  fromRepository: string,
  options: RequestOptions = {},
): Promise<boolean> {
  const value = parseDigest(digest).value;
  // Validated: it becomes a token scope and a query parameter.
  const problem = findPathProblem(fromRepository, 0);
  if (problem) throw referenceError(fromRepository, problem);
  const query = new URLSearchParams({ mount: value, from: fromRepository });
  let response;
  try {
    response = await send(ctx, {
      registry: ref.registry,
      scopes: [...pushScopes(ref), repositoryScope(fromRepository, ['pull'])],
      method: 'POST',
      url: `/v2/${ref.repository}/blobs/uploads/?${query.toString()}`,
      // A repeated mount finds the blob linked (201) or opens one more session, cancelled below.
      idempotent: true,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (err) {
    // Not allowed to read the source (or to push here): no mount, and the upload that follows tells which.
    if (isGantryError(err, 'AUTH_DENIED') || isGantryError(err, 'AUTH_REQUIRED')) {
      ctx.log?.(`registry: mount of ${value} from ${fromRepository} into ${ref.repository} refused: ${err.code}`);
      return false;
    }
    throw err;
  }
  if (response.status === 201) {
    await response.discard();
    return true;
  }
  if (response.status !== 202) throw await readRegistryError(response, 'POST');
  await response.discard();
  // Refused: the registry opened an ordinary upload session instead. Nobody will use it.
  try {
    await cancelUpload(ctx, ref, uploadLocation(response, 'POST'), options);
  } catch (err) {
    // An abandoned session is purged by the registry in time; the mount's answer stands.
    if (!isGantryError(err)) throw err;
    ctx.log?.(`registry: could not cancel the upload session a refused mount opened: ${err.code}`);
  }
  return false;
}
