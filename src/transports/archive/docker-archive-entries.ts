import { parseDigest } from '../../digest/index.js';
import { familiarName, parseReference } from '../../reference/index.js';
import { blobPath } from '../oci-layout/layout-paths.js';
import { legacyLayerIds, legacyLayerJson, type DockerArchiveImage } from './docker-archive-format.js';
import { layerTarPath } from './docker-layer-store.js';
import type { ArchiveEntry } from './write-archive.js';

/** An image staged for a docker archive: its config, its layers' diff IDs (bottom first) and its tags. */
export interface StagedDockerImage {
  configDigest: string;
  configJson: Record<string, unknown>;
  diffIds: string[];
  /** Familiar references (`alpine:3.20`). */
  repoTags: string[];
}

/**
 * The entries of a docker archive holding `images`, in the order skopeo
 * writes them: layer tars, configs, legacy layer directories (`VERSION`,
 * `json`, and `layer.tar` as a symlink to the layer tar), `manifest.json`,
 * `repositories`. Each layer tar and legacy directory appears once however
 * many images share it. Sizes are the staged files' (the caller's to have
 * verified); reading them is left to the archive writer.
 */
export function dockerArchiveEntries(staging: string, images: readonly StagedDockerImage[]): ArchiveEntry[] {
  const layers = new Map<string, ArchiveEntry>();
  const configs = new Map<string, ArchiveEntry>();
  const legacy = new Map<string, ArchiveEntry[]>();
  const manifest: DockerArchiveImage[] = [];
  const repositories: Record<string, Record<string, string>> = {};

  for (const image of images) {
    const configName = `${parseDigest(image.configDigest).encoded}.json`;
    configs.set(configName, { type: 'file', name: configName, source: blobPath(staging, image.configDigest) });
    const layerNames = image.diffIds.map((diffId) => {
      const name = `${parseDigest(diffId).encoded}.tar`;
      layers.set(name, { type: 'file', name, source: layerTarPath(staging, diffId) });
      return name;
    });
    const ids = legacyLayerIds(image.diffIds, image.configDigest);
    ids.forEach((id, i) => {
      if (legacy.has(id)) return;
      const parent = i === 0 ? undefined : ids[i - 1];
      const top = i === ids.length - 1;
      legacy.set(id, [
        { type: 'symlink', name: `${id}/layer.tar`, target: `../${layerNames[i] as string}` },
        { type: 'file', name: `${id}/VERSION`, content: Buffer.from('1.0') },
        { type: 'file', name: `${id}/json`, content: legacyLayerJson(id, parent, top ? image.configJson : undefined) },
      ]);
    });
    manifest.push({ Config: configName, RepoTags: image.repoTags, Layers: layerNames });
    const topId = ids[ids.length - 1];
    for (const repoTag of image.repoTags) {
      const ref = parseReference(repoTag);
      if (topId !== undefined && ref.tag !== undefined) (repositories[familiarName(ref)] ??= {})[ref.tag] = topId;
    }
  }
  return [
    ...layers.values(),
    ...configs.values(),
    ...[...legacy.values()].flat(),
    { type: 'file', name: 'manifest.json', content: Buffer.from(JSON.stringify(manifest)) },
    { type: 'file', name: 'repositories', content: Buffer.from(JSON.stringify(repositories)) },
  ];
}
