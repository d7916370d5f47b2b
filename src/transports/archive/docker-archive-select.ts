import { GantryError, isGantryError } from '../../errors/index.js';
import { familiarReference, formatReference, parseReference, referenceOrDefaultTag, withoutTagOrDigest, withTag } from '../../reference/index.js';
import type { Reference } from '../../reference/types.js';
import type { DockerArchiveImage } from './docker-archive-format.js';

interface Candidate {
  entry: DockerArchiveImage;
  names: string[];
  references?: string[];
}

/**
 * The images of a docker archive `ref` names (see DockerArchiveSourceOptions),
 * each with its names: the tag `ref` matched, or the tags of all its RepoTags;
 * and its references: the same in full (familiar form, `alpine:3.20`).
 *
 * @throws GantryError NOT_FOUND (hint: the RepoTags there are), USAGE for a
 *   digest reference, REFERENCE_INVALID for an unparseable one.
 */
export function selectDockerImages<T extends Candidate>(images: readonly T[], ref: string | undefined, where: string): T[] {
  if (ref === undefined) {
    if (images.length === 0) throw new GantryError('NOT_FOUND', `${where} holds no images`);
    return images.map((image) => ({ ...image, ...namesOf(image.entry) }));
  }
  const position = /^@(\d+)$/.exec(ref);
  if (position) {
    const image = images[Number(position[1])];
    if (image === undefined) {
      throw new GantryError('NOT_FOUND', `${where} has no image ${ref}`, { hint: images.length === 1 ? 'It holds one image: @0.' : `It holds ${images.length} images: @0 to @${images.length - 1}.` });
    }
    return [{ ...image, ...namesOf(image.entry) }];
  }
  const wanted = referenceOrDefaultTag(parseReference(ref));
  if (wanted.digest !== undefined) {
    throw new GantryError('USAGE', `a docker archive names images by tag, not digest: ${ref}`, { hint: 'Name the image as NAME:TAG or @N.' });
  }
  const key = formatReference(wanted);
  const image = images.find((candidate) => repoTagsOf(candidate.entry).some((r) => formatReference(r) === key));
  if (image === undefined) {
    const all = images.flatMap((candidate) => candidate.entry.RepoTags ?? []);
    throw new GantryError('NOT_FOUND', `no image tagged ${ref} in ${where}`, {
      hint: all.length > 0 ? `It holds: ${all.slice(0, 20).join(', ')}${all.length > 20 ? ', …' : ''}.` : 'Its images are untagged; name one as @N.',
      details: { ref, available: all },
    });
  }
  return [{ ...image, names: [wanted.tag as string], references: [familiarReference(wanted)] }];
}

/** The RepoTags that parse as tagged references (others are ignored, as docker load ignores them). */
function repoTagsOf(entry: DockerArchiveImage): Reference[] {
  return (entry.RepoTags ?? []).flatMap((text) => {
    try {
      const parsed = parseReference(text);
      return parsed.tag === undefined ? [] : [parsed];
    } catch (err) {
      if (isGantryError(err, 'REFERENCE_INVALID')) return [];
      throw err;
    }
  });
}

function namesOf(entry: DockerArchiveImage): { names: string[]; references: string[] } {
  const tagged = repoTagsOf(entry);
  return {
    names: [...new Set(tagged.map((r) => r.tag as string))],
    references: [...new Set(tagged.map((r) => familiarReference(withTag(withoutTagOrDigest(r), r.tag as string))))],
  };
}
