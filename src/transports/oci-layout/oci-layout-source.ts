import { resolve } from 'node:path';
import { GantryError } from '../../errors/index.js';
import { throwIfAborted } from '../../internal/abort.js';
import type { Descriptor } from '../../media/types.js';
import type { ImageSource, SourceImage } from '../types.js';
import { openLayoutBlob, readLayoutManifest } from './layout-blobs.js';
import { entryName, entryRoot, readLayoutIndex } from './layout-index.js';

export interface OciLayoutSourceOptions {
  /** The `org.opencontainers.image.ref.name` to read (`oci:DIR:TAG`); every entry when omitted. */
  tag?: string;
  /** The location without the name, for messages and the description; default `oci:DIR`. */
  where?: string;
}

const MAX_NAMES_IN_HINT = 20;

/**
 * Read images from an OCI image layout directory (image-spec image-layout.md).
 *
 * `images()` checks the `oci-layout` version and reads `index.json`: the
 * entry named `tag`, or every entry when no tag was given (names are the
 * entries' ref.name annotations; unnamed entries have none). The root
 * descriptors returned carry the entry's fields minus its name.
 * `manifest()` and `blob()` read `blobs/<alg>/<encoded>`, checking the file's
 * length against the descriptor (manifests are digest-checked too; blob
 * digests are the caller's to verify); `blob()` seeks to `from`.
 *
 * Throws GantryError NOT_FOUND for a missing layout or tag (the hint lists
 * the names there are), MANIFEST_UNKNOWN / BLOB_UNKNOWN for missing content,
 * SIZE_MISMATCH / DIGEST_MISMATCH for damaged content, MANIFEST_INVALID for a
 * malformed index.json or a name given to several entries.
 */
export function createOciLayoutSource(dir: string, options: OciLayoutSourceOptions = {}): ImageSource {
  const root = resolve(dir);
  const where = options.where ?? `oci:${root}`;
  const description = `${where}${options.tag === undefined ? '' : `:${options.tag}`}`;
  return {
    description,
    origin: {},
    async images(transport) {
      throwIfAborted(transport?.signal);
      const index = await readLayoutIndex(root);
      return selectImages(index.manifests, options.tag, where);
    },
    async manifest(desc, transport) {
      throwIfAborted(transport?.signal);
      return readLayoutManifest(root, desc, where);
    },
    async blob(desc, transport) {
      throwIfAborted(transport?.signal);
      return openLayoutBlob(root, desc, {
        where,
        ...(transport?.from === undefined ? {} : { from: transport.from }),
        ...(transport?.signal ? { signal: transport.signal } : {}),
      });
    },
    async close() {
      // Nothing is held open between calls: each blob() stream closes itself.
    },
  };
}

/**
 * The images a layout's index.json entries name: the entry called `tag`, or
 * all of them. Shared with the archive and store sources.
 *
 * @throws GantryError NOT_FOUND (hint: the names there are), MANIFEST_INVALID
 *   when several entries carry the same name.
 */
export function selectImages(entries: readonly Descriptor[], tag: string | undefined, where: string): SourceImage[] {
  if (tag === undefined) {
    if (entries.length === 0) throw new GantryError('NOT_FOUND', `${where} holds no images`);
    return entries.map((entry) => {
      const name = entryName(entry);
      return { root: entryRoot(entry), names: name === undefined ? [] : [name] };
    });
  }
  const matches = entries.filter((entry) => entryName(entry) === tag);
  const [match] = matches;
  if (match === undefined) throw missingName(entries, tag, where);
  if (matches.length > 1 && matches.some((m) => m.digest !== match.digest)) {
    throw new GantryError('MANIFEST_INVALID', `${where}: index.json names ${JSON.stringify(tag)} more than once`, {
      hint: 'Remove the duplicate entry from index.json, or name the image by another tag.',
    });
  }
  return [{ root: entryRoot(match), names: [tag] }];
}

function missingName(entries: readonly Descriptor[], tag: string, where: string): GantryError {
  const names = [...new Set(entries.map(entryName).filter((n): n is string => n !== undefined))];
  const shown = names.slice(0, MAX_NAMES_IN_HINT).join(', ') + (names.length > MAX_NAMES_IN_HINT ? ', …' : '');
  return new GantryError('NOT_FOUND', `no image named ${JSON.stringify(tag)} in ${where}`, {
    hint: names.length > 0 ? `The names there are: ${shown}.` : 'It has no named images; leave out the name to read them all.',
    details: { name: tag, available: names },
  });
}
