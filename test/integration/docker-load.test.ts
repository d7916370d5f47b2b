import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDockerDaemon, type DockerDaemon } from '../helpers/docker-daemon.js';
import { buildOciLayout, type FixtureImage, type OciLayoutResult } from '../helpers/oci-fixtures.js';
import { startRegistry, type RunningRegistry } from '../helpers/registry.js';
import { runBin } from '../helpers/run-cli.js';
import { makeTempDir, removeTempDir } from '../helpers/tmp.js';

// Docker archives written by gantry, loaded by a real Docker daemon (Debian's
// docker.io, Docker 20.10), and archives docker itself saved, pushed by gantry.

interface DockerImageInspect {
  Id: string;
  RepoTags: string[];
  Architecture: string;
  Os: string;
  RootFS: { Type: string; Layers: string[] };
}

let daemon: DockerDaemon;
let registry: RunningRegistry;
let work: string;
let env: NodeJS.ProcessEnv;
let dockerTyped: OciLayoutResult;
let ociTyped: OciLayoutResult;
let multi: OciLayoutResult;
let twoFirst: OciLayoutResult;
let twoSecond: OciLayoutResult;

const gantry = async (...args: string[]) => {
  const r = await runBin(['--insecure', ...args], { env, timeoutMs: 20_000 });
  expect(r.code, `gantry ${args.join(' ')}\n${r.stderr}`).toBe(0);
  return r;
};

/** `docker …`, which must succeed; the failure message carries docker's stderr and the daemon's log tail. */
async function docker(...args: string[]): Promise<string> {
  const r = await daemon.docker(args);
  if (r.code !== 0) {
    throw new Error(`docker ${args.join(' ')} exited ${r.code}\nstderr: ${r.stderr}\ndockerd log tail:\n${await daemon.logTail(20)}`);
  }
  return r.stdout;
}

async function inspectImage(name: string): Promise<DockerImageInspect> {
  return JSON.parse(await docker('image', 'inspect', name, '--format', '{{json .}}')) as DockerImageInspect;
}

/** One file of a tar, read with tar(1) so the check does not rely on gantry's own reader. */
async function readArchiveFile(tar: string, name: string): Promise<string> {
  return (await promisify(execFile)('tar', ['-xOf', tar, name], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 })).stdout;
}

function only<T>(items: readonly T[]): T {
  expect(items).toHaveLength(1);
  return items[0] as T;
}

function expectSameImage(inspect: DockerImageInspect, image: FixtureImage): void {
  expect(inspect.Id).toBe(image.config.digest);
  expect(inspect.RootFS.Layers).toEqual(image.layers.map((l) => l.diffId));
  expect(inspect.Architecture).toBe(image.platform.architecture);
  expect(inspect.Os).toBe(image.platform.os);
}

beforeAll(async () => {
  work = await makeTempDir('docker-load');
  env = { HOME: work, DOCKER_CONFIG: join(work, 'docker'), GANTRY_CONFIG: join(work, 'gantry.json'), GANTRY_HOME: join(work, 'gantry-home') };
  const layers = { layers: 2, layerSize: 32 * 1024 };
  [daemon, registry, dockerTyped, ociTyped, multi, twoFirst] = await Promise.all([
    startDockerDaemon({ readyTimeoutMs: 30_000 }),
    startRegistry({ mode: 'plain' }),
    buildOciLayout(join(work, 'docker-typed'), { tag: 'v1', platform: 'linux/amd64', seed: 'docker-load-docker', mediaTypes: 'docker', ...layers }),
    buildOciLayout(join(work, 'oci-typed'), { tag: 'v1', platform: 'linux/arm64', seed: 'docker-load-oci', mediaTypes: 'oci', ...layers }),
    buildOciLayout(join(work, 'multi'), {
      tag: 'v1',
      platforms: ['linux/amd64', 'linux/arm64'],
      sharedLayers: 1,
      seed: 'docker-load-multi',
      mediaTypes: 'oci',
      ...layers,
    }),
    buildOciLayout(join(work, 'two'), { tag: 'one', seed: 'docker-load-one', mediaTypes: 'oci', ...layers }),
  ]);
  // A second tag in the same layout, written after the first so index.json keeps both.
  twoSecond = await buildOciLayout(join(work, 'two'), { tag: 'two', seed: 'docker-load-two', mediaTypes: 'oci', ...layers });
  await gantry('push', `oci:${multi.dir}:v1`, `${registry.host}/team/multi:v1`);
}, 45_000);

afterAll(async () => {
  await Promise.all([daemon?.stop(), registry?.stop()]);
  if (work) await removeTempDir(work);
}, 30_000);

describe('docker load reads the docker archives gantry writes', () => {
  it.each([
    { kind: 'docker-typed', name: 'example/app:v1', fixture: () => dockerTyped },
    { kind: 'OCI-typed', name: 'example/app:v1-oci', fixture: () => ociTyped },
  ])('loads a $kind image copied from an OCI layout, named $name', async ({ kind, name, fixture }) => {
    const layout = fixture();
    const file = join(work, `${kind}.tar`);
    await gantry('copy', `oci:${layout.dir}:v1`, `docker-archive:${file}:${name}`);

    const loaded = await docker('load', '-i', file);
    expect(loaded).toContain(`Loaded image: ${name}`);
    const inspect = await inspectImage(name);
    expect(inspect.RepoTags).toContain(name);
    expectSameImage(inspect, only(layout.images));
  }, 15_000);

  it('loads one platform pulled from a registry index, named after the source', async () => {
    const file = join(work, 'pulled.tar');
    const source = `${registry.host}/team/multi:v1`;
    await gantry('pull', '-o', `docker-archive:${file}`, '--platform', 'linux/arm64', source);

    const loaded = await docker('load', '-i', file);
    expect(loaded).toContain(`Loaded image: ${source}`);
    const inspect = await inspectImage(source);
    expect(inspect.RepoTags).toEqual([source]);
    expect(inspect.Architecture).toBe('arm64');
    const arm64 = multi.images.find((i) => i.platform.architecture === 'arm64');
    expect(arm64).toBeDefined();
    expectSameImage(inspect, arm64 as FixtureImage);
  }, 15_000);

  it('loads every image of an archive holding two from a layout with bare tags (untagged: a tag alone has no repository)', async () => {
    const file = join(work, 'two.tar');
    await gantry('copy', `oci:${twoFirst.dir}`, `docker-archive:${file}`);

    const loaded = await docker('load', '-i', file);
    const ids = [...loaded.matchAll(/^Loaded image ID: (sha256:[0-9a-f]{64})$/gm)].map((m) => m[1]);
    const first = only(twoFirst.images);
    const second = only(twoSecond.images);
    expect(ids.sort()).toEqual([first.config.digest, second.config.digest].sort());
    for (const image of [first, second]) {
      const inspect = await inspectImage(image.config.digest);
      expect(inspect.RepoTags).toEqual([]);
      expectSameImage(inspect, image);
    }
  }, 15_000);
});

describe('docker load restores every name of a multi-image archive gantry writes', () => {
  /** `docker images` as `repository:tag` → full image ID, untagged images left out. */
  async function dockerTags(): Promise<Map<string, string>> {
    const listed = await docker('images', '--no-trunc', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}');
    const pairs = listed
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.startsWith('<none>'))
      .map((line) => line.split(' ') as [string, string]);
    return new Map(pairs);
  }

  it('copy --all-tags REPO docker-archive:FILE, then docker load: docker images shows every tag on its image', async () => {
    const layers = { layers: 2, layerSize: 16 * 1024, mediaTypes: 'oci' as const };
    const dir = join(work, 'tags-source');
    const first = await buildOciLayout(dir, { tag: 'a', seed: 'docker-load-tags-a', ...layers });
    const second = await buildOciLayout(dir, { tag: 'b', seed: 'docker-load-tags-b', ...layers });
    const repo = `${registry.host}/team/tags`;
    await gantry('push', `oci:${dir}:a`, `${repo}:1.0`, '-t', '1', '-t', 'latest');
    await gantry('push', `oci:${dir}:b`, `${repo}:2.0`);
    const file = join(work, 'all-tags.tar');
    await gantry('copy', '--all-tags', repo, `docker-archive:${file}`);

    const loaded = await docker('load', '-i', file);
    for (const tag of ['1.0', '1', 'latest', '2.0']) expect(loaded).toContain(`Loaded image: ${repo}:${tag}`);
    const tags = await dockerTags();
    for (const tag of ['1.0', '1', 'latest']) expect(tags.get(`${repo}:${tag}`)).toBe(only(first.images).config.digest);
    expect(tags.get(`${repo}:2.0`)).toBe(only(second.images).config.digest);
    expectSameImage(await inspectImage(`${repo}:2.0`), only(second.images));
    expect((await inspectImage(`${repo}:1.0`)).RepoTags.sort()).toEqual([`${repo}:1`, `${repo}:1.0`, `${repo}:latest`]);
  }, 30_000);

  it('a layout entry named by a whole reference (containerd’s ref.name) keeps it; a bare tag stays untagged', async () => {
    const dir = join(work, 'containerd-names');
    const layers = { layers: 1, layerSize: 16 * 1024, mediaTypes: 'oci' as const };
    const named = await buildOciLayout(dir, { tag: 'whole', seed: 'docker-load-whole', ...layers });
    const bare = await buildOciLayout(dir, { tag: 'v1', seed: 'docker-load-bare', ...layers });
    // containerd's export writes the full image name as ref.name; the fixture builder only writes tags.
    const indexFile = join(dir, 'index.json');
    const index = JSON.parse(await readFile(indexFile, 'utf8')) as { manifests: Array<{ annotations?: Record<string, string> }> };
    for (const entry of index.manifests) {
      if (entry.annotations?.['org.opencontainers.image.ref.name'] === 'whole') entry.annotations['org.opencontainers.image.ref.name'] = 'example.com/team/whole:1.0';
    }
    await writeFile(indexFile, JSON.stringify(index));
    const file = join(work, 'containerd-names.tar');
    await gantry('copy', `oci:${dir}`, `docker-archive:${file}`);

    const loaded = await docker('load', '-i', file);
    expect(loaded).toContain('Loaded image: example.com/team/whole:1.0');
    // docker 20.10 prints "Loaded image ID" lines only when the last image is untagged, as gantry orders them.
    expect(loaded).toContain(`Loaded image ID: ${only(bare.images).config.digest}`);
    const whole = await inspectImage('example.com/team/whole:1.0');
    expect(whole.RepoTags).toEqual(['example.com/team/whole:1.0']);
    expectSameImage(whole, only(named.images));
    expect((await inspectImage(only(bare.images).config.digest)).RepoTags).toEqual([]);
  }, 30_000);

  it('an archive copied from a multi-image archive, whole or by @N, keeps the names docker load restores', async () => {
    const dir = join(work, 'relay-source');
    const layers = { layers: 1, layerSize: 16 * 1024, mediaTypes: 'oci' as const };
    const first = await buildOciLayout(dir, { tag: 'x', seed: 'docker-load-relay-x', ...layers });
    const second = await buildOciLayout(dir, { tag: 'y', seed: 'docker-load-relay-y', ...layers });
    const repo = `${registry.host}/team/relay`;
    await gantry('push', `oci:${dir}:x`, `${repo}:x`);
    await gantry('push', `oci:${dir}:y`, `${repo}:y`);
    const original = join(work, 'relay-original.tar');
    await gantry('copy', '--all-tags', repo, `docker-archive:${original}`);
    const manifest = JSON.parse(await readArchiveFile(original, 'manifest.json')) as Array<{ RepoTags: string[] }>;
    const secondAt = manifest.findIndex((e) => e.RepoTags.includes(`${repo}:y`));
    expect(secondAt).toBeGreaterThanOrEqual(0);

    const relayed = join(work, 'relay-copy.tar');
    await gantry('copy', `docker-archive:${original}`, `docker-archive:${relayed}`);
    const chosen = join(work, 'relay-chosen.tar');
    await gantry('copy', `docker-archive:${original}:@${secondAt}`, `docker-archive:${chosen}`);

    const loadedAll = await docker('load', '-i', relayed);
    expect(loadedAll).toContain(`Loaded image: ${repo}:x`);
    expect(loadedAll).toContain(`Loaded image: ${repo}:y`);
    expectSameImage(await inspectImage(`${repo}:x`), only(first.images));
    await docker('rmi', `${repo}:y`);
    expect(await docker('load', '-i', chosen)).toContain(`Loaded image: ${repo}:y`);
    expectSameImage(await inspectImage(`${repo}:y`), only(second.images));
  }, 30_000);
});

describe('gantry pushes what docker save wrote', () => {
  it('pushes a docker save archive; the registry holds docker’s config (its digest is the image Id) and layers', async () => {
    // Loaded here rather than relying on the test above, so this one stands alone.
    const name = 'example/app:v1';
    const archive = join(work, 'for-save.tar');
    await gantry('copy', `oci:${dockerTyped.dir}:v1`, `docker-archive:${archive}:${name}`);
    await docker('load', '-i', archive);
    const { Id: id } = await inspectImage(name);

    const saved = join(work, 'saved.tar');
    await docker('save', name, '-o', saved);
    const ref = `${registry.host}/x:v1`;
    await gantry('push', `docker-archive:${saved}`, ref);

    const manifest = JSON.parse((await gantry('manifest', 'get', '--raw', ref)).stdout) as {
      config: { digest: string };
      layers: { digest: string }[];
    };
    expect(manifest.config.digest).toBe(id);
    const config = await fetch(`${registry.url}/v2/x/blobs/${manifest.config.digest}`);
    expect(config.status).toBe(200);
    expect(`sha256:${createHash('sha256').update(Buffer.from(await config.arrayBuffer())).digest('hex')}`).toBe(id);
    // docker save reproduces the loaded layer tars byte for byte (tar-split), and gantry pushes them uncompressed.
    expect(manifest.layers.map((l) => l.digest)).toEqual(only(dockerTyped.images).layers.map((l) => l.diffId));
  }, 20_000);
});
