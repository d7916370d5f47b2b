import { GantryError } from '../errors/index.js';
import { formatPlatform, hostPlatform, isIndexMediaType } from '../media/index.js';
import type { Platform } from '../media/types.js';
import { formatLocation, type ImageLocation, type Reference } from '../reference/index.js';
import { copyImages, type CopyImagesResult, type CopyRequest } from '../transfer/index.js';
import type { CopyResult } from '../transfer/types.js';
import { dockerArchiveRepoTags } from '../transports/archive/docker-archive-names.js';
import type { CommandContext } from './context.js';
import { openSource, openTarget, targetNames } from './locations.js';
import type { Output } from './output.js';
import { createProgressView, type ProgressVerb } from './progress.js';

export interface TransferRequest {
  source: ImageLocation;
  target: ImageLocation;
  verb: ProgressVerb;
  platforms?: Platform[];
  allTags?: boolean;
  /** More tags for the target (push -t). */
  extraTags?: string[];
  /**
   * Set when a source holding several images is to be refused unless
   * `manyImages` (push without --all-tags): the hint of that refusal.
   */
  oneImageHint?: string;
  manyImages?: boolean;
  concurrency?: number;
}

/** A transfer's machine result: the one image's CopyResult, or every image's with totals. */
export type TransferOutcome = { kind: 'single'; result: CopyResult } | { kind: 'many'; result: CopyImagesResult };

/**
 * The shared body of copy, pull and push: open both ends, list the source's
 * images, name them at the target, run the engine with progress, and close.
 */
export async function runTransfer(ctx: CommandContext, out: Output, request: TransferRequest): Promise<TransferOutcome> {
  const targetLocation = nameDockerArchive(request.target, request.source);
  const source = await openSource(ctx, request.source, request.allTags ? { allTags: true } : {});
  let target: Awaited<ReturnType<typeof openTarget>>;
  try {
    target = await openTarget(ctx, targetLocation);
  } catch (err) {
    // The source may already hold a store pin or an extracted archive: release it.
    await source.close();
    throw err;
  }
  const view = createProgressView(ctx.io, out, request.verb);
  try {
    const images = await source.images({ signal: ctx.signal });
    if (images.length === 0) throw new GantryError('NOT_FOUND', `${source.description} holds no images`);
    const many = images.length > 1;
    // The result's shape follows the command line, not what the source happens to hold: a
    // script reading `.images[]` after `--all-tags` must not break on a repository whose tags
    // all name one image.
    const listed = many || asksForEveryImage(request);
    if (many && request.oneImageHint !== undefined && request.manyImages !== true) {
      throw new GantryError('USAGE', `${source.description} holds ${images.length} images`, { hint: request.oneImageHint });
    }
    if (many && namesOneTag(request.target)) {
      throw new GantryError('USAGE', `${source.description} holds ${images.length} images, but ${formatLocation(request.target)} names a single tag`, {
        hint: 'name the target without a tag to keep each image’s own tags, or pick one image at the source (e.g. oci:DIR:TAG)',
      });
    }
    let platforms = request.platforms ?? [];
    if (targetLocation.transport === 'docker-archive' && images.some((i) => isIndexMediaType(i.root.mediaType)) && platforms.length !== 1) {
      // Checked before any byte moves: a docker archive holds single-platform images only.
      if (platforms.length > 1) {
        throw new GantryError('USAGE', `a docker-archive holds one platform per image, and ${platforms.length} were asked for`, {
          hint: 'choose one with --platform, e.g. --platform linux/amd64',
        });
      }
      // What docker save and skopeo write from a multi-platform image: this machine's platform.
      platforms = [hostPlatform()];
      out.info(`note: a docker-archive holds one platform per image: writing ${formatPlatform(platforms[0] as Platform)}, this machine's (--platform chooses another)`);
    }
    const requests: CopyRequest[] = images.map((image) => ({
      root: image.root,
      names: namesEachInFull(targetLocation)
        ? dockerArchiveRepoTags(image, sourceRepository(request.source))
        : [...new Set([...targetNames(request.target, image.names), ...(request.extraTags ?? [])])],
    }));
    const result = await copyImages(source, target, requests, {
      signal: ctx.signal,
      onEvent: (e) => view.onEvent(e),
      ...(platforms.length > 0 ? { platforms } : {}),
      ...(request.concurrency ? { concurrency: request.concurrency } : {}),
    });
    const first = result.images[0];
    if (!listed && first) {
      view.done(first);
      return { kind: 'single', result: first };
    }
    for (const image of result.images) view.done(image);
    return { kind: 'many', result };
  } catch (err) {
    view.stop();
    throw err;
  } finally {
    await Promise.allSettled([source.close(), target.close()]);
  }
}

/** `docker load` names images from the archive: give one that has no name the source's reference, as docker save does. */
function nameDockerArchive(target: ImageLocation, source: ImageLocation): ImageLocation {
  if (target.transport !== 'docker-archive' || target.ref || target.index !== undefined) return target;
  if (source.transport === 'registry' || source.transport === 'local') {
    const { digest: _digest, ...named } = source.ref;
    return named.tag ? { ...target, ref: named } : target;
  }
  return target;
}

/**
 * A docker archive the destination does not name keeps each image's own
 * names in full (RepoTags), as `docker save a:1 b:2` does; see
 * dockerArchiveRepoTags for how they are made from the source's names.
 */
function namesEachInFull(target: ImageLocation): boolean {
  return target.transport === 'docker-archive' && target.ref === undefined;
}

/** The repository a registry or local-store source read its images from: their bare tags are tags of it. */
function sourceRepository(location: ImageLocation): Reference | undefined {
  return location.transport === 'registry' || location.transport === 'local' ? location.ref : undefined;
}

/**
 * The command asks for every image of its source: `--all-tags`, or a layout
 * or archive named without picking one image, into a destination that does
 * not name a single tag.
 */
function asksForEveryImage(request: TransferRequest): boolean {
  if (request.allTags === true || request.manyImages === true) return true;
  return picksNoImage(request.source) && !namesOneTag(request.target);
}

function picksNoImage(location: ImageLocation): boolean {
  switch (location.transport) {
    case 'oci':
    case 'oci-archive':
      return location.tag === undefined;
    case 'docker-archive':
      return location.ref === undefined && location.index === undefined;
    default:
      return false;
  }
}

function namesOneTag(location: ImageLocation): boolean {
  switch (location.transport) {
    case 'registry':
    case 'local':
      return location.ref.tag !== undefined || location.ref.digest !== undefined;
    case 'oci':
    case 'oci-archive':
      return location.tag !== undefined;
    case 'docker-archive':
      return location.ref !== undefined;
  }
}

/** Print a transfer's result: --json the data, --quiet the digest(s), else nothing (progress printed the summary). */
export function printOutcome(out: Output, outcome: TransferOutcome): void {
  const results = outcome.kind === 'single' ? [outcome.result] : outcome.result.images;
  if (out.json) out.printJson(outcome.result);
  else if (out.quiet) out.lines(results.map((r) => r.digest));
}
