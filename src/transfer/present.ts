import type { Descriptor } from '../media/types.js';
import type { CopyPlan, PlannedManifest } from './plan.js';

/** What the target already holds, found from the top of each root down. */
export interface PresentContent {
  /** Manifests the target has, each with everything below it. */
  manifests: Set<string>;
  /** Manifests the target was asked about and lacks: they can be written without asking again. */
  absent: Set<string>;
  /** Blobs some manifest still to be written names: these need a blob step. */
  neededBlobs: Descriptor[];
}

/**
 * Asks the target about manifests top-down: when it has a manifest, it has
 * everything that manifest names, since every target publishes a manifest
 * only after its blobs and children (a registry refuses it otherwise, and
 * this engine writes children first), so the subtree below it is not asked
 * about at all. go-containerregistry's remote writer and regclient skip an
 * existing root the same way. A re-push of an image that is all there thus
 * costs one manifest check instead of one per blob.
 *
 * @throws whatever `has` throws.
 */
export async function findPresent(plan: CopyPlan, has: (desc: Descriptor) => Promise<boolean>): Promise<PresentContent> {
  const present = new Set<string>();
  const absent = new Set<string>();
  const asked = new Map<string, Promise<void>>();

  const markPresent = (m: PlannedManifest): void => {
    present.add(m.descriptor.digest);
    for (const child of m.children) markPresent(child);
  };
  const visit = (m: PlannedManifest): Promise<void> => {
    let pending = asked.get(m.descriptor.digest);
    if (pending === undefined) {
      pending = has(m.descriptor).then(async (there) => {
        if (there) markPresent(m);
        else {
          absent.add(m.descriptor.digest);
          await Promise.all(m.children.map(visit));
        }
      });
      asked.set(m.descriptor.digest, pending);
    }
    return pending;
  };
  await Promise.all(plan.images.map((image) => visit(image.root)));

  // A child shared by two parents may be found absent under one and assumed present under the other: what was asked wins.
  for (const digest of absent) present.delete(digest);
  const needed = new Set<string>();
  for (const m of plan.manifests) {
    if (!present.has(m.descriptor.digest)) for (const blob of m.blobs) needed.add(blob.digest);
  }
  return { manifests: present, absent, neededBlobs: plan.blobs.filter((b) => needed.has(b.digest)) };
}
