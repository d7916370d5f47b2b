import { repositoryScope } from '../auth/scope.js';
import { digestOf, isDigest, isSupportedAlgorithm, parseDigest, verifyBytes } from '../digest/index.js';
import { GantryError, isGantryError } from '../errors/index.js';
import { readRegistryError } from '../http/error-body.js';
import type { HttpResponse } from '../http/types.js';
import { parseJson } from '../internal/parse-json.js';
import { redactUrl } from '../internal/redact.js';
import { baseMediaType, isSchema1, MANIFEST_ACCEPT, parseManifest } from '../media/index.js';
import type { Manifest } from '../media/types.js';
import { DEFAULT_TAG } from '../reference/index.js';
import type { Reference } from '../reference/types.js';
import type { RegistryContext } from './context.js';
import { send } from './send.js';
import type { ManifestHead, RequestOptions } from './types.js';

type ManifestOptions = RequestOptions & { accept?: string[] };

/** The path segment naming the manifest: the digest when there is one (it is exact), else the tag, else `latest` as docker. */
export function manifestReference(ref: Reference): string {
  return ref.digest ?? ref.tag ?? DEFAULT_TAG;
}

function manifestPath(ref: Reference): string {
  return `/v2/${ref.repository}/manifests/${manifestReference(ref)}`;
}

function acceptHeader(options: ManifestOptions): Record<string, string> {
  return { accept: (options.accept ?? MANIFEST_ACCEPT).join(', ') };
}

/** GET a manifest; see RegistryClient.getManifest for the contract. */
export async function getManifest(ctx: RegistryContext, ref: Reference, options: ManifestOptions = {}): Promise<Manifest> {
  const response = await fetchManifest(ctx, ref, options);
  const bytes = await readManifest(ctx, response);
  const digest = checkManifestDigest(ref, response, bytes);
  return parseManifest({ bytes, contentType: response.headers['content-type'] ?? '', digest });
}

/**
 * HEAD a manifest. Registries that send no `Docker-Content-Digest` (or no
 * length) on HEAD get a GET instead, whose body is digest-checked.
 */
export async function headManifest(ctx: RegistryContext, ref: Reference, options: ManifestOptions = {}): Promise<ManifestHead> {
  const response = await send(ctx, {
    registry: ref.registry,
    scopes: [repositoryScope(ref.repository, ['pull'])],
    method: 'HEAD',
    url: manifestPath(ref),
    headers: acceptHeader(options),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (response.status !== 200) throw await readRegistryError(response, 'HEAD', { notFoundCode: 'MANIFEST_UNKNOWN' });
  await response.discard();
  const digest = headerDigest(response);
  const size = Number(response.headers['content-length']);
  if (digest !== undefined && Number.isSafeInteger(size) && size >= 0) {
    if (ref.digest && digest !== ref.digest && sameAlgorithm(digest, ref.digest)) {
      throw new GantryError('DIGEST_MISMATCH', `${ref.registry}/${ref.repository}: the registry answered ${ref.digest} with ${digest}`, {
        details: { expected: ref.digest, actual: digest, url: redactUrl(response.url) },
      });
    }
    return { digest, mediaType: baseMediaType(response.headers['content-type']), size, headers: response.headers };
  }
  ctx.log?.(`registry: HEAD ${redactUrl(response.url)} gave no digest; fetching the manifest instead`);
  const full = await fetchManifest(ctx, ref, options);
  const bytes = await readManifest(ctx, full);
  const verified = checkManifestDigest(ref, full, bytes);
  const mediaType =
    baseMediaType(full.headers['content-type']) || parseManifest({ bytes, contentType: '', digest: verified }).mediaType;
  return { digest: verified, mediaType, size: bytes.byteLength, headers: full.headers };
}

async function fetchManifest(ctx: RegistryContext, ref: Reference, options: ManifestOptions): Promise<HttpResponse> {
  const response = await send(ctx, {
    registry: ref.registry,
    scopes: [repositoryScope(ref.repository, ['pull'])],
    method: 'GET',
    url: manifestPath(ref),
    headers: acceptHeader(options),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (response.status !== 200) throw await readRegistryError(response, 'GET', { notFoundCode: 'MANIFEST_UNKNOWN' });
  return response;
}

async function readManifest(ctx: RegistryContext, response: HttpResponse): Promise<Uint8Array> {
  const limit = ctx.limits.maxManifestBytes;
  const declared = Number(response.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    await response.discard();
    throw tooLarge(response, limit);
  }
  const { bytes, truncated } = await response.read(limit);
  if (truncated) throw tooLarge(response, limit);
  return bytes;
}

function tooLarge(response: HttpResponse, limit: number): GantryError {
  return new GantryError('MANIFEST_INVALID', `the manifest at ${redactUrl(response.url)} is larger than ${limit} bytes`, {
    hint: 'Registries are only required to handle manifests up to 4 MiB; this one is likely not a manifest.',
  });
}

/**
 * Check the bytes against the reference's digest, else against
 * `Docker-Content-Digest`, and return the manifest's digest (computed as
 * sha256 when neither exists). Schema 1 is reported as such before any
 * digest check: its signed form's digest covers the payload without the
 * signatures, so it would otherwise look corrupt.
 */
function checkManifestDigest(ref: Reference, response: HttpResponse, bytes: Uint8Array): string {
  if (isSchema1(response.headers['content-type']) || declaresSchema1(bytes)) throw schema1Error(ref);
  const expected = ref.digest ?? headerDigest(response);
  if (expected === undefined) return digestOf(bytes, 'sha256');
  try {
    verifyBytes(bytes, { digest: expected });
  } catch (err) {
    if (isGantryError(err, 'DIGEST_MISMATCH')) {
      throw new GantryError('DIGEST_MISMATCH', `${ref.registry}/${ref.repository}@${expected}: ${err.message}`, {
        ...(err.hint ? { hint: err.hint } : {}),
        cause: err,
        details: { expected, url: redactUrl(response.url), ...(ref.digest ? {} : { from: 'Docker-Content-Digest' }) },
      });
    }
    throw err;
  }
  return expected;
}

/** A `Docker-Content-Digest` worth checking against: well-formed and of an algorithm gantry can compute. */
function headerDigest(response: HttpResponse): string | undefined {
  const value = response.headers['docker-content-digest']?.trim();
  if (!value || !isDigest(value)) return undefined;
  return isSupportedAlgorithm(parseDigest(value).algorithm) ? value : undefined;
}

function sameAlgorithm(a: string, b: string): boolean {
  return a.slice(0, a.indexOf(':')) === b.slice(0, b.indexOf(':'));
}

function declaresSchema1(bytes: Uint8Array): boolean {
  const text = Buffer.from(bytes).toString('utf8');
  // Cheap test first: only a body that mentions schema version 1 is parsed here.
  if (!/"schemaVersion"\s*:\s*1\b/.test(text)) return false;
  const doc = parseJson(text).value;
  return typeof doc === 'object' && doc !== null && (doc as { schemaVersion?: unknown }).schemaVersion === 1;
}

function schema1Error(ref: Reference): GantryError {
  return new GantryError('UNSUPPORTED_MEDIA_TYPE', `${ref.registry}/${ref.repository}:${manifestReference(ref)} is a Docker schema 1 manifest, which gantry does not support`, {
    hint: 'Schema 1 is deprecated and registries are dropping it: re-push the image with a current client (docker, buildah, crane) to get a schema 2 or OCI manifest.',
  });
}
