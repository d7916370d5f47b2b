import { repositoryScope } from '../auth/scope.js';
import { digestOf, isDigest, parseDigest, verifyBytes } from '../digest/index.js';
import { GantryError, isGantryError, type RegistryError } from '../errors/index.js';
import { readRegistryError } from '../http/error-body.js';
import { redactUrl } from '../internal/redact.js';
import type { Reference } from '../reference/types.js';
import type { RegistryContext } from './context.js';
import { manifestReference } from './manifests.js';
import { send } from './send.js';
import type { RequestOptions } from './types.js';
import { pushScopes } from './upload-session.js';

/** PUT a manifest; see RegistryClient.putManifest. */
export async function putManifest(
  ctx: RegistryContext,
  ref: Reference,
  bytes: Uint8Array,
  mediaType: string,
  options: RequestOptions = {},
): Promise<string> {
  if (!mediaType) throw new Error('putManifest: a media type is required (it becomes the Content-Type)');
  const name = `${ref.registry}/${ref.repository}`;
  if (ref.digest) {
    try {
      verifyBytes(bytes, { digest: ref.digest });
    } catch (err) {
      if (!isGantryError(err, 'DIGEST_MISMATCH')) throw err;
      throw new GantryError('DIGEST_MISMATCH', `${name}@${ref.digest}: the manifest bytes to push do not have that digest`, { cause: err, details: { expected: ref.digest } });
    }
  }
  const digest = ref.digest ?? digestOf(bytes, 'sha256');
  const response = await send(ctx, {
    registry: ref.registry,
    scopes: pushScopes(ref),
    method: 'PUT',
    url: `/v2/${ref.repository}/manifests/${manifestReference(ref)}`,
    headers: { 'content-type': mediaType },
    body: bytes,
    // The same bytes under the same name give the same result: safe to send again after a 5xx.
    idempotent: true,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (response.status < 200 || response.status >= 300) throw await readRegistryError(response, 'PUT', { notFoundCode: 'NAME_UNKNOWN' });
  await response.discard();
  const stored = response.headers['docker-content-digest']?.trim();
  if (stored && isDigest(stored) && parseDigest(stored).algorithm === parseDigest(digest).algorithm && stored !== digest) {
    throw new GantryError('DIGEST_MISMATCH', `${name}:${manifestReference(ref)}: pushed a manifest with digest ${digest}, the registry stored ${stored}`, {
      hint: 'The registry rewrote the manifest; its digest, and anything signed by it, changed.',
      details: { expected: digest, actual: stored, url: redactUrl(response.url) },
    });
  }
  return digest;
}

/** DELETE a manifest; see RegistryClient.deleteManifest. */
export async function deleteManifest(ctx: RegistryContext, ref: Reference, options: RequestOptions = {}): Promise<void> {
  const target = manifestReference(ref);
  const response = await send(ctx, {
    registry: ref.registry,
    // distribution's access controller asks for `delete` on DELETE requests.
    scopes: [repositoryScope(ref.repository, ['delete'])],
    method: 'DELETE',
    url: `/v2/${ref.repository}/manifests/${target}`,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (response.status >= 200 && response.status < 300) {
    await response.discard();
    return;
  }
  const err = await readRegistryError(response, 'DELETE', { notFoundCode: 'MANIFEST_UNKNOWN' });
  if (response.status === 405 || err.hasCode('UNSUPPORTED')) throw deletesDisabled(ref, err);
  if (!ref.digest && err.hasCode('DIGEST_INVALID')) throw tagDeleteUnsupported(ref, err);
  throw err;
}

function deletesDisabled(ref: Reference, cause: RegistryError): GantryError {
  return new GantryError('UNSUPPORTED', `${ref.registry}: deletes are disabled on this registry (storage.delete.enabled)`, {
    hint: 'Ask the registry operator to enable deletes (distribution: storage.delete.enabled: true), or delete through the registry\'s own UI or API.',
    cause,
    details: { registry: ref.registry, repository: ref.repository, status: cause.status },
  });
}

function tagDeleteUnsupported(ref: Reference, cause: RegistryError): GantryError {
  return new GantryError('UNSUPPORTED', `${ref.registry}: this registry deletes manifests by digest only, not by tag`, {
    hint: 'Delete by digest (which removes every tag of that manifest), or move the tag elsewhere.',
    cause,
    details: { registry: ref.registry, repository: ref.repository, tag: ref.tag, status: cause.status },
  });
}
