import { isGantryError } from '../errors/index.js';
import { throwIfAborted } from '../internal/abort.js';
import { withoutTagOrDigest, withTag } from '../reference/index.js';
import type { Reference } from '../reference/types.js';
import type { RegistryClient, RequestOptions } from './types.js';

/** HEADs in flight at once when looking tags up: enough to hide latency, few enough not to trip rate limits. */
export const DEFAULT_LOOKUP_CONCURRENCY = 8;

/** True for the errors that mean "no such tag or repository", as registries variously say it. */
export function isUnknownManifest(err: unknown): boolean {
  return isGantryError(err, 'MANIFEST_UNKNOWN') || isGantryError(err, 'NAME_UNKNOWN') || isGantryError(err, 'NOT_FOUND');
}

/**
 * The digest a tag (or digest reference) names now, by a manifest HEAD;
 * undefined when the tag or its repository does not exist.
 * @throws what headManifest throws, except the "unknown" codes.
 */
export async function currentDigest(client: RegistryClient, ref: Reference, options: RequestOptions = {}): Promise<string | undefined> {
  try {
    return (await client.headManifest(ref, options)).digest;
  } catch (err) {
    if (isUnknownManifest(err)) return undefined;
    throw err;
  }
}

/**
 * Every tag of the repository, all pages; an empty list when the repository
 * does not exist (yet).
 * @throws what listTags throws, except NAME_UNKNOWN/NOT_FOUND.
 */
export async function listAllTags(client: RegistryClient, repo: Reference, options: RequestOptions = {}): Promise<string[]> {
  const tags: string[] = [];
  try {
    for await (const page of client.listTags(withoutTagOrDigest(repo), options)) tags.push(...page);
  } catch (err) {
    if (isGantryError(err, 'NAME_UNKNOWN') || isGantryError(err, 'NOT_FOUND')) return [];
    throw err;
  }
  return tags;
}

/**
 * The digest each of `tags` names in `repo`, with at most `concurrency`
 * HEADs in flight; a tag that is gone by the time it is asked about is left
 * out of the map.
 * @throws the first failure other than "unknown"; INTERRUPTED when the signal aborts.
 */
export async function digestsOfTags(
  client: RegistryClient,
  repo: Reference,
  tags: readonly string[],
  options: RequestOptions & { concurrency?: number } = {},
): Promise<Map<string, string>> {
  const concurrency = Math.max(1, options.concurrency ?? DEFAULT_LOOKUP_CONCURRENCY);
  const signal = options.signal ? { signal: options.signal } : {};
  const found = new Map<string, string>();
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    // Each worker takes the next unclaimed tag until none is left (at most `tags.length` steps in all), or one failed.
    while (next < tags.length && !failed) {
      throwIfAborted(options.signal);
      const tag = tags[next++] as string;
      try {
        const digest = await currentDigest(client, withTag(repo, tag), signal);
        if (digest !== undefined) found.set(tag, digest);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, tags.length) }, worker));
  return found;
}

/**
 * The tags of `repo` that name `digest` now (list every tag, HEAD each with
 * bounded concurrency), in the order the registry lists them. A snapshot: a
 * tag pushed meanwhile may be missed.
 * @throws as listAllTags and digestsOfTags.
 */
export async function tagsNaming(
  client: RegistryClient,
  repo: Reference,
  digest: string,
  options: RequestOptions & { concurrency?: number } = {},
): Promise<string[]> {
  const tags = await listAllTags(client, repo, options.signal ? { signal: options.signal } : {});
  const digests = await digestsOfTags(client, repo, tags, options);
  return tags.filter((tag) => digests.get(tag) === digest);
}
