import { GantryError } from '../../errors/index.js';
import { familiarReference, parseReference, referenceOrDefaultTag, repositoryOf, withoutTagOrDigest, withTag } from '../../reference/index.js';
import type { Reference } from '../../reference/types.js';
import { aliasTagsOf, semverAliases, type AliasDecision } from '../../tags/semver-aliases.js';
import { parseImageArgument, type ImageArgumentPlace } from '../image-argument.js';

/*
 * What `gantry tag` writes, worked out the same way for a registry and for
 * the local store: the targets from the arguments (checked before any
 * request), then each tag's action from what it names now, and the
 * --semver-aliases decisions.
 */

/** One tag written, or that would be with --dry-run. */
export interface TagWrite {
  /** `registry.example.com/app:v2` */
  reference: string;
  tag: string;
  /** The digest the tag named before; null when it is new. */
  from: string | null;
  to: string;
  action: 'create' | 'move' | 'unchanged';
  /** Written by --semver-aliases. */
  alias: boolean;
}

/** An alias --semver-aliases left where it was. */
export interface HeldAlias {
  reference: string;
  tag: string;
  reason: 'newer' | 'prerelease';
  /** With `newer`: the higher release of the alias's line. */
  newer?: string;
  /** The digest the alias names; null when it does not exist. */
  digest: string | null;
}

/** Where the tags go: the explicit targets, and the version tag --semver-aliases starts from. */
export interface TagPlan {
  source: Reference;
  targets: Reference[];
  version?: Reference;
}

const BARE_TAG = /^[\w][\w.-]{0,127}$/;

/** How to read a repository's tags: from a registry or from the local store. */
export interface TagLookups {
  /** Every tag of the repository; empty when it does not exist. */
  tags(repo: Reference): Promise<string[]>;
  /** The digest each of `tags` names now; a tag that does not exist is left out. */
  digests(repo: Reference, tags: string[]): Promise<Map<string, string>>;
}

/**
 * Parse the arguments and check them before any request: a bare tag names a
 * tag of the source's repository, anything else is a reference.
 * @throws GantryError USAGE (no target, a digest target, a target on another
 *   registry without --local, --semver-aliases without one whole version);
 *   REFERENCE_INVALID.
 */
export function planTargets(sourceArg: string, targetArgs: string[], opts: { local?: boolean; semverAliases?: boolean }): TagPlan {
  const place = opts.local ? 'local' : 'registry';
  const source = referenceOrDefaultTag(parseImageArgument(sourceArg, place));
  const targets = targetArgs.map((arg) => targetReference(source, arg, place));
  if (!opts.local) {
    const foreign = targets.find((t) => t.registry !== source.registry);
    if (foreign) {
      throw new GantryError('USAGE', `${familiarReference(foreign)} is on another registry than ${familiarReference(source)}`, {
        hint: `Tags only name content a registry already has; copy it there: gantry copy ${sourceArg} ${familiarReference(foreign)}`,
      });
    }
  }
  if (!opts.semverAliases) {
    if (targets.length === 0) throw new GantryError('USAGE', 'name at least one target tag', { hint: 'gantry tag SOURCE TARGET..., e.g. gantry tag app:build-7 v1.2.3' });
    return { source, targets };
  }
  const versions = [...new Map(targets.filter((t) => aliasTagsOf(t.tag as string) !== null).map((t) => [familiarReference(t), t])).values()];
  if (versions.length > 1) {
    throw new GantryError('USAGE', `--semver-aliases needs one version among the targets, not ${versions.length}: ${versions.map((v) => v.tag).join(', ')}`, {
      hint: 'Run gantry tag once per version.',
    });
  }
  const version = versions[0] ?? (source.tag !== undefined && aliasTagsOf(source.tag) !== null ? source : undefined);
  if (version === undefined) {
    throw new GantryError('USAGE', '--semver-aliases needs a MAJOR.MINOR.PATCH tag (1.2.3 or v1.2.3) among the targets, or as the source tag', {
      hint: 'e.g. gantry tag --semver-aliases app:build-7 1.2.3',
    });
  }
  return { source, targets, version };
}

/** A bare tag names a tag of the source's repository; anything else is a reference (`latest` when it has no tag), as docker tag reads it. */
function targetReference(source: Reference, arg: string, place: ImageArgumentPlace): Reference {
  if (BARE_TAG.test(arg)) return withTag(withoutTagOrDigest(source), arg);
  const ref = parseImageArgument(arg, place);
  if (ref.digest !== undefined) {
    throw new GantryError('USAGE', `a target names a tag, not a digest: ${arg}`, { hint: 'Give the new name as NAME:TAG, or just TAG.' });
  }
  return referenceOrDefaultTag(ref);
}

/**
 * The writes for `digest` (the targets as given, then the aliases), each
 * with what it names now, and the aliases --semver-aliases leaves alone.
 * @throws what the lookups throw.
 */
export async function planWrites(plan: TagPlan, digest: string, lookups: TagLookups): Promise<{ writes: TagWrite[]; held: HeldAlias[] }> {
  const aliases = plan.version ? await aliasDecisions(plan.version, digest, lookups) : [];
  return assemble(plan, digest, aliases, await currentDigests(plan, lookups));
}

/** The --semver-aliases decisions for the version tag, looking up the digests of only the aliases that exist. */
async function aliasDecisions(version: Reference, digest: string, lookups: TagLookups): Promise<Array<AliasDecision & { ref: Reference }>> {
  const repo = withoutTagOrDigest(version);
  const tags = await lookups.tags(repo);
  const existing = (aliasTagsOf(version.tag as string) ?? []).filter((alias) => tags.includes(alias));
  const current = await lookups.digests(repo, existing);
  const decisions = semverAliases({ version: version.tag as string, digest, tags, current }) ?? [];
  return decisions.map((d) => ({ ...d, ref: withTag(repo, d.alias) }));
}

/** What each explicit target names now, per repository. */
async function currentDigests(plan: TagPlan, lookups: TagLookups): Promise<Map<string, string>> {
  const byRepo = new Map<string, { repo: Reference; tags: string[] }>();
  for (const t of plan.targets) {
    const key = repositoryOf(t);
    const entry = byRepo.get(key) ?? { repo: withoutTagOrDigest(t), tags: [] };
    entry.tags.push(t.tag as string);
    byRepo.set(key, entry);
  }
  const current = new Map<string, string>();
  for (const { repo, tags } of byRepo.values()) {
    for (const [tag, d] of await lookups.digests(repo, tags)) current.set(familiarReference(withTag(repo, tag)), d);
  }
  return current;
}

/** The writes in order (the targets as given, then the aliases), each reference once: an explicit target wins over an alias. */
function assemble(
  plan: TagPlan,
  digest: string,
  aliases: Array<AliasDecision & { ref: Reference }>,
  current: Map<string, string>,
): { writes: TagWrite[]; held: HeldAlias[] } {
  const writes = new Map<string, TagWrite>();
  const change = (from: string | null): TagWrite['action'] => (from === null ? 'create' : from === digest ? 'unchanged' : 'move');
  for (const t of plan.targets) {
    const reference = familiarReference(t);
    const from = current.get(reference) ?? null;
    if (!writes.has(reference)) writes.set(reference, { reference, tag: t.tag as string, from, to: digest, action: change(from), alias: false });
  }
  const held: HeldAlias[] = [];
  for (const a of aliases) {
    const reference = familiarReference(a.ref);
    if (writes.has(reference)) continue;
    const from = a.from ?? null;
    if (a.reason === 'newer' || a.reason === 'prerelease') {
      held.push({ reference, tag: a.alias, reason: a.reason, ...(a.newer ? { newer: a.newer } : {}), digest: from });
    } else {
      writes.set(reference, { reference, tag: a.alias, from, to: digest, action: change(from), alias: true });
    }
  }
  return { writes: [...writes.values()], held };
}

/** The repositories where a tag changes, each once, in first-seen order. */
export function changedRepositories(writes: TagWrite[]): Reference[] {
  const repos = new Map<string, Reference>();
  for (const w of writes) {
    if (w.action === 'unchanged') continue;
    const repo = withoutTagOrDigest(parseReference(w.reference));
    repos.set(repositoryOf(repo), repo);
  }
  return [...repos.values()];
}
