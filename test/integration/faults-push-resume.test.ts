import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Descriptor } from '../../src/media/types.js';
import { startFaultProxy, type FaultProxy, type ProxiedRequest } from '../helpers/fault-proxy.js';
import { buildOciLayout, type OciLayoutResult } from '../helpers/oci-fixtures.js';
import { startRegistry, type RunningRegistry } from '../helpers/registry.js';
import { runCli, startBin, stopStartedBins, type BinExit } from '../helpers/run-cli.js';
import { skopeoDigest } from '../helpers/skopeo.js';
import { makeTempDir, removeTempDir } from '../helpers/tmp.js';

// A push interrupted in the middle of a layer, for real: the built executable
// runs as a child process pushing an OCI layout through a counting proxy, one
// blob at a time (config, first layer, second layer). Once the config and the
// first layer are in and the second layer's upload is under way, either the
// registry is restarted under it, or the user presses Ctrl-C. The same push
// again must not send a completed blob again, nor (when the registry kept the
// upload session) the part of the interrupted layer it confirmed.
//
// Bytes are counted per upload session (the path's UUID) from the proxy's
// records of PATCH request bodies; a session's blob is named by its PUT.

// Large enough that the second layer's upload takes a few hundred
// milliseconds on loopback: the interruption lands well inside it.
const LAYER_SIZE = 32 * 1024 * 1024;
// The interruption comes once this much of the second layer went through.
const UNDER_WAY = 1024 * 1024;
const WAIT_MS = 60_000;

let work: string;
let registry: RunningRegistry;
let proxy: FaultProxy;
let image: OciLayoutResult;
let config: Descriptor;
let first: Descriptor;
let second: Descriptor;


/** Poll `check` every few milliseconds until it holds; throws after WAIT_MS, or when the process ends first. */
async function waitUntil(what: string, check: () => boolean, exited: Promise<BinExit>): Promise<void> {
  let ended: BinExit | undefined;
  void exited.then((e) => {
    ended = e;
  });
  const deadline = Date.now() + WAIT_MS;
  while (!check()) {
    if (ended) throw new Error(`gantry exited (${ended.code ?? ended.signal}) before ${what}:\n${ended.stderr}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

interface Upload {
  uuid: string;
  /** Request body bytes of its PATCHes that reached the proxy. */
  patchBytes: number;
  /** The blob its PUT completed (201), if one did. */
  digest?: string;
  /** A PATCH of it still in flight. */
  inFlight: boolean;
}

/** The upload sessions in `records`, by UUID, in order of first appearance. */
function uploadsIn(records: readonly ProxiedRequest[]): Upload[] {
  const byId = new Map<string, Upload>();
  for (const r of records) {
    const match = /\/blobs\/uploads\/([^/?]+)/.exec(r.path);
    if (!match?.[1]) continue;
    const uuid = match[1];
    const upload = byId.get(uuid) ?? { uuid, patchBytes: 0, inFlight: false };
    byId.set(uuid, upload);
    if (r.method === 'PATCH') {
      upload.patchBytes += r.bytesIn;
      if (!r.done) upload.inFlight = true;
    }
    const digest = new URL(r.path, 'http://proxy').searchParams.get('digest');
    if (r.method === 'PUT' && r.status === 201 && digest) upload.digest = digest;
  }
  return [...byId.values()];
}

/** Config and first layer stored, and the second layer's upload past UNDER_WAY bytes. */
function secondLayerUnderWay(): boolean {
  const uploads = uploadsIn(proxy.requests);
  const stored = new Set(uploads.map((u) => u.digest));
  return stored.has(config.digest) && stored.has(first.digest) && uploads.some((u) => u.inFlight && u.patchBytes >= UNDER_WAY);
}

function envFor(name: string): NodeJS.ProcessEnv {
  return { HOME: work, DOCKER_CONFIG: join(work, 'docker'), GANTRY_CONFIG: join(work, 'gantry.json'), GANTRY_HOME: join(work, `home-${name}`) };
}

async function savedUploads(env: NodeJS.ProcessEnv): Promise<Array<{ digest: string; offset: number; location: string }>> {
  const dir = join(env.GANTRY_HOME ?? '', 'state', 'uploads');
  const names = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
  return Promise.all(names.filter((n) => n.endsWith('.json')).map(async (n) => JSON.parse(await readFile(join(dir, n), 'utf8'))));
}

interface PushResult {
  digest: string;
  blobs: Array<{ digest: string; action: string; bytesSent: number }>;
}

const push = (repository: string) => ['push', '--concurrency', '1', `oci:${image.dir}:v1`, `${proxy.host}/${repository}:v1`];

beforeAll(async () => {
  work = await makeTempDir('faults-push');
  registry = await startRegistry({ mode: 'plain' });
  proxy = await startFaultProxy({ upstream: registry.url });
  image = await buildOciLayout(join(work, 'layout'), { tag: 'v1', layers: 2, layerSize: LAYER_SIZE, seed: 'faults-push', mediaTypes: 'oci' });
  const [only] = image.images;
  const [l0, l1] = only?.layers ?? [];
  if (!only || !l0 || !l1) throw new Error('fixture needs two layers');
  config = only.config;
  first = l0.descriptor;
  second = l1.descriptor;
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

describe('a push interrupted mid-layer', () => {
  it('the registry restarts under it: the rerun completes without sending the stored blobs again', async () => {
    const env = envFor('restart');
    const run = startBin(['--insecure', ...push('restart/app')], env);
    await waitUntil('the second layer under way', secondLayerUnderWay, run.exited);
    // From here on the registry is away for gantry (every connection reset) until gantry gives up,
    // while the real one is stopped in the middle of the upload and started again.
    proxy.rule({ action: 'reset' });
    await registry.restart();
    const exit = await run.exited;
    expect(exit.code).toBe(6);
    expect(exit.stderr).toMatch(/hint: /);
    const before = uploadsIn(proxy.requests);
    const cut = before.find((u) => u.digest === undefined && u.patchBytes > 0);
    expect(cut?.patchBytes).toBeGreaterThanOrEqual(UNDER_WAY);
    expect(cut?.patchBytes).toBeLessThan(second.size);

    proxy.reset();
    const again = await runCli(['--insecure', ...push('restart/app'), '--json'], { env });
    expect(again.code).toBe(0);
    const result = JSON.parse(again.stdout) as PushResult;
    expect(result.digest).toBe(image.digest);
    // gantry asks the registry about the saved session first. distribution 2.8 discards a session
    // whose PATCH was cut mid-body (what it holds no longer matches the session's state), so the
    // interrupted layer is uploaded afresh, whole; nothing else is uploaded.
    const [asked, ...sent] = uploadsIn(proxy.requests);
    expect(asked).toEqual({ uuid: cut?.uuid, patchBytes: 0, inFlight: false });
    expect(sent).toEqual([expect.objectContaining({ digest: second.digest, patchBytes: second.size })]);
    expect(result.blobs).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ digest: config.digest, action: 'skipped', bytesSent: 0 }),
        expect.objectContaining({ digest: first.digest, action: 'skipped', bytesSent: 0 }),
        expect.objectContaining({ digest: second.digest, action: 'copied', bytesSent: second.size }),
      ]),
    );
    expect(await savedUploads(env)).toEqual([]);
    expect(await skopeoDigest(`docker://${registry.host}/restart/app:v1`, { tlsVerify: false })).toBe(image.digest);
  });

  it('Ctrl-C exits 130; after a registry restart the rerun continues the session, sending only the rest', async () => {
    const env = envFor('ctrl-c');
    const run = startBin(['--insecure', ...push('ctrlc/app')], env);
    await waitUntil('the second layer under way', secondLayerUnderWay, run.exited);
    run.child.kill('SIGINT');
    const exit = await run.exited;
    expect(exit.code).toBe(130);
    expect(exit.stderr).toMatch(/interrupted/);

    // gantry ended the PATCH early rather than cutting it, so the registry kept every byte it got and
    // confirmed them; the session was saved with that offset.
    await proxy.settled();
    const before = uploadsIn(proxy.requests);
    const cut = before.find((u) => u.digest === undefined && u.patchBytes > 0);
    const confirmed = cut?.patchBytes ?? 0;
    expect(confirmed).toBeGreaterThanOrEqual(UNDER_WAY);
    expect(confirmed).toBeLessThan(second.size);
    const saved = await savedUploads(env);
    expect(saved).toEqual([expect.objectContaining({ digest: second.digest, offset: confirmed })]);
    expect(saved[0]?.location).toContain(cut?.uuid);

    // The session lives in the registry's storage, so it outlives a restart too.
    await registry.restart();
    proxy.reset();
    const again = await runCli(['--insecure', ...push('ctrlc/app'), '--json'], { env });
    expect(again.code).toBe(0);
    const after = uploadsIn(proxy.requests);
    expect(after).toEqual([expect.objectContaining({ uuid: cut?.uuid, digest: second.digest, patchBytes: second.size - confirmed })]);
    const result = JSON.parse(again.stdout) as PushResult;
    expect(result.blobs).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ digest: config.digest, action: 'skipped', bytesSent: 0 }),
        expect.objectContaining({ digest: first.digest, action: 'skipped', bytesSent: 0 }),
        expect.objectContaining({ digest: second.digest, action: 'copied', bytesSent: second.size - confirmed }),
      ]),
    );
    expect(await savedUploads(env)).toEqual([]);
    expect(await skopeoDigest(`docker://${registry.host}/ctrlc/app:v1`, { tlsVerify: false })).toBe(image.digest);
  });
});
