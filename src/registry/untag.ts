import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { digestOf } from '../digest/index.js';
import { GantryError, RegistryError, isGantryError } from '../errors/index.js';
import { baseMediaType, OCI_EMPTY, OCI_MANIFEST } from '../media/index.js';
import { familiarReference, withDigest, withoutTagOrDigest } from '../reference/index.js';
import type { Reference } from '../reference/types.js';
import { currentDigest, isUnknownManifest } from './tag-lookup.js';
import type { ManifestHead, RegistryClient, RequestOptions } from './types.js';

/** The annotation that marks a placeholder manifest; its value is the tag it stood in for. */
export const UNTAG_PLACEHOLDER_ANNOTATION = 'gantry.untag.placeholder';
/** The placeholder's `artifactType` (image-spec 1.1 asks for one when the config is the empty descriptor). */
export const UNTAG_ARTIFACT_TYPE = 'application/vnd.gantry.untag-placeholder.v1';

/** The empty JSON object the OCI empty descriptor names (image-spec manifest.md, "Guidance for an Empty Descriptor"). */
const EMPTY_BYTES = Buffer.from('{}');
const EMPTY_DIGEST = digestOf(EMPTY_BYTES, 'sha256');
/** Placeholders are a few hundred bytes; a larger manifest is never fetched to be checked. */
const PLACEHOLDER_MAX_BYTES = 2048;
/** A digest no manifest has: DELETE on it tells whether the registry deletes by digest, changing nothing. */
const PROBE_DIGEST = digestOf(Buffer.from('gantry: does this registry delete manifests by digest?'), 'sha256');

/** What `untagManifest` did. */
export interface UntagResult {
  /** The tag removed, as a familiar reference: `registry.example.com/app:v1`. */
  reference: string;
  tag: string;
  /** The manifest the tag named. It stays in the repository, by digest and under its other tags. */
  digest: string;
  /** `tag-delete`: the registry's own tag delete (OCI 1.1). `placeholder`: the tag was moved to a placeholder manifest, which was deleted. */
  method: 'tag-delete' | 'placeholder';
  /** With `placeholder`: the placeholder's digest (deleted again). */
  placeholder?: string;
  /** True when the tag already named a placeholder left by an interrupted untag, which was only cleaned up. */
  resumed?: boolean;
}

/**
 * Remove one tag and keep the manifest it named, with its other tags. Where
 * the registry deletes tags (OCI distribution-spec 1.1 `DELETE
 * /v2/<name>/manifests/<tag>`), that is all; a registry that refuses (400 or
 * 405; distribution 2.8 answers DIGEST_INVALID) gets the portable way: the
 * tag is repointed at a tiny placeholder manifest (empty config, no layers,
 * annotated as gantry's) and the placeholder is deleted by digest, which
 * takes the tag with it and nothing else. A refusal that may mean "deletes
 * are disabled" is checked first with a DELETE of a digest nobody has, so
 * nothing is moved on a registry where the placeholder could not be deleted
 * again. Rerunning after an interruption finishes the job: a tag found
 * naming a placeholder is cleaned up.
 *
 * @throws GantryError USAGE when `ref` has no tag or has a digest;
 *   MANIFEST_UNKNOWN/NAME_UNKNOWN when the tag does not exist; UNSUPPORTED
 *   when the registry's deletes are disabled (nothing changed); REGISTRY_ERROR
 *   when the registry's tag delete took the manifest with it; AUTH_*,
 *   NETWORK, RegistryError as the client does (after the tag moved, with a
 *   hint to run again).
 */
export async function untagManifest(client: RegistryClient, ref: Reference, options: RequestOptions = {}): Promise<UntagResult> {
  if (ref.tag === undefined || ref.digest !== undefined) {
    throw new GantryError('USAGE', `untag removes a tag: give NAME:TAG, not ${familiarReference(ref)}`, {
      hint: 'To delete a manifest with every tag that names it, use `gantry delete`.',
    });
  }
  const signal = options.signal ? { signal: options.signal } : {};
  const repo = withoutTagOrDigest(ref);
  const base = { reference: familiarReference(ref), tag: ref.tag };
  const head = await client.headManifest(ref, signal);
  if (await isPlaceholder(client, repo, head, signal)) {
    await client.deleteManifest(withDigest(repo, head.digest), signal);
    return { ...base, digest: head.digest, method: 'placeholder', placeholder: head.digest, resumed: true };
  }
  if (await deleteTag(client, ref, signal)) {
    await requireKept(client, repo, head.digest, signal);
    return { ...base, digest: head.digest, method: 'tag-delete' };
  }
  const placeholder = await repointAtPlaceholder(client, ref, signal);
  try {
    await client.deleteManifest(withDigest(repo, placeholder), signal);
  } catch (err) {
    if (!isGantryError(err)) throw err;
    throw new GantryError(err.code, `${base.reference} now names a placeholder manifest (${placeholder}), which could not be deleted: ${err.message}`, {
      hint: `Run the same untag again to finish: it deletes the placeholder. ${base.reference}'s image ${head.digest} is unharmed.`,
      cause: err,
      details: { placeholder, digest: head.digest },
    });
  }
  await requireKept(client, repo, head.digest, signal);
  return { ...base, digest: head.digest, method: 'placeholder', placeholder };
}

/**
 * Try the registry's tag delete. Resolves true when it deleted the tag,
 * false when it refused in a way that leaves the placeholder route open.
 */
async function deleteTag(client: RegistryClient, ref: Reference, signal: RequestOptions): Promise<boolean> {
  try {
    await client.deleteManifest(ref, signal);
    return true;
  } catch (err) {
    const refusal = registryErrorOf(err);
    // distribution-spec: a registry without tag deletes answers 400 or 405. Some answer 404, reading the tag as a digest.
    if (refusal === undefined || ![400, 404, 405].includes(refusal.status)) throw err;
    // distribution 2.x parses the tag as a digest only once deletes are enabled; anything else may mean they are off.
    if (!refusal.hasCode('DIGEST_INVALID')) await requireDigestDeletes(client, withoutTagOrDigest(ref), signal);
    return false;
  }
}

/** Throws the registry's own "deletes are disabled" (UNSUPPORTED) when a DELETE by digest cannot work. */
async function requireDigestDeletes(client: RegistryClient, repo: Reference, signal: RequestOptions): Promise<void> {
  try {
    await client.deleteManifest(withDigest(repo, PROBE_DIGEST), signal);
  } catch (err) {
    if (isUnknownManifest(err)) return;
    throw err;
  }
}

/** Push the empty config blob when missing, then PUT a fresh placeholder under the tag. Resolves the placeholder's digest. */
async function repointAtPlaceholder(client: RegistryClient, ref: Reference, signal: RequestOptions): Promise<string> {
  const repo = withoutTagOrDigest(ref);
  const stat = await client.statBlob(repo, EMPTY_DIGEST, signal);
  if (stat?.size !== EMPTY_BYTES.length) {
    // Two bytes: one PATCH at most. An abandoned session (on failure) is purged by the registry in time.
    const session = await client.startUpload(repo, signal);
    await session.write(Readable.from([EMPTY_BYTES]), { length: EMPTY_BYTES.length, ...signal });
    await session.finish(EMPTY_DIGEST, signal);
  }
  const bytes = placeholderBytes(ref.tag as string);
  return client.putManifest(ref, bytes, OCI_MANIFEST, signal);
}

/**
 * A placeholder of its own for each untag (a nonce in it): two untags in
 * one repository never share one, so deleting one never takes the other's tag.
 */
function placeholderBytes(tag: string): Uint8Array {
  const manifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: UNTAG_ARTIFACT_TYPE,
    config: { mediaType: OCI_EMPTY, digest: EMPTY_DIGEST, size: EMPTY_BYTES.length },
    layers: [],
    annotations: {
      'org.opencontainers.image.created': new Date().toISOString(),
      'org.opencontainers.image.description': `gantry untag placeholder for the tag ${tag}: safe to delete`,
      [UNTAG_PLACEHOLDER_ANNOTATION]: tag,
      'gantry.untag.nonce': randomBytes(16).toString('hex'),
    },
  };
  return Buffer.from(JSON.stringify(manifest));
}

/** True when the manifest `head` describes is a placeholder gantry left (checked by its content, fetched only when small). */
async function isPlaceholder(client: RegistryClient, repo: Reference, head: ManifestHead, signal: RequestOptions): Promise<boolean> {
  if (baseMediaType(head.mediaType) !== OCI_MANIFEST || head.size > PLACEHOLDER_MAX_BYTES) return false;
  const manifest = await client.getManifest(withDigest(repo, head.digest), signal);
  if (manifest.kind !== 'image') return false;
  const m = manifest.manifest;
  return m.artifactType === UNTAG_ARTIFACT_TYPE && m.config.mediaType === OCI_EMPTY && m.layers.length === 0 && m.annotations?.[UNTAG_PLACEHOLDER_ANNOTATION] !== undefined;
}

/** The untagged manifest must still be there: a registry whose tag delete removes the manifest (and so its other tags) is reported. */
async function requireKept(client: RegistryClient, repo: Reference, digest: string, signal: RequestOptions): Promise<void> {
  if ((await currentDigest(client, withDigest(repo, digest), signal)) !== undefined) return;
  throw new GantryError('REGISTRY_ERROR', `${repo.registry} deleted the manifest ${digest} of ${repo.repository}, not only the tag`, {
    hint: 'This registry cannot remove one tag alone; push the image again (gantry copy) if other tags needed it.',
    details: { registry: repo.registry, repository: repo.repository, digest },
  });
}

function registryErrorOf(err: unknown): RegistryError | undefined {
  if (err instanceof RegistryError) return err;
  if (isGantryError(err) && err.cause instanceof RegistryError) return err.cause;
  return undefined;
}
