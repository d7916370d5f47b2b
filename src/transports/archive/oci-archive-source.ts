import { resolve } from 'node:path';
import { parseDigest, verifyBytes } from '../../digest/index.js';
import { GantryError } from '../../errors/index.js';
import { throwIfAborted } from '../../internal/abort.js';
import { sizeMismatchError } from '../../internal/blob-file.js';
import { parseManifest } from '../../media/index.js';
import type { Descriptor } from '../../media/types.js';
import { MAX_MANIFEST_BYTES } from '../oci-layout/layout-blobs.js';
import { checkLayoutMarker, invalidLayout, parseLayoutIndex } from '../oci-layout/layout-index.js';
import { selectImages } from '../oci-layout/oci-layout-source.js';
import type { ImageSource } from '../types.js';
import { openArchive, readWhole, type ArchiveContents } from './open-archive.js';

export interface OciArchiveSourceOptions {
  /** The `org.opencontainers.image.ref.name` to read (`oci-archive:FILE:TAG`); every entry when omitted. */
  tag?: string;
  /** Where a gzip'd archive is extracted (default: the OS temp dir). A plain tar is read in place. */
  tempDir?: string;
}

const SMALL_FILE_LIMIT = 1024 * 1024;

/**
 * Read images from an oci-archive: an OCI image layout as a tar (skopeo's
 * `oci-archive:FILE[:TAG]`). The archive is scanned once on first use and
 * then read in place by byte ranges (see `openArchive`), so memory stays
 * constant and nothing is copied; entries that would escape the archive are
 * refused. Otherwise it behaves as the OCI layout source: the same image
 * selection, length checks and errors (NOT_FOUND for a missing archive or
 * tag, MANIFEST_INVALID for an archive that is no OCI layout).
 */
export function createOciArchiveSource(file: string, options: OciArchiveSourceOptions = {}): ImageSource {
  const path = resolve(file);
  const where = `oci-archive:${path}`;
  let opened: Promise<ArchiveContents> | undefined;
  const contents = (signal: AbortSignal | undefined): Promise<ArchiveContents> => {
    opened ??= openArchive({ file: path, ...(options.tempDir ? { tempDir: options.tempDir } : {}), ...(signal ? { signal } : {}) }).catch(
      (err: unknown) => {
        opened = undefined;
        throw err;
      },
    );
    return opened;
  };
  const lookup = async (desc: Descriptor, signal: AbortSignal | undefined, code: 'MANIFEST_UNKNOWN' | 'BLOB_UNKNOWN') => {
    const archive = await contents(signal);
    const { algorithm, encoded } = parseDigest(desc.digest);
    const entry = archive.files.get(`blobs/${algorithm}/${encoded}`);
    if (entry === undefined) throw new GantryError(code, `${desc.digest} is not in ${where}`, { details: { digest: desc.digest } });
    if (entry.size !== desc.size) throw sizeMismatchError(desc.digest, desc.size, entry.size);
    return { archive, entry };
  };

  return {
    description: `${where}${options.tag === undefined ? '' : `:${options.tag}`}`,
    origin: {},
    async images(transport) {
      throwIfAborted(transport?.signal);
      const archive = await contents(transport?.signal);
      const marker = archive.files.get('oci-layout');
      const index = archive.files.get('index.json');
      if (marker === undefined || index === undefined) throw invalidLayout(where, 'it has no oci-layout and index.json: is it an OCI archive?');
      checkLayoutMarker(await readWhole(archive, marker, SMALL_FILE_LIMIT, 'oci-layout'), where);
      const parsed = parseLayoutIndex(await readWhole(archive, index, MAX_MANIFEST_BYTES, 'index.json'), where);
      return selectImages(parsed.manifests, options.tag, where);
    },
    async manifest(desc, transport) {
      throwIfAborted(transport?.signal);
      const { archive, entry } = await lookup(desc, transport?.signal, 'MANIFEST_UNKNOWN');
      const bytes = await readWhole(archive, entry, MAX_MANIFEST_BYTES, desc.digest);
      verifyBytes(bytes, { digest: desc.digest, size: desc.size });
      return parseManifest({ bytes, digest: desc.digest });
    },
    async blob(desc, transport) {
      throwIfAborted(transport?.signal);
      const from = transport?.from ?? 0;
      if (!Number.isSafeInteger(from) || from < 0 || from > desc.size) throw new RangeError(`blob offset ${from} outside 0..${desc.size}`);
      const { archive, entry } = await lookup(desc, transport?.signal, 'BLOB_UNKNOWN');
      return { body: archive.read(entry, { from, ...(transport?.signal ? { signal: transport.signal } : {}) }), offset: from };
    },
    async close() {
      const pending = opened;
      opened = undefined;
      // An open that failed left nothing behind; its error already went to the caller that asked.
      const [outcome] = await Promise.allSettled(pending === undefined ? [] : [pending]);
      if (outcome?.status === 'fulfilled') await outcome.value.close();
    },
  };
}
