import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Descriptor } from '../../src/media/types.js';
import { startFaultProxy, type FaultProxy, type RequestFilter } from '../helpers/fault-proxy.js';
import { buildOciLayout, type OciLayoutResult } from '../helpers/oci-fixtures.js';
import { startRegistry, type RunningRegistry } from '../helpers/registry.js';
import { runCli, startBin, stopStartedBins, type BinExit } from '../helpers/run-cli.js';
import { skopeoDigest } from '../helpers/skopeo.js';
import { makeTempDir, removeTempDir } from '../helpers/tmp.js';

// A pull interrupted in the middle of a layer, for real: the built
// executable runs as a child process while the proxy holds the layer's GET
// after STALL_AT bytes; the test waits until exactly those bytes are staged,
// then kills the process (SIGKILL) or presses Ctrl-C (SIGINT, exit 130). The
// same pull again asks only for the rest (`Range: bytes=STALL_AT-`), leaves
// the layers that were complete alone, and the result verifies.

const LAYER_SIZE = 3 * 1024 * 1024;
const STALL_AT = 1024 * 1024 + 4321;
const WAIT_MS = 30_000;

let work: string;
let registry: RunningRegistry;
let proxy: FaultProxy;
let image: OciLayoutResult;
let layers: Descriptor[];

const hexOf = (digest: string) => digest.slice('sha256:'.length);
const partialOf = (dir: string, desc: Descriptor) => join(dir, 'blobs', 'sha256', '.partial', hexOf(desc.digest));
const blobGet = (desc: Descriptor): RequestFilter => ({ method: 'GET', path: new RegExp(`/blobs/${desc.digest}$`) });


/** Poll `check` until it holds; throws after `WAIT_MS`, or as soon as `exited` settles first (the process ended early). */
async function waitUntil(what: string, check: () => Promise<boolean>, exited: Promise<BinExit>): Promise<void> {
  let ended: BinExit | undefined;
  void exited.then((e) => {
    ended = e;
  });
  const deadline = Date.now() + WAIT_MS;
  while (!(await check())) {
    if (ended) throw new Error(`gantry exited (${ended.code ?? ended.signal}) before ${what}:\n${ended.stderr}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function sizeOf(path: string): Promise<number | undefined> {
  return stat(path).then(
    (s) => s.size,
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    },
  );
}

async function sha256Of(path: string): Promise<string> {
  return `sha256:${createHash('sha256')
    .update(await readFile(path))
    .digest('hex')}`;
}

function envFor(name: string): NodeJS.ProcessEnv {
  return { HOME: work, DOCKER_CONFIG: join(work, 'docker'), GANTRY_CONFIG: join(work, 'gantry.json'), GANTRY_HOME: join(work, `home-${name}`) };
}

beforeAll(async () => {
  work = await makeTempDir('faults-pull');
  registry = await startRegistry({ mode: 'plain' });
  proxy = await startFaultProxy({ upstream: registry.url });
  image = await buildOciLayout(join(work, 'layout'), { tag: 'v1', layers: 2, layerSize: LAYER_SIZE, seed: 'faults-pull', mediaTypes: 'oci' });
  layers = image.images.flatMap((i) => i.layers.map((l) => l.descriptor));
  const pushed = await runCli(['--insecure', 'push', `oci:${image.dir}:v1`, `${registry.host}/team/app:v1`], { env: envFor('seed') });
  expect(pushed.code).toBe(0);
}, 120_000);

afterAll(async () => {
  stopStartedBins();
  await proxy?.close();
  await registry?.stop();
  await removeTempDir(work);
});

beforeEach(() => {
  proxy.reset();
});

/**
 * Run `pull` into the layout at `dir` with the second layer's GET held after
 * STALL_AT bytes, wait until the first layer is published and exactly those
 * bytes of the second are staged, deliver `signal`, and return how the
 * process ended.
 */
async function interruptedPull(args: string[], env: NodeJS.ProcessEnv, dir: string, signal: NodeJS.Signals): Promise<BinExit> {
  const [done, held] = layers;
  if (!done || !held) throw new Error('fixture needs two layers');
  proxy.rule({ match: blobGet(held), action: 'stall', afterBytes: STALL_AT, ms: 5 * 60_000, times: 1 });
  const run = startBin(['--insecure', ...args], env);
  const ready = async () =>
    (await sizeOf(join(dir, 'blobs', 'sha256', hexOf(done.digest)))) === done.size && (await sizeOf(partialOf(dir, held))) === STALL_AT;
  await waitUntil(`the first layer published and ${STALL_AT} bytes of the second staged`, ready, run.exited);
  run.child.kill(signal);
  const exit = await run.exited;
  // The held exchange ends with the client; later records are the rerun's alone.
  await proxy.settled();
  proxy.reset();
  return exit;
}

describe('a pull interrupted mid-layer resumes with Range', () => {
  it('killed (SIGKILL) while pulling into an OCI layout: the rerun asks for the rest only and the layout verifies', async () => {
    const [done, held] = layers;
    if (!done || !held) throw new Error('fixture needs two layers');
    const env = envFor('kill');
    const dir = join(work, 'killed');
    const partial = partialOf(dir, held);
    const exit = await interruptedPull(['pull', '-o', `oci:${dir}:v1`, `${proxy.host}/team/app:v1`], env, dir, 'SIGKILL');
    expect(exit.signal).toBe('SIGKILL');
    // Nothing complete-looking and no tag: the staged bytes wait under .partial.
    expect(await sizeOf(join(dir, 'blobs', 'sha256', hexOf(held.digest)))).toBeUndefined();
    expect(await sizeOf(partial)).toBe(STALL_AT);
    expect(JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')).manifests).toEqual([]);

    const again = await runCli(['--insecure', 'pull', '--json', '-o', `oci:${dir}:v1`, `${proxy.host}/team/app:v1`], { env });
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    const gets = proxy.requests.filter((r) => r.method === 'GET' && r.path.endsWith(`/blobs/${held.digest}`));
    expect(gets.map((r) => r.range)).toEqual([`bytes=${STALL_AT}-`]);
    expect(gets[0]?.status).toBe(206);
    expect(gets[0]?.bytesOut).toBe(held.size - STALL_AT);
    // The layer that was complete is not fetched again.
    expect(proxy.count(blobGet(done))).toBe(0);
    const result = JSON.parse(again.stdout) as { blobs: Array<{ digest: string; action: string; bytesSent: number }> };
    expect(result.blobs.find((b) => b.digest === held.digest)).toMatchObject({ action: 'copied', bytesSent: held.size - STALL_AT });
    expect(result.blobs.find((b) => b.digest === done.digest)).toMatchObject({ action: 'skipped', bytesSent: 0 });

    expect(await sha256Of(join(dir, 'blobs', 'sha256', hexOf(held.digest)))).toBe(held.digest);
    expect(await skopeoDigest(`oci:${dir}:v1`)).toBe(image.digest);
    expect(await sizeOf(partial)).toBeUndefined();
  });

  it('Ctrl-C (SIGINT) while pulling into the local store: exit 130, then the rerun resumes and the image is listed', async () => {
    const [done, held] = layers;
    if (!done || !held) throw new Error('fixture needs two layers');
    const env = envFor('sigint');
    const store = join(work, 'home-sigint', 'store');
    const partial = partialOf(store, held);
    const exit = await interruptedPull(['pull', `${proxy.host}/team/app:v1`], env, store, 'SIGINT');
    expect(exit.code).toBe(130);
    expect(exit.stderr).toMatch(/interrupted/);
    expect(await sizeOf(partial)).toBe(STALL_AT);
    expect(await sizeOf(join(store, 'blobs', 'sha256', hexOf(held.digest)))).toBeUndefined();
    expect(JSON.parse((await runCli(['images', '--json'], { env })).stdout)).toEqual([]);

    const again = await runCli(['--insecure', 'pull', `${proxy.host}/team/app:v1`], { env });
    expect(again.code).toBe(0);
    const gets = proxy.requests.filter((r) => r.method === 'GET' && r.path.endsWith(`/blobs/${held.digest}`));
    expect(gets.map((r) => r.range)).toEqual([`bytes=${STALL_AT}-`]);
    expect(proxy.count(blobGet(done))).toBe(0);
    expect(await sha256Of(join(store, 'blobs', 'sha256', hexOf(held.digest)))).toBe(held.digest);
    const images = JSON.parse((await runCli(['images', '--json'], { env })).stdout) as Array<{ digest: string }>;
    expect(images).toEqual([expect.objectContaining({ name: `${proxy.host}/team/app`, tag: 'v1', digest: image.digest })]);
  });
});
