import { GantryError } from '../errors/index.js';
import { parseReference, parseRepository, type Reference } from '../reference/index.js';

/** Which location prefix a command's image argument may carry besides a bare reference. */
export type ImageArgumentPlace = 'registry' | 'local';

const PREFIX: Record<ImageArgumentPlace, string> = { registry: 'docker://', local: 'local:' };

/**
 * An image reference given on the command line, in docker's syntax, also
 * with the prefix of the place the command works on, as `copy` spells
 * locations: `docker://REF` for commands that talk to a registry (skopeo's
 * transport name, which users paste from skopeo), `local:REF` for commands
 * on the local store. A local-store command refuses `docker://` with a hint.
 * (`local:` is not refused by registry commands: `local:5000/app` is a
 * registry host with a port.)
 *
 * @throws GantryError REFERENCE_INVALID (parseReference); USAGE for
 *   `docker://` given to a local-store command.
 */
export function parseImageArgument(input: string, place: ImageArgumentPlace): Reference {
  return parseReference(strip(input, place));
}

/** As parseImageArgument, for a repository (no tag or digest). */
export function parseRepositoryArgument(input: string, place: ImageArgumentPlace): Reference {
  return parseRepository(strip(input, place));
}

function strip(input: string, place: ImageArgumentPlace): string {
  const own = PREFIX[place];
  if (input.startsWith(own)) return input.slice(own.length);
  if (place === 'local' && input.startsWith(PREFIX.registry)) {
    throw new GantryError('USAGE', `${input}: this command works on gantry's local store, not a registry`, {
      hint: `Drop the ${PREFIX.registry} prefix, or use gantry pull or copy to bring the image into the local store.`,
    });
  }
  return input;
}
