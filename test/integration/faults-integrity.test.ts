import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Descriptor } from '../../src/media/types.js';
import { DEFAULT_ATTEMPTS } from '../../src/transfer/retry.js';
import { startFaultProxy, type FaultProxy, type RequestFilter } from '../helpers/fault-proxy.js';
import { buildOciLayout, type OciLayoutResult } from '../helpers/oci-fixtures.js';
import { startRegistry, type RunningRegistry } from '../helpers/registry.js';
import { runCli } from '../helpers/run-cli.js';
import { skopeoDigest, skopeoInspect } from '../helpers/skopeo.js';
import { makeTempDir, removeTempDir } from '../helpers/tmp.js';

// Damaged bytes on the way. A loopback proxy in front of the source registry
// flips a byte of a layer, serves a blob cut short, or drops the connection
// half way through a layer, on every attempt. gantry retries within its
// bounds, then fails (exit 5 for bytes that are not the content, 6 for a
// connection that keeps dropping) and leaves nothing that looks complete:
// no blob at its digest path, no tag.

let work: string;
let source: RunningRegistry;
let target: RunningRegistry;
let proxy: FaultProxy;
let image: OciLayoutResult;
let env: NodeJS.ProcessEnv;
let layer: Descriptor;
let config: Descriptor;
let configText: string;

const LAYER_SIZE = 512 * 1024;
const gantry = (...args: string[]) => runCli(['--insecure', ...args], { env });
const plain = { tlsVerify: false };
const hexOf = (digest: string) => digest.slice('sha256:'.length);
const blobGet = (desc: Descriptor): RequestFilter => ({ method: 'GET', path: new RegExp(`/blobs/${desc.digest}$`) });

beforeAll(async () => {
  work = await makeTempDir('faults-integrity');
  [source, target] = await Promise.all([startRegistry({ mode: 'plain' }), startRegistry({ mode: 'plain' })]);
  proxy = await startFaultProxy({ upstream: source.url });
  env = { HOME: work, DOCKER_CONFIG: join(work, 'docker'), GANTRY_CONFIG: join(work, 'gantry.json'), GANTRY_HOME: join(work, 'home') };
  image = await buildOciLayout(join(work, 'layout'), { tag: 'v1', layers: 2, layerSize: LAYER_SIZE, seed: 'faults-integrity', mediaTypes: 'oci' });
  const [only] = image.images;
  const last = only?.layers.at(-1);
  if (!only || !last) throw new Error('fixture without layers');
  layer = last.descriptor;
  config = only.config;
  configText = await readFile(join(image.dir, 'blobs', 'sha256', hexOf(config.digest)), 'utf8');
  const pushed = await gantry('push', `oci:${image.dir}:v1`, `${source.host}/team/app:v1`);
  expect(pushed.code).toBe(0);
}, 120_000);

afterAll(async () => {
  await proxy?.close();
  await Promise.all([source?.stop(), target?.stop()]);
  await removeTempDir(work);
});

beforeEach(async () => {
  proxy.reset();
  // Each test sends blobs through the faults: none may turn into a mount from a repository
  // an earlier test filled (gantry remembers where it saw blobs, see blob-locations).
  await rm(join(env.GANTRY_HOME as string, 'state', 'blob-locations.json'), { force: true });
});

/** Every file under `dir`, relative, with its size; [] when `dir` does not exist. */
async function filesUnder(dir: string): Promise<Array<{ path: string; size: number }>> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
  const files = entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
  return Promise.all(files.map(async (path) => ({ path: path.slice(dir.length + 1), size: (await stat(path)).size })));
}

/** The ref names index.json gives images; [] when there is no index.json. */
async function refNames(dir: string): Promise<string[]> {
  const text = await readFile(join(dir, 'index.json'), 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return '{"manifests":[]}';
    throw err;
  });
  const index = JSON.parse(text) as { manifests: Array<{ annotations?: Record<string, string> }> };
  return index.manifests.map((m) => m.annotations?.['org.opencontainers.image.ref.name']).filter((n): n is string => n !== undefined);
}

/** Nothing in the layout at `dir` looks like the complete `desc`: not at its digest path, not staged with its size. */
async function expectNoCompleteBlob(dir: string, desc: Descriptor): Promise<void> {
  const files = await filesUnder(join(dir, 'blobs'));
  expect(files.map((f) => f.path)).not.toContain(join('sha256', hexOf(desc.digest)));
  expect(files.filter((f) => f.path.includes(hexOf(desc.digest)) && f.size >= desc.size)).toEqual([]);
}

describe('pull into an OCI layout', () => {
  it('a flipped byte on every attempt: exit 5 after the bounded retries, no blob at its digest path, no tag', async () => {
    proxy.rule({ match: blobGet(layer), action: 'corrupt', atByte: LAYER_SIZE / 2 });
    const dir = join(work, 'corrupt-pull');
    const r = await gantry('pull', '-o', `oci:${dir}:v1`, `${proxy.host}/team/app:v1`);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/error: digest mismatch/);
    expect(r.stderr).toMatch(/hint: /);
    expect(proxy.count(blobGet(layer))).toBe(DEFAULT_ATTEMPTS);
    await expectNoCompleteBlob(dir, layer);
    // A digest mismatch throws the staged bytes away: a retry or rerun starts clean.
    expect((await filesUnder(join(dir, 'blobs'))).filter((f) => f.path.includes(hexOf(layer.digest)))).toEqual([]);
    expect(await refNames(dir)).toEqual([]);
    await expect(skopeoInspect(`oci:${dir}:v1`)).rejects.toThrow();
  });

  it('a blob served whole but cut short (fewer bytes than its descriptor): exit 5, no blob, no tag', async () => {
    // A complete response whose body is the first half of the config: the size check catches it.
    proxy.rule({ match: blobGet(config), action: 'status', status: 200, body: configText.slice(0, Math.floor(configText.length / 2)) });
    const dir = join(work, 'short-pull');
    const r = await gantry('pull', '-o', `oci:${dir}:v1`, `${proxy.host}/team/app:v1`);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/error: size mismatch/);
    expect(proxy.count(blobGet(config))).toBe(DEFAULT_ATTEMPTS);
    await expectNoCompleteBlob(dir, config);
    expect(await refNames(dir)).toEqual([]);
  });

  it('a connection dropped half way through the layer on every attempt: exit 6 with a hint, no blob, no tag; the rerun completes', async () => {
    proxy.rule({ match: blobGet(layer), action: 'truncate', afterBytes: LAYER_SIZE / 8 });
    const dir = join(work, 'dropped-pull');
    const r = await gantry('pull', '-o', `oci:${dir}:v1`, `${proxy.host}/team/app:v1`);
    // A dropped connection is not damaged content: NETWORK (retried, then exit 6), not an internal error.
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/error: GET .*other side closed/);
    expect(r.stderr).toMatch(/hint: /);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(proxy.count(blobGet(layer))).toBe(DEFAULT_ATTEMPTS);
    await expectNoCompleteBlob(dir, layer);
    expect(await refNames(dir)).toEqual([]);

    proxy.reset();
    const again = await gantry('pull', '-o', `oci:${dir}:v1`, `${proxy.host}/team/app:v1`);
    expect(again.code).toBe(0);
    expect(await skopeoDigest(`oci:${dir}:v1`)).toBe(image.digest);
  });
});

describe("pull into gantry's local store", () => {
  it('a flipped byte: exit 5, the store lists no image and holds no copy of the blob', async () => {
    proxy.rule({ match: blobGet(layer), action: 'corrupt', atByte: 0 });
    const r = await gantry('pull', `${proxy.host}/team/app:v1`);
    expect(r.code).toBe(5);
    const images = await gantry('images', '--json');
    expect(JSON.parse(images.stdout)).toEqual([]);
    await expectNoCompleteBlob(join(work, 'home', 'store'), layer);
  });
});

describe('copy between registries through the proxy', () => {
  const uploadStates = () => filesUnder(join(work, 'home', 'state', 'uploads'));

  it('a flipped byte on every attempt: exit 5, the destination has neither the blob nor the tag, no upload left to resume', async () => {
    proxy.rule({ match: blobGet(layer), action: 'corrupt', atByte: 7 });
    const r = await gantry('copy', `${proxy.host}/team/app:v1`, `${target.host}/corrupt/app:v1`);
    expect(r.code).toBe(5);
    expect(proxy.count(blobGet(layer))).toBe(DEFAULT_ATTEMPTS);
    await expect(skopeoInspect(`docker://${target.host}/corrupt/app:v1`, plain)).rejects.toThrow(/manifest unknown|not found/i);
    const head = await fetch(`${target.url}/v2/corrupt/app/blobs/${layer.digest}`, { method: 'HEAD' });
    expect(head.status).toBe(404);
    expect(await uploadStates()).toEqual([]);
  });

  it('a blob cut short: exit 5, no tag at the destination', async () => {
    proxy.rule({ match: blobGet(config), action: 'status', status: 200, body: configText.slice(0, 10) });
    const r = await gantry('copy', `${proxy.host}/team/app:v1`, `${target.host}/short/app:v1`);
    expect(r.code).toBe(5);
    await expect(skopeoInspect(`docker://${target.host}/short/app:v1`, plain)).rejects.toThrow(/manifest unknown|not found/i);
    const head = await fetch(`${target.url}/v2/short/app/manifests/v1`, { method: 'HEAD' });
    expect(head.status).toBe(404);
    expect(await uploadStates()).toEqual([]);
  });

  it('without faults the same copy succeeds and skopeo agrees on the digest', async () => {
    const r = await gantry('copy', `${proxy.host}/team/app:v1`, `${target.host}/corrupt/app:v1`);
    expect(r.code).toBe(0);
    expect(await skopeoDigest(`docker://${target.host}/corrupt/app:v1`, plain)).toBe(image.digest);
  });
});
