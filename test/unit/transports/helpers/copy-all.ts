import type { Descriptor } from '../../../../src/media/types.js';
import type { ImageSource, ImageTarget } from '../../../../src/transports/types.js';

/**
 * A minimal, sequential stand-in for the transfer engine, enough to exercise
 * transports against each other: blobs before their manifest, children
 * before their index, commit last. It does no verification of its own (the
 * target must) and no retries.
 */
export async function copyAll(source: ImageSource, target: ImageTarget, image: { root: Descriptor; names: string[] }): Promise<void> {
  await copyManifest(source, target, image.root);
  await target.commit(image.root, image.names);
}

/** Copy a manifest and everything below it (children first), without committing a name. */
export async function copyManifest(source: ImageSource, target: ImageTarget, desc: Descriptor): Promise<void> {
  const manifest = await source.manifest(desc);
  if (manifest.kind === 'index') {
    for (const child of manifest.manifest.manifests) await copyManifest(source, target, child);
  } else {
    for (const blob of [manifest.manifest.config, ...manifest.manifest.layers]) {
      if (await target.hasBlob(blob)) continue;
      const from = await target.stagedBytes(blob);
      const reader = await source.blob(blob, { from });
      await target.writeBlob(blob, reader.body, { from: reader.offset });
    }
  }
  if (!(await target.hasManifest(desc))) await target.writeManifest(desc, manifest.bytes);
}

/** Copy every image a source names. */
export async function copyEverything(source: ImageSource, target: ImageTarget): Promise<void> {
  for (const image of await source.images()) await copyAll(source, target, image);
}
