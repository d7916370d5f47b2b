import { describe, expect, it } from 'vitest';
import { digestOf } from '../../../src/digest/index.js';
import { DOCKER_FOREIGN_LAYER_GZIP, OCI_INDEX, OCI_MANIFEST } from '../../../src/media/index.js';
import type { ImageIndex } from '../../../src/media/types.js';
import { planCopy } from '../../../src/transfer/plan.js';
import { addBlob, addImage, addIndex, createMemorySource, createStore } from '../../helpers/memory-transport.js';

const amd64 = { os: 'linux', architecture: 'amd64' };
const arm64 = { os: 'linux', architecture: 'arm64', variant: 'v8' };
const armv7 = { os: 'linux', architecture: 'arm', variant: 'v7' };

function threePlatforms() {
  const store = createStore();
  // "base" is the same layer in every platform.
  const a = addImage(store, { layers: ['base', 'amd'], platform: amd64 });
  const b = addImage(store, { layers: ['base', 'arm64'], platform: arm64 });
  const c = addImage(store, { layers: ['base', 'armv7'], platform: armv7 });
  const attestation = addImage(store, { layers: ['sbom-arm64'], platform: { os: 'unknown', architecture: 'unknown' } });
  const attestationEntry = {
    ...attestation,
    annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': b.digest },
  };
  const index = addIndex(store, [a, b, c, attestationEntry], { 'org.example': 'kept' });
  return { store, index, a, b, c, attestation: attestationEntry };
}

describe('planCopy', () => {
  it('lists a blob shared by several platforms once', async () => {
    const { store, index } = threePlatforms();
    const plan = await planCopy(createMemorySource(store), [{ root: index, names: ['v1'] }]);
    const digests = plan.blobs.map((b) => b.digest);
    expect(new Set(digests).size).toBe(digests.length);
    // 4 configs + base + 3 platform layers + the sbom layer.
    expect(digests).toHaveLength(9);
    expect(plan.totalBytes).toBe(plan.blobs.reduce((n, b) => n + b.size, 0));
  });

  it('keeps the root index bytes and digest when nothing is filtered', async () => {
    const { store, index } = threePlatforms();
    const plan = await planCopy(createMemorySource(store), [{ root: index, names: [] }]);
    const [image] = plan.images;
    expect(image?.root.descriptor).toEqual(index);
    expect(image?.root.filtered).toBe(false);
    expect(Buffer.from(image?.root.bytes ?? []).equals(Buffer.from(store.manifests.get(index.digest)?.bytes ?? []))).toBe(true);
  });

  it('makes the chosen image manifest the root when one platform is asked for', async () => {
    const { store, index, b } = threePlatforms();
    const plan = await planCopy(createMemorySource(store), [{ root: index, names: [] }], { platforms: [{ os: 'linux', architecture: 'arm64' }] });
    const [image] = plan.images;
    expect(image?.root.descriptor.digest).toBe(b.digest);
    expect(image?.root.descriptor.mediaType).toBe(OCI_MANIFEST);
    expect(image?.manifests.map((m) => m.descriptor.digest)).toEqual([b.digest]);
    expect(plan.blobs).toHaveLength(3);
  });

  it('writes a new index with only the chosen platforms and their attestations when several are asked for', async () => {
    const { store, index, a, b, c, attestation } = threePlatforms();
    const plan = await planCopy(createMemorySource(store), [{ root: index, names: [] }], { platforms: [arm64, amd64] });
    const root = plan.images[0]?.root;
    expect(root?.filtered).toBe(true);
    expect(root?.descriptor.mediaType).toBe(OCI_INDEX);
    expect(root?.descriptor.digest).not.toBe(index.digest);
    const bytes = root?.bytes ?? new Uint8Array();
    expect(root?.descriptor.digest).toBe(digestOf(bytes));
    expect(root?.descriptor.size).toBe(bytes.byteLength);
    const doc = JSON.parse(Buffer.from(bytes).toString('utf8')) as ImageIndex;
    // Index order, not the order asked; the arm64 attestation rides along; other fields are kept.
    expect(doc.manifests.map((m) => m.digest)).toEqual([a.digest, b.digest, attestation.digest]);
    expect(doc.annotations).toEqual({ 'org.example': 'kept' });
    expect(plan.manifests.map((m) => m.descriptor.digest)).not.toContain(c.digest);
    expect(plan.manifests.at(-1)?.descriptor.digest).toBe(root?.descriptor.digest);
  });

  it('keeps the original index when the platforms asked for cover every entry', async () => {
    const store = createStore();
    const index = addIndex(store, [addImage(store, { layers: ['x'], platform: amd64 }), addImage(store, { layers: ['y'], platform: arm64 })]);
    const plan = await planCopy(createMemorySource(store), [{ root: index, names: [] }], { platforms: [amd64, arm64] });
    expect(plan.images[0]?.root.descriptor.digest).toBe(index.digest);
    expect(plan.images[0]?.root.filtered).toBe(false);
  });

  it('fails with PLATFORM_NOT_FOUND when a platform asked for is missing', async () => {
    const { store, index } = threePlatforms();
    const pending = planCopy(createMemorySource(store), [{ root: index, names: [] }], { platforms: [{ os: 'windows', architecture: 'amd64' }] });
    await expect(pending).rejects.toMatchObject({ code: 'PLATFORM_NOT_FOUND' });
  });

  it('copies a single image manifest as it is when it is of a platform asked for', async () => {
    const store = createStore();
    const image = addImage(store, { layers: ['x'], platform: amd64 });
    const plan = await planCopy(createMemorySource(store), [{ root: image, names: [] }], { platforms: [arm64, amd64] });
    expect(plan.images[0]?.root.descriptor.digest).toBe(image.digest);
  });

  it('refuses a single image of another platform than those asked for, rather than copy it', async () => {
    const store = createStore();
    const image = addImage(store, { layers: ['x'], platform: amd64 });
    await expect(planCopy(createMemorySource(store), [{ root: image, names: [] }], { platforms: [arm64] })).rejects.toMatchObject({ code: 'PLATFORM_NOT_FOUND' });
  });

  it('fetches each manifest once, however many roots name it', async () => {
    const { store, index, b } = threePlatforms();
    const source = createMemorySource(store);
    const plan = await planCopy(source, [
      { root: index, names: ['all'] },
      { root: b, names: ['arm'] },
    ]);
    expect(new Set(source.manifestCalls).size).toBe(source.manifestCalls.length);
    expect(plan.manifests.filter((m) => m.descriptor.digest === b.digest)).toHaveLength(1);
    expect(plan.images[1]?.blobs.map((d) => d.digest)).toEqual(plan.images[0]?.manifests.find((m) => m.descriptor.digest === b.digest)?.blobs.map((d) => d.digest));
  });

  it('lists children before their index and leaves foreign layers out', async () => {
    const store = createStore();
    const foreign = { mediaType: DOCKER_FOREIGN_LAYER_GZIP, digest: `sha256:${'f'.repeat(64)}`, size: 10, urls: ['https://example.com/l'] };
    const child = addImage(store, { layers: ['x'], platform: amd64, extraLayers: [foreign] });
    const inner = addIndex(store, [child]);
    const outer = addIndex(store, [inner]);
    const plan = await planCopy(createMemorySource(store), [{ root: outer, names: [] }]);
    expect(plan.manifests.map((m) => m.descriptor.digest)).toEqual([child.digest, inner.digest, outer.digest]);
    expect(plan.blobs.map((b) => b.digest)).not.toContain(foreign.digest);
  });

  it('reports a missing manifest as the source does (not found)', async () => {
    const store = createStore();
    const ghost = addBlob(store, 'not a manifest');
    const pending = planCopy(createMemorySource(store), [{ root: { ...ghost, mediaType: OCI_MANIFEST }, names: [] }]);
    await expect(pending).rejects.toMatchObject({ code: 'MANIFEST_UNKNOWN' });
  });
});
