import { createHash } from 'node:crypto';
import { join } from 'node:path';
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

  it('loads every image of an archive holding two (untagged, as gantry writes several)', async () => {
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
