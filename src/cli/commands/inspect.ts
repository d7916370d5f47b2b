import { Command } from 'commander';
import { GantryError } from '../../errors/index.js';
import { formatPlatform, isAttestationManifest, parsePlatform } from '../../media/index.js';
import { summarizeImage, type ImageSummary } from '../../media/image-summary.js';
import type { ImageConfig, Manifest } from '../../media/types.js';
import { formatReference, referenceOrDefaultTag } from '../../reference/index.js';
import type { Reference } from '../../reference/types.js';
import { resolveManifest } from '../../registry/resolve.js';
import type { RegistryClient } from '../../registry/types.js';
import type { CommandContext } from '../context.js';
import { formatBytes, type Output } from '../output.js';
import { parseImageArgument } from '../image-argument.js';

const IMAGE_CONFIG_TYPES = new Set(['application/vnd.oci.image.config.v1+json', 'application/vnd.docker.container.image.v1+json']);
const CONFIG_MAX_BYTES = 8 * 1024 * 1024;

interface IndexEntry {
  platform: string | null;
  digest: string;
  mediaType: string;
  size: number;
  /** Sum of the image's layer sizes; null for entries that are not images. */
  imageSize: number | null;
  attestation: boolean;
}

export function inspectCommand(context: () => CommandContext): Command {
  return new Command('inspect')
    .description('show an image: its platforms (for an index) or its config and layers')
    .argument('<ref>', 'image reference; the tag defaults to latest')
    .option('--platform <os/arch[/variant]>', 'for an index, inspect the image for this platform')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExamples:\n  gantry inspect alpine:3.20\n  gantry inspect --platform linux/arm64 alpine:3.20\n  gantry inspect --json ghcr.io/org/app:1 | jq .layers')
    .action(async (input: string, opts: { platform?: string; json?: boolean }) => {
      const ctx = context();
      const out = ctx.output(opts);
      const ref = referenceOrDefaultTag(parseImageArgument(input, 'registry'));
      const platform = opts.platform ? parsePlatform(opts.platform) : undefined;
      const client = await ctx.client();
      const spinner = out.spinner(`Inspecting ${input}`);
      let result: Awaited<ReturnType<typeof inspect>>;
      try {
        result = await inspect(client, ref, platform ? { platform, signal: ctx.signal } : { signal: ctx.signal });
      } finally {
        spinner.stop();
      }
      if (out.json) out.printJson(result);
      else if (result.kind === 'index') renderIndex(out, result);
      else renderImage(out, result);
    });
}

async function inspect(client: RegistryClient, ref: Reference, options: { platform?: ReturnType<typeof parsePlatform>; signal: AbortSignal }) {
  const { top, image } = await resolveManifest(client, ref, options);
  const base = { reference: formatReference(ref) };
  if (image) return { ...base, kind: 'image' as const, ...(await describeImage(client, ref, image, options.signal)) };
  if (top.kind !== 'index') throw new Error('resolveManifest returned an image without image');
  const manifests = await Promise.all(
    top.manifest.manifests.map(async (desc): Promise<IndexEntry> => {
      const entry = {
        platform: desc.platform ? formatPlatform(desc.platform) : null,
        digest: desc.digest,
        mediaType: desc.mediaType,
        size: desc.size,
        attestation: isAttestationManifest(desc),
      };
      if (entry.attestation) return { ...entry, imageSize: null };
      const child = await client.getManifest({ ...ref, digest: desc.digest }, { signal: options.signal });
      return { ...entry, imageSize: child.kind === 'image' ? child.manifest.layers.reduce((s, l) => s + l.size, 0) : null };
    }),
  );
  return {
    ...base,
    kind: 'index' as const,
    digest: top.digest,
    mediaType: top.mediaType,
    artifactType: top.manifest.artifactType ?? null,
    annotations: top.manifest.annotations ?? {},
    manifests,
  };
}

async function describeImage(client: RegistryClient, ref: Reference, image: Manifest, signal: AbortSignal): Promise<{ digest: string; mediaType: string } & ImageSummary> {
  if (image.kind !== 'image') throw new GantryError('MANIFEST_INVALID', `${image.digest} is not an image manifest`);
  let config: ImageConfig | undefined;
  if (IMAGE_CONFIG_TYPES.has(image.manifest.config.mediaType)) {
    const bytes = await client.getBlobBytes(ref, image.manifest.config.digest, { signal, maxBytes: CONFIG_MAX_BYTES });
    try {
      config = JSON.parse(Buffer.from(bytes).toString('utf8')) as ImageConfig;
    } catch (err) {
      throw new GantryError('MANIFEST_INVALID', `the image config ${image.manifest.config.digest} is not valid JSON`, { cause: err });
    }
  }
  return { digest: image.digest, mediaType: image.mediaType, ...summarizeImage(image.manifest, config) };
}

function renderIndex(out: Output, r: { reference: string; digest: string; mediaType: string; manifests: IndexEntry[] }): void {
  out.fields([
    ['Reference', r.reference],
    ['Digest', r.digest],
    ['MediaType', r.mediaType],
  ]);
  out.line();
  out.table(
    ['PLATFORM', 'DIGEST', 'SIZE'],
    r.manifests.map((m) => [
      m.attestation ? out.c.dim(`${m.platform ?? '-'} (attestation)`) : (m.platform ?? '-'),
      m.digest,
      m.imageSize === null ? '-' : formatBytes(m.imageSize),
    ]),
  );
}

function renderImage(out: Output, r: { reference: string; digest: string; mediaType: string } & ImageSummary): void {
  const platform = r.os && r.architecture ? formatPlatform({ os: r.os, architecture: r.architecture, ...(r.variant ? { variant: r.variant } : {}) }) : undefined;
  const join = (xs: string[] | null) => (xs && xs.length > 0 ? JSON.stringify(xs) : undefined);
  out.fields([
    ['Reference', r.reference],
    ['Digest', r.digest],
    ['MediaType', r.mediaType],
    ['ArtifactType', r.artifactType ?? undefined],
    ['Created', r.created ?? undefined],
    ['Platform', platform],
    ['User', r.user ?? undefined],
    ['WorkingDir', r.workingDir ?? undefined],
    ['Entrypoint', join(r.entrypoint)],
    ['Cmd', join(r.cmd)],
    ['Ports', r.exposedPorts.join(', ')],
  ]);
  if (r.env.length > 0) {
    out.line(out.c.bold('Env:'));
    for (const e of r.env) out.line(`  ${e}`);
  }
  const labels = Object.entries(r.labels);
  if (labels.length > 0) {
    out.line(out.c.bold('Labels:'));
    for (const [k, v] of labels) out.line(`  ${k}=${v}`);
  }
  out.line();
  out.table(
    ['#', 'LAYER', 'SIZE'],
    r.layers.map((l, i) => [i + 1, l.digest, formatBytes(l.size)]),
  );
  out.line(`${r.layers.length} layer${r.layers.length === 1 ? '' : 's'}, ${formatBytes(r.totalSize)} in total (compressed)`);
}
