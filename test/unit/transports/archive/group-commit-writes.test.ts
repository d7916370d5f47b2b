import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDockerArchiveTarget, createOciArchiveSource, createOciArchiveTarget } from '../../../../src/transports/archive/index.js';
import { openArchive } from '../../../../src/transports/archive/open-archive.js';
import { createOciLayoutSource } from '../../../../src/transports/oci-layout/index.js';
import type { ImageTarget } from '../../../../src/transports/types.js';
import { buildOciLayout } from '../../../helpers/oci-fixtures.js';
import { makeTempDir, removeTempDir } from '../../../helpers/tmp.js';
import { copyManifest } from '../helpers/copy-all.js';

// The first archive write waits on `held` (when set), so the commits that follow queue up behind it;
// `added` counts commits that reached the group commit, `writes` the archive writes.
const state = vi.hoisted(() => ({ held: undefined as Promise<void> | undefined, added: 0, writes: 0 }));

vi.mock('../../../../src/transports/archive/write-archive.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../../../src/transports/archive/write-archive.js')>();
  return {
    ...actual,
    writeArchive: async (...args: Parameters<typeof actual.writeArchive>) => {
      state.writes++;
      const held = state.held;
      state.held = undefined;
      if (held) await held;
      return actual.writeArchive(...args);
    },
  };
});

vi.mock('../../../../src/internal/group-commit.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../../../src/internal/group-commit.js')>();
  return {
    createGroupCommit: <T>(write: (changes: T[], signal: AbortSignal | undefined) => Promise<void>) => {
      const group = actual.createGroupCommit<T>(write);
      return {
        add(change: T, signal?: AbortSignal) {
          state.added++;
          return group.add(change, signal);
        },
      };
    },
  };
});

let work: string;
let layoutDir: string;
const IMAGES = 6;

beforeAll(async () => {
  work = await makeTempDir('archive-group-commit');
  layoutDir = join(work, 'six');
  for (let i = 0; i < IMAGES; i++) await buildOciLayout(layoutDir, { tag: `t${i}`, layers: 1, layerSize: 400 + i, seed: `agc-${i}`, mediaTypes: 'oci' });
});
afterAll(async () => {
  await removeTempDir(work);
});

/** Commit every image at once, holding the first archive write until all commits have queued; the number of writes. */
async function commitAll(target: ImageTarget, name: (tag: string) => string): Promise<number> {
  const source = createOciLayoutSource(layoutDir);
  const images = await source.images();
  for (const image of images) await copyManifest(source, target, image.root);
  let release = (): void => undefined;
  state.held = new Promise<void>((resolve) => (release = resolve));
  state.added = 0;
  state.writes = 0;
  const commits = images.map((image) => target.commit(image.root, [name(image.names[0]!)]));
  // Each commit reads its staged files before it queues; bounded wait for all of them.
  for (let i = 0; i < 100_000 && state.added < images.length; i++) await new Promise((resolve) => setImmediate(resolve));
  expect(state.added).toBe(images.length);
  release();
  await Promise.all(commits);
  await target.close();
  return state.writes;
}

describe('archive targets write commits that arrive together in one go', () => {
  it('docker-archive: six images, two archive writes, every image with its name', async () => {
    const file = join(work, 'six-docker.tar');
    const writes = await commitAll(createDockerArchiveTarget(file), (tag) => `example.com/app:${tag}`);
    expect(writes).toBe(2);
    const archive = await openArchive({ file });
    const entry = archive.files.get('manifest.json');
    const chunks: Buffer[] = [];
    if (entry) for await (const chunk of archive.read(entry)) chunks.push(chunk as Buffer);
    await archive.close();
    const listed = JSON.parse(Buffer.concat(chunks).toString()) as Array<{ RepoTags: string[] }>;
    expect(listed.flatMap((e) => e.RepoTags).sort()).toEqual([...Array(IMAGES).keys()].map((i) => `example.com/app:t${i}`));
  });

  it('oci-archive: six images, two archive writes, every image with its name', async () => {
    const file = join(work, 'six-oci.tar');
    const writes = await commitAll(createOciArchiveTarget(file), (tag) => tag);
    expect(writes).toBe(2);
    const back = createOciArchiveSource(file);
    const names = (await back.images()).flatMap((image) => image.names).sort();
    await back.close();
    expect(names).toEqual([...Array(IMAGES).keys()].map((i) => `t${i}`));
  });
});
