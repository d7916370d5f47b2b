import { verifyBytes } from '../digest/index.js';
import { isGantryError, RegistryError } from '../errors/index.js';
import type { Limiter } from '../internal/limiter.js';
import type { MirrorCopyRequest, MirrorOpOptions, MirrorOps, RateBudget } from '../mirror/index.js';
import { parseRateLimit } from '../registry/rate-limit.js';
import { isUnknownManifest } from '../registry/tag-lookup.js';
import { untagManifest } from '../registry/untag.js';
import { copyImages, filterPlatforms } from '../transfer/index.js';
import { isIndexMediaType } from '../media/index.js';
import type { Descriptor, Manifest } from '../media/types.js';
import { formatReference, withDigest } from '../reference/index.js';
import type { ImageSource } from '../transports/types.js';
import type { CommandContext } from './context.js';
import { openSource, openTarget } from './locations.js';

export interface CliMirrorOpsOptions {
  /** One limiter for the whole run: caps requests per registry host across every image. */
  limiter: Limiter;
}

/**
 * Indexes read to filter platforms are kept for their copies up to this many
 * (a Docker Hub index with attestations is some 5 KiB, more once parsed):
 * past it, a copy reads its index again rather than the run holding every
 * index of a large mirror in memory.
 */
const MAX_KEPT_INDEXES = 1024;

/** What a manifest HEAD (and, for an index read to filter platforms, a GET) learned about a tag. */
interface Seen {
  root: Descriptor;
  /** The index the HEAD named, read by digest, when platforms were asked for. */
  index?: Manifest;
}

/**
 * The mirror runner's operations, wired to gantry's registry client and
 * transfer engine. Rate-limit budgets come from the `ratelimit-*` headers
 * of manifest HEADs (Docker Hub sends them on HEAD, which it does not count
 * as a pull); each copy started is counted as one pull against the last
 * figure seen, since the engine's GETs do not surface their headers.
 *
 * Requests are not repeated: what `headDigest` learned about a source tag
 * (the root's descriptor; the index it read for platforms, up to
 * MAX_KEPT_INDEXES of them) is kept for the run, and a `copy` of that same
 * reference copies exactly that root, as the plan compared it, without
 * HEADing the tag or reading the index again; `absentAtDestination` spares
 * the engine its manifest check at the destination.
 */
export function createCliMirrorOps(ctx: CommandContext, options: CliMirrorOpsOptions): MirrorOps {
  const budgets = new Map<string, RateBudget>();
  const seen = createSeenTags();
  return {
    async listTags(repository, op) {
      const client = await ctx.client();
      const tags: string[] = [];
      try {
        for await (const page of client.listTags(repository, op)) tags.push(...page);
      } catch (err) {
        if (isGantryError(err, 'NAME_UNKNOWN') || isGantryError(err, 'NOT_FOUND')) return undefined;
        throw err;
      }
      return tags;
    },
    async headDigest(ref, op) {
      const client = await ctx.client();
      try {
        const { platforms, source, ...request } = op;
        const head = await client.headManifest(ref, request);
        const rate = parseRateLimit(head.headers);
        if (rate.limit !== null && rate.remaining !== null) budgets.set(ref.registry, { limit: rate.limit, remaining: rate.remaining });
        const key = formatReference(ref);
        // A HEAD without Content-Type does not say what to copy: the copy then asks for itself.
        const root = head.mediaType ? { mediaType: head.mediaType, digest: head.digest, size: head.size } : undefined;
        if (source === true) seen.set(key, root === undefined ? undefined : { root });
        if (platforms === undefined || !isIndexMediaType(head.mediaType)) return head.digest;
        // By digest: the index read is the one the HEAD saw, even if the tag moves meanwhile.
        const manifest = await client.getManifest(withDigest(ref, head.digest), request);
        if (source === true && root !== undefined) seen.set(key, { root, index: manifest });
        if (manifest.kind !== 'index') return head.digest;
        const filtered = filterPlatforms(manifest, platforms);
        return filtered.kind === 'unchanged' ? head.digest : filtered.kind === 'single' ? filtered.child.digest : filtered.descriptor.digest;
      } catch (err) {
        if (isUnknownManifest(err)) return undefined;
        throw err;
      }
    },
    async copy(request, op) {
      const budget = budgets.get(request.source.registry);
      if (budget !== undefined) budgets.set(request.source.registry, { ...budget, remaining: Math.max(0, budget.remaining - 1) });
      // Kept for the run, not taken: a source tag with several destinations is copied once to each.
      const known = seen.get(formatReference(request.source));
      try {
        return await copyOne(request, known, op);
      } catch (err) {
        // Two images sharing a layer, copied at once into one repository, share that blob's
        // saved upload session (keyed by repository and digest): when one finishes it, the
        // other's PUT gets BLOB_UPLOAD_UNKNOWN. Once more finds the blob present and skips it.
        if (err instanceof RegistryError && err.hasCode('BLOB_UPLOAD_UNKNOWN')) return copyOne(request, known, op);
        throw err;
      }
    },
    async untag(ref, op) {
      await untagManifest(await ctx.client(), ref, op);
    },
    rateLimit: (registry) => budgets.get(registry),
  };

  async function copyOne(request: MirrorCopyRequest, known: Seen | undefined, op: MirrorOpOptions): Promise<{ bytes: number }> {
    const opened = await openSource(ctx, { transport: 'registry', ref: request.source });
    const source = known?.index === undefined ? opened : withManifest(opened, known.index);
    try {
      const target = await openTarget(ctx, { transport: 'registry', ref: request.destination });
      try {
        const roots = known === undefined ? (await source.images(op)).map((image) => image.root) : [known.root];
        const result = await copyImages(
          source,
          target,
          roots.map((root) => ({ root, names: [request.tag] })),
          {
            ...op,
            // The plan copies only tags whose destination HEAD named another digest or nothing.
            namesChecked: true,
            limiter: options.limiter,
            limiterKeys: [request.source.registry, request.destination.registry],
            // A blob's check asks the destination only: it needs no slot of the source's.
            checkLimiterKeys: [request.destination.registry],
            ...(request.platforms && request.platforms.length > 0 ? { platforms: request.platforms } : {}),
            ...(request.absentAtDestination === undefined ? {} : { absentAtTarget: [request.absentAtDestination] }),
          },
        );
        return { bytes: result.bytesSent };
      } finally {
        await target.close();
      }
    } finally {
      await source.close();
    }
  }
}

interface SeenTags {
  get(key: string): Seen | undefined;
  /** Keep (or, with undefined, forget) what was seen of a tag; an index only while fewer than MAX_KEPT_INDEXES are kept. */
  set(key: string, seen: Seen | undefined): void;
}

function createSeenTags(): SeenTags {
  const entries = new Map<string, Seen>();
  let indexes = 0;
  return {
    get: (key) => entries.get(key),
    set(key, seen) {
      if (entries.get(key)?.index !== undefined) indexes--;
      entries.delete(key);
      if (seen === undefined) return;
      const kept = seen.index !== undefined && indexes >= MAX_KEPT_INDEXES ? { root: seen.root } : seen;
      if (kept.index !== undefined) indexes++;
      entries.set(key, kept);
    },
  };
}

/** `source`, answering `manifest()` for `manifest`'s digest from memory (checked against the descriptor asked with) instead of a GET. */
function withManifest(source: ImageSource, manifest: Manifest): ImageSource {
  return {
    description: source.description,
    origin: source.origin,
    images: (opts) => source.images(opts),
    async manifest(desc, opts) {
      if (desc.digest !== manifest.digest) return source.manifest(desc, opts);
      verifyBytes(manifest.bytes, { digest: desc.digest, size: desc.size });
      return manifest;
    },
    blob: (desc, opts) => source.blob(desc, opts),
    close: () => source.close(),
  };
}
