import { isGantryError, RegistryError } from '../errors/index.js';
import type { Limiter } from '../internal/limiter.js';
import type { MirrorCopyRequest, MirrorOpOptions, MirrorOps, RateBudget } from '../mirror/index.js';
import { parseRateLimit } from '../registry/rate-limit.js';
import { isUnknownManifest } from '../registry/tag-lookup.js';
import { untagManifest } from '../registry/untag.js';
import { copyImages, filterPlatforms } from '../transfer/index.js';
import { isIndexMediaType } from '../media/index.js';
import { withDigest } from '../reference/index.js';
import type { CommandContext } from './context.js';
import { openSource, openTarget } from './locations.js';

export interface CliMirrorOpsOptions {
  /** One limiter for the whole run: caps requests per registry host across every image. */
  limiter: Limiter;
}

/**
 * The mirror runner's operations, wired to gantry's registry client and
 * transfer engine. Rate-limit budgets come from the `ratelimit-*` headers
 * of manifest HEADs (Docker Hub sends them on HEAD, which it does not count
 * as a pull); each copy started is counted as one pull against the last
 * figure seen, since the engine's GETs do not surface their headers.
 */
export function createCliMirrorOps(ctx: CommandContext, options: CliMirrorOpsOptions): MirrorOps {
  const budgets = new Map<string, RateBudget>();
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
        const { platforms, ...request } = op;
        const head = await client.headManifest(ref, request);
        const rate = parseRateLimit(head.headers);
        if (rate.limit !== null && rate.remaining !== null) budgets.set(ref.registry, { limit: rate.limit, remaining: rate.remaining });
        if (platforms === undefined || !isIndexMediaType(head.mediaType)) return head.digest;
        // By digest: the index read is the one the HEAD saw, even if the tag moves meanwhile.
        const manifest = await client.getManifest(withDigest(ref, head.digest), request);
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
      try {
        return await copyOne(request, op);
      } catch (err) {
        // Two images sharing a layer, copied at once into one repository, share that blob's
        // saved upload session (keyed by repository and digest): when one finishes it, the
        // other's PUT gets BLOB_UPLOAD_UNKNOWN. Once more finds the blob present and skips it.
        if (err instanceof RegistryError && err.hasCode('BLOB_UPLOAD_UNKNOWN')) return copyOne(request, op);
        throw err;
      }
    },
    async untag(ref, op) {
      await untagManifest(await ctx.client(), ref, op);
    },
    rateLimit: (registry) => budgets.get(registry),
  };

  async function copyOne(request: MirrorCopyRequest, op: MirrorOpOptions): Promise<{ bytes: number }> {
    const source = await openSource(ctx, { transport: 'registry', ref: request.source });
    try {
      const target = await openTarget(ctx, { transport: 'registry', ref: request.destination });
      try {
        const images = await source.images(op);
        const result = await copyImages(
          source,
          target,
          images.map((image) => ({ root: image.root, names: [request.tag] })),
          {
            ...op,
            limiter: options.limiter,
            limiterKeys: [request.source.registry, request.destination.registry],
            ...(request.platforms && request.platforms.length > 0 ? { platforms: request.platforms } : {}),
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
