import { GantryError } from '../../errors/index.js';
import { familiarName, familiarReference, parseReference, repositoryOf, withDigest, withoutTagOrDigest } from '../../reference/index.js';
import type { Reference } from '../../reference/types.js';
import { currentDigest, digestsOfTags, listAllTags } from '../../registry/tag-lookup.js';
import { listImages, tagImage, type StoredImage } from '../../transports/local-store/index.js';
import type { CopyResult } from '../../transfer/types.js';
import type { CommandContext } from '../context.js';
import type { Output } from '../output.js';
import { runTransfer } from '../transfer-run.js';
import { changedRepositories, planTargets, planWrites, type HeldAlias, type TagPlan, type TagWrite } from './tag-plan.js';

export interface TagOptions {
  local?: boolean;
  semverAliases?: boolean;
  dryRun?: boolean;
  json?: boolean;
}

/** Content put into another repository of the registry before tagging there. */
interface CopiedContent {
  /** The familiar repository name: `registry.example.com/release/app`. */
  repository: string;
  action: 'copied' | 'present' | 'would-copy';
  blobs?: CopyResult['blobs'];
}

/** The `--json` result. */
interface TagResult {
  source: string;
  digest: string;
  mediaType: string;
  dryRun: boolean;
  copied: CopiedContent[];
  tags: TagWrite[];
  held: HeldAlias[];
}

/** `gantry tag`: plan the names, write them (remotely or in the local store), report. */
export async function tagAction(ctx: CommandContext, sourceArg: string, targetArgs: string[], opts: TagOptions): Promise<void> {
  const out = ctx.output(opts);
  const plan = planTargets(sourceArg, targetArgs, opts);
  const result = opts.local ? await tagLocal(ctx, plan, opts) : await tagRemote(ctx, out, plan, opts);
  if (out.json) out.printJson(result);
  else printResult(out, result);
}

async function tagRemote(ctx: CommandContext, out: Output, plan: TagPlan, opts: TagOptions): Promise<TagResult> {
  const client = await ctx.client();
  const signal = { signal: ctx.signal };
  // The bytes are read once and written under every name: the digest cannot change on the way.
  const manifest = await client.getManifest(plan.source, signal);
  const digest = manifest.digest;
  const { writes, held } = await planWrites(plan, digest, {
    tags: (repo) => listAllTags(client, repo, signal),
    digests: (repo, tags) => digestsOfTags(client, repo, tags, signal),
  });
  const copied: CopiedContent[] = [];
  const sourceRepo = withoutTagOrDigest(plan.source);
  for (const repo of changedRepositories(writes)) {
    if (repo.repository === sourceRepo.repository) continue;
    const repository = familiarName(repo);
    if ((await currentDigest(client, withDigest(repo, digest), signal)) !== undefined) copied.push({ repository, action: 'present' });
    else if (opts.dryRun) copied.push({ repository, action: 'would-copy' });
    else {
      // Within one registry the engine mounts every blob and writes the child manifests: no layer moves.
      const outcome = await runTransfer(ctx, out, {
        source: { transport: 'registry', ref: withDigest(sourceRepo, digest) },
        target: { transport: 'registry', ref: withDigest(repo, digest) },
        verb: 'copy',
      });
      copied.push({ repository, action: 'copied', blobs: outcome.result.blobs });
    }
  }
  if (!opts.dryRun) {
    for (const write of writes) {
      if (write.action !== 'unchanged') await client.putManifest(parseReference(write.reference), manifest.bytes, manifest.mediaType, signal);
    }
  }
  return { source: familiarReference(plan.source), digest, mediaType: manifest.mediaType, dryRun: opts.dryRun === true, copied, tags: writes, held };
}

async function tagLocal(ctx: CommandContext, plan: TagPlan, opts: TagOptions): Promise<TagResult> {
  const env = ctx.io.env;
  const images = await listImages(env);
  const found = images.find((i) => matches(i, plan.source));
  if (found === undefined) {
    throw new GantryError('NOT_FOUND', `no image ${familiarReference(plan.source)} in the local store`, {
      hint: 'gantry images lists what the local store holds.',
      details: { reference: familiarReference(plan.source) },
    });
  }
  const digest = found.digest;
  const tagsIn = (repo: Reference): StoredImage[] => images.filter((i) => i.name === repositoryOf(repo) && i.tag !== null);
  const { writes, held } = await planWrites(plan, digest, {
    tags: async (repo) => tagsIn(repo).map((i) => i.tag as string),
    digests: async (repo, tags) => new Map(tagsIn(repo).flatMap((i) => (i.tag !== null && tags.includes(i.tag) ? [[i.tag, i.digest] as const] : []))),
  });
  if (!opts.dryRun) {
    // Pinned to the digest: a source tag moved meanwhile fails rather than spreading other content.
    const pinned = withDigest(plan.source, digest);
    for (const write of writes) {
      if (write.action !== 'unchanged') await tagImage(env, pinned, parseReference(write.reference), { signal: ctx.signal });
    }
  }
  return { source: familiarReference(plan.source), digest, mediaType: found.mediaType, dryRun: opts.dryRun === true, copied: [], tags: writes, held };
}

function matches(image: StoredImage, ref: Reference): boolean {
  if (image.name !== repositoryOf(ref)) return false;
  if (ref.digest !== undefined && image.digest !== ref.digest) return false;
  return ref.tag === undefined || image.tag === ref.tag;
}

function printResult(out: Output, result: TagResult): void {
  const short = (d: string): string => (out.tty ? d.slice(0, 19) : d);
  const verb = result.dryRun
    ? { create: 'would create', move: 'would move', keep: 'would keep', skip: 'would skip' }
    : { create: 'created', move: 'moved', keep: 'kept', skip: 'skipped' };
  for (const c of result.copied) {
    if (c.action === 'would-copy') out.line(`would copy ${short(result.digest)} into ${c.repository} (blobs mounted, nothing downloaded)`);
  }
  for (const w of result.tags) {
    const label = w.alias ? ' (alias)' : '';
    if (w.action === 'create') out.line(`${verb.create} ${w.reference}${label}: ${short(w.to)}`);
    else if (w.action === 'move') out.line(`${verb.move} ${w.reference}${label}: ${short(w.from ?? '')} → ${short(w.to)}`);
    else out.line(`unchanged ${w.reference}${label}: already ${short(w.to)}`);
  }
  for (const h of result.held) {
    const why = h.reason === 'newer' ? `${h.newer ?? 'a higher release'} is newer` : 'a prerelease moves no alias';
    out.line(h.digest ? `${verb.keep} ${h.reference} (alias) at ${short(h.digest)}: ${why}` : `${verb.skip} ${h.reference} (alias): ${why}`);
  }
}
