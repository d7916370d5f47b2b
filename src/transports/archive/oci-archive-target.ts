import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseDigest } from '../../digest/index.js';
import { throwIfAborted } from '../../internal/abort.js';
import { fileSize } from '../../internal/blob-file.js';
import { createGroupCommit } from '../../internal/group-commit.js';
import { withFileLock } from '../../internal/file-lock.js';
import { OCI_INDEX } from '../../media/index.js';
import type { Descriptor } from '../../media/types.js';
import { applyCommit } from '../oci-layout/layout-index.js';
import { LAYOUT_VERSION, blobPath } from '../oci-layout/layout-paths.js';
import { createOciLayoutTarget } from '../oci-layout/oci-layout-target.js';
import { reachableBlobs } from '../oci-layout/reachable.js';
import { checkRefName } from '../oci-layout/ref-name.js';
import type { ImageTarget } from '../types.js';
import { archiveLockOptions, stagingDirFor, writeArchive, type ArchiveEntry } from './write-archive.js';

export interface OciArchiveTargetOptions {
  /** The name to give the image (`oci-archive:FILE:TAG`); when set, `commit` writes exactly this name. */
  tag?: string;
}

/**
 * Write images to an oci-archive: an OCI image layout as a tar (skopeo's
 * `oci-archive:FILE[:TAG]`).
 *
 * Blobs and manifests go to a layout staged next to the file
 * (`.FILE.gantry-staging/`, verified and resumable exactly like an OCI layout
 * target: an interrupted run leaves it for the next to continue). Each
 * `commit` then writes the archive atomically (`FILE.partial`, fsync, rename)
 * holding the images committed through this target, and only the blobs they
 * reach: like skopeo, the archive is made anew, not merged with an existing
 * file. Concurrent commits (the engine commits each image as soon as it is
 * written) are written under the file's lock, so none loses another's image,
 * and those that arrive during a write are written together by the next one
 * (a group commit): many images cost a few archive writes, not one each.
 * `close()` removes the staging directory once something was committed.
 *
 * Throws GantryError USAGE at creation for a tag that is no valid ref.name;
 * otherwise what the OCI layout target throws.
 */
export function createOciArchiveTarget(file: string, options: OciArchiveTargetOptions = {}): ImageTarget {
  const path = resolve(file);
  const tag = options.tag === undefined ? undefined : checkRefName(options.tag);
  const staging = stagingDirFor(path);
  const where = `oci-archive:${path}`;
  const layout = createOciLayoutTarget(staging, { where });
  let entries: Descriptor[] = [];
  let committed = false;
  // Under the lock, which orders this process's writes and other processes' alike; commits that
  // arrive while a write runs go into the next one together (many images: a few writes, not one each).
  const writes = createGroupCommit<{ root: Descriptor; refNames: string[] }>((added, signal) =>
    withFileLock(
      path,
      async () => {
        const next = added.reduce((index, { root, refNames }) => applyCommit(index, root, refNames), entries);
        const { blobs } = await reachableBlobs(staging, next);
        await writeArchive(path, await archiveEntries(staging, next, [...blobs.values()]), signal);
        entries = next;
      },
      archiveLockOptions(signal),
    ),
  );

  return {
    description: `${where}${tag === undefined ? '' : `:${tag}`}`,
    hasBlob: (desc, transport) => layout.hasBlob(desc, transport),
    stagedBytes: (desc, transport) => layout.stagedBytes(desc, transport),
    writeBlob: (desc, body, writeOptions) => layout.writeBlob(desc, body, writeOptions),
    hasManifest: (desc, transport) => layout.hasManifest(desc, transport),
    writeManifest: (desc, bytes, transport) => layout.writeManifest(desc, bytes, transport),
    async commit(root, names, transport) {
      throwIfAborted(transport?.signal);
      if ((await fileSize(blobPath(staging, root.digest))) !== root.size) throw new Error(`commit of ${root.digest} before it was written`);
      const refNames = tag === undefined ? names.map(checkRefName) : [tag];
      await writes.add({ root, refNames }, transport?.signal);
      committed = true;
    },
    async close() {
      await layout.close();
      if (committed) await rm(staging, { recursive: true, force: true });
    },
  };
}

async function archiveEntries(staging: string, index: Descriptor[], blobs: Descriptor[]): Promise<ArchiveEntry[]> {
  const files: ArchiveEntry[] = [];
  const algorithms = new Set<string>();
  for (const blob of blobs) {
    const source = blobPath(staging, blob.digest);
    // Content an index lists but the copy left out (foreign layers, filtered platforms) is simply not there.
    if ((await fileSize(source)) !== blob.size) continue;
    const { algorithm, encoded } = parseDigest(blob.digest);
    algorithms.add(algorithm);
    files.push({ type: 'file', name: `blobs/${algorithm}/${encoded}`, source, size: blob.size });
  }
  const json = (value: unknown): Uint8Array => Buffer.from(JSON.stringify(value));
  return [
    { type: 'file', name: 'oci-layout', content: json({ imageLayoutVersion: LAYOUT_VERSION }) },
    { type: 'file', name: 'index.json', content: json({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: index }) },
    { type: 'directory', name: 'blobs' },
    ...[...algorithms].sort().map((algorithm): ArchiveEntry => ({ type: 'directory', name: `blobs/${algorithm}` })),
    ...files.sort((a, b) => a.name.localeCompare(b.name)),
  ];
}
