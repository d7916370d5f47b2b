import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Descriptor } from '../../../../src/media/types.js';
import { createOciLayoutSource, createOciLayoutTarget } from '../../../../src/transports/oci-layout/index.js';
import { applyCommit } from '../../../../src/transports/oci-layout/layout-index.js';
import { isValidRefName } from '../../../../src/transports/oci-layout/ref-name.js';
import { makeTempDir, removeTempDir } from '../../../helpers/tmp.js';

const REF = 'org.opencontainers.image.ref.name';
let dir: string;
beforeEach(async () => {
  dir = await makeTempDir('layout-commit');
});
afterEach(async () => {
  await removeTempDir(dir);
});

/** Store a distinct empty index as a manifest blob and return its descriptor. */
async function storedRoot(seed: string, target = createOciLayoutTarget(dir)): Promise<Descriptor> {
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [], annotations: { seed } }));
  const desc: Descriptor = { mediaType: 'application/vnd.oci.image.index.v1+json', digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, size: bytes.length };
  await target.writeManifest(desc, bytes);
  return desc;
}

async function index(): Promise<Descriptor[]> {
  return (JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { manifests: Descriptor[] }).manifests;
}

describe('OCI layout target: commit', () => {
  it('names the root, replacing an entry of the same name and keeping the others', async () => {
    const target = createOciLayoutTarget(dir);
    const a = await storedRoot('a');
    const b = await storedRoot('b');
    await target.commit(a, ['v1', 'latest']);
    await target.commit(b, ['v2']);
    await target.commit(b, ['latest']);
    const entries = await index();
    expect(entries.map((e) => [e.annotations?.[REF], e.digest])).toEqual([
      ['v1', a.digest],
      ['v2', b.digest],
      ['latest', b.digest],
    ]);
    expect(entries[0]).toEqual({ mediaType: a.mediaType, digest: a.digest, size: a.size, annotations: { [REF]: 'v1' } });
  });

  it("a target created with a tag writes exactly that name, whatever the engine's names", async () => {
    const target = createOciLayoutTarget(dir, { tag: 'pinned' });
    const a = await storedRoot('a', target);
    await target.commit(a, ['1.0', 'latest']);
    expect((await index()).map((e) => e.annotations?.[REF])).toEqual(['pinned']);
    expect(target.description).toMatch(/^oci:.*:pinned$/);
  });

  it('with no names, adds the root once without a name (as skopeo does for oci:DIR)', async () => {
    const target = createOciLayoutTarget(dir);
    const a = await storedRoot('a');
    await target.commit(a, []);
    await target.commit(a, []);
    expect(await index()).toEqual([{ mediaType: a.mediaType, digest: a.digest, size: a.size }]);
    expect((await createOciLayoutSource(dir).images())[0]?.names).toEqual([]);
  });

  it('refuses to name content that was never written', async () => {
    const target = createOciLayoutTarget(dir);
    await storedRoot('a');
    await expect(target.commit({ mediaType: 'application/vnd.oci.image.index.v1+json', digest: `sha256:${'b'.repeat(64)}`, size: 2 }, ['x'])).rejects.toThrow(
      /before it was written/,
    );
  });

  it('refuses names the image-spec grammar does not allow', async () => {
    expect(() => createOciLayoutTarget(dir, { tag: 'bad tag' })).toThrow(expect.objectContaining({ code: 'USAGE' }));
    const target = createOciLayoutTarget(dir);
    const a = await storedRoot('a');
    await expect(target.commit(a, ['-x'])).rejects.toMatchObject({ code: 'USAGE' });
  });

  it('concurrent commits of different names all survive', async () => {
    const roots = await Promise.all(Array.from({ length: 8 }, (_, i) => storedRoot(`r${i}`)));
    await Promise.all(roots.map((root, i) => createOciLayoutTarget(dir).commit(root, [`t${i}`])));
    expect((await index()).map((e) => e.annotations?.[REF]).sort()).toEqual(roots.map((_, i) => `t${i}`).sort());
  });
});

describe('applyCommit', () => {
  const root = (n: number, extra: Partial<Descriptor> = {}): Descriptor => ({ mediaType: 'a/b', digest: `sha256:${String(n).repeat(64).slice(0, 64)}`, size: n, ...extra });

  it('keeps the root descriptor fields and annotations, replacing only the name', () => {
    const entries = applyCommit([], root(1, { platform: { os: 'linux', architecture: 'amd64' }, annotations: { [REF]: 'old', keep: 'me' } }), ['new']);
    expect(entries).toEqual([{ ...root(1), platform: { os: 'linux', architecture: 'amd64' }, annotations: { keep: 'me', [REF]: 'new' } }]);
  });

  it('does not duplicate a name given twice', () => {
    expect(applyCommit([], root(1), ['a', 'a'])).toHaveLength(1);
  });
});

describe('isValidRefName', () => {
  it.each(['v1', 'latest', '1.2.3', 'docker.io/library/alpine:3.20', 'localhost:5000/a/b@sha256:abc', 'a--b', 'A+b'])('accepts %s', (name) => {
    expect(isValidRefName(name)).toBe(true);
  });
  it.each(['', 'a b', '-a', 'a-', 'a//b', '/a', 'a/', 'a..b', 'a---b', 'a:'])('refuses %s', (name) => {
    expect(isValidRefName(name)).toBe(false);
  });
});
