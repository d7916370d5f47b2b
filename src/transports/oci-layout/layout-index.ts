import { readFile } from 'node:fs/promises';
import { digestOf } from '../../digest/index.js';
import { GantryError } from '../../errors/index.js';
import { writeFileAtomic } from '../../internal/atomic-file.js';
import { errorCode } from '../../internal/blob-file.js';
import { withFileLock } from '../../internal/file-lock.js';
import { OCI_INDEX, parseManifest } from '../../media/index.js';
import type { Descriptor, ImageIndex } from '../../media/types.js';
import { LAYOUT_VERSION, REF_NAME_ANNOTATION, indexPath, layoutMarkerPath } from './layout-paths.js';
import { makeDirs } from '../../internal/make-dirs.js';

/** The name (`org.opencontainers.image.ref.name`) of an index.json entry, if it has one. */
export function entryName(entry: Descriptor): string | undefined {
  return entry.annotations?.[REF_NAME_ANNOTATION];
}

/**
 * Read and check a layout: the `oci-layout` marker must name a 1.x version
 * and `index.json` must be a valid image index.
 *
 * @throws GantryError NOT_FOUND when `dir` holds no layout, UNSUPPORTED for
 *   another major layout version, MANIFEST_INVALID for a malformed marker or index.
 */
export async function readLayoutIndex(dir: string): Promise<ImageIndex> {
  const marker = await readOptional(layoutMarkerPath(dir));
  if (marker === undefined) {
    throw new GantryError('NOT_FOUND', `no OCI image layout at ${dir}`, {
      hint: 'An OCI layout is a directory with an oci-layout file, index.json and blobs/.',
      details: { path: dir },
    });
  }
  checkLayoutMarker(marker, dir);
  const bytes = await readOptional(indexPath(dir));
  if (bytes === undefined) throw invalidLayout(dir, 'index.json is missing');
  return parseLayoutIndex(bytes, dir);
}

/**
 * Check the bytes of an `oci-layout` file: JSON naming a 1.x version.
 *
 * @throws GantryError MANIFEST_INVALID when malformed, UNSUPPORTED for another major version.
 */
export function checkLayoutMarker(bytes: Uint8Array, dir: string): void {
  let version: unknown;
  try {
    version = (JSON.parse(Buffer.from(bytes).toString('utf8')) as { imageLayoutVersion?: unknown }).imageLayoutVersion;
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    throw invalidLayout(dir, 'oci-layout is not JSON');
  }
  if (typeof version !== 'string') throw invalidLayout(dir, 'oci-layout has no imageLayoutVersion');
  if (!/^1\.\d+\.\d+$/.test(version)) {
    throw new GantryError('UNSUPPORTED', `unsupported OCI layout version ${JSON.stringify(version.slice(0, 40))} at ${dir}`, {
      hint: `gantry reads OCI image layouts of version 1.x (it writes ${LAYOUT_VERSION}).`,
    });
  }
}

/**
 * Parse the bytes of a layout's `index.json` as an image index.
 *
 * @throws GantryError MANIFEST_INVALID when it is not one.
 */
export function parseLayoutIndex(bytes: Uint8Array, dir: string): ImageIndex {
  const parsed = parseManifest({ bytes, digest: digestOf(bytes) });
  if (parsed.kind !== 'index') throw invalidLayout(dir, 'index.json is not an image index');
  return parsed.manifest;
}

/** MANIFEST_INVALID for a layout (at `dir`, or in an archive) that breaks the image-layout spec. */
export function invalidLayout(dir: string, problem: string): GantryError {
  return new GantryError('MANIFEST_INVALID', `invalid OCI layout at ${dir}: ${problem}`, { details: { path: dir } });
}

async function readOptional(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (err) {
    if (errorCode(err) === 'ENOENT' || errorCode(err) === 'ENOTDIR') return undefined;
    throw err;
  }
}

/**
 * Make `dir` an OCI layout if it is not one yet (the directory, the marker,
 * an empty index.json), and check it when it is. Safe to race: the marker is
 * written atomically and index.json is created only under the index lock.
 *
 * @throws like `readLayoutIndex` for an existing but unusable layout.
 */
export async function ensureLayout(dir: string, signal?: AbortSignal): Promise<void> {
  await makeDirs(dir);
  const marker = await readOptional(layoutMarkerPath(dir));
  if (marker === undefined) {
    await writeFileAtomic(layoutMarkerPath(dir), JSON.stringify({ imageLayoutVersion: LAYOUT_VERSION }), { mode: 0o644 });
  } else {
    checkLayoutMarker(marker, dir);
  }
  if ((await readOptional(indexPath(dir))) !== undefined) return;
  await updateLayoutIndex(dir, (manifests) => manifests, signal);
}

/**
 * Run `fn` holding the layout's lock (`index.json.lock`, across processes).
 * Not reentrant: `fn` must use `rewriteLayoutIndex`, not `updateLayoutIndex`.
 */
export async function withLayoutLock<T>(dir: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  return withFileLock(indexPath(dir), fn, signal ? { signal } : {});
}

/**
 * Read-modify-write index.json, replacing it atomically; the caller holds
 * the layout's lock. Fields of the index other than `manifests` are kept.
 * Returns the new entries.
 */
export async function rewriteLayoutIndex(dir: string, update: (manifests: Descriptor[]) => Descriptor[]): Promise<Descriptor[]> {
  const path = indexPath(dir);
  const bytes = await readOptional(path);
  const current: ImageIndex = bytes === undefined ? { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] } : parseLayoutIndex(bytes, dir);
  const manifests = update([...current.manifests]);
  await writeFileAtomic(path, JSON.stringify({ ...current, manifests }), { mode: 0o644 });
  return manifests;
}

/**
 * Read-modify-write index.json under the layout's lock (so concurrent
 * commits from several processes all survive), replacing it atomically.
 */
export async function updateLayoutIndex(
  dir: string,
  update: (manifests: Descriptor[]) => Descriptor[],
  signal?: AbortSignal,
): Promise<Descriptor[]> {
  return withLayoutLock(dir, () => rewriteLayoutIndex(dir, update), signal);
}

/**
 * The index.json entries after pointing `names` at `root`: entries with one
 * of those names are replaced, every other entry is kept. With no names the
 * root is added once without a name (as skopeo does for `oci:DIR`).
 */
export function applyCommit(manifests: Descriptor[], root: Descriptor, names: readonly string[]): Descriptor[] {
  if (names.length === 0) {
    const present = manifests.some((m) => m.digest === root.digest && entryName(m) === undefined);
    return present ? manifests : [...manifests, layoutEntry(root, undefined)];
  }
  const replaced = new Set(names);
  const kept = manifests.filter((m) => !replaced.has(entryName(m) ?? ''));
  return [...kept, ...[...replaced].map((name) => layoutEntry(root, name))];
}

/** An index.json entry for `root` named `name`: its descriptor, minus any name it had, plus this one. */
export function layoutEntry(root: Descriptor, name: string | undefined): Descriptor {
  const { [REF_NAME_ANNOTATION]: _old, ...others } = root.annotations ?? {};
  const annotations = name === undefined ? others : { ...others, [REF_NAME_ANNOTATION]: name };
  // mediaType, digest and size first, as skopeo writes them; then any other field the root has.
  const { annotations: _dropped, mediaType, digest, size, ...rest } = root;
  return { mediaType, digest, size, ...rest, ...(Object.keys(annotations).length > 0 ? { annotations } : {}) };
}

/** The root descriptor an entry names, without its name (names travel separately). */
export function entryRoot(entry: Descriptor): Descriptor {
  return layoutEntry(entry, undefined);
}
