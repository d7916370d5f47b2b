import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_RETRY } from '../../src/http/retry-policy.js';
import type { Descriptor } from '../../src/media/types.js';
import { DEFAULT_ATTEMPTS } from '../../src/transfer/retry.js';
import { startFaultProxy, type FaultProxy, type FaultRuleHandle, type RequestFilter } from '../helpers/fault-proxy.js';
import { WHOLE_UPLOAD_MAX_BYTES } from '../../src/transports/registry/registry-target.js';
import { buildOciLayout, type OciLayoutResult } from '../helpers/oci-fixtures.js';
import { startRegistry, type RunningRegistry } from '../helpers/registry.js';
import { runCli } from '../helpers/run-cli.js';
import { skopeoDigest } from '../helpers/skopeo.js';
import { makeTempDir, removeTempDir } from '../helpers/tmp.js';

// Overloaded and rate-limiting registries: the proxy answers bursts of 503
// and of 429 (Retry-After: 1) to manifest and blob requests, pulls and
// pushes. A burst shorter than the retry budget is ridden out and the
// command succeeds; a longer one ends in a bounded number of requests, exit
// 1 and a hint that says what happened.

let work: string;
let registry: RunningRegistry;
let proxy: FaultProxy;
let image: OciLayoutResult;
let blobs: Descriptor[];
let env: NodeJS.ProcessEnv;

const BURST = 2;
const gantry = (...args: string[]) => runCli(['--insecure', ...args], { env });
const blobGet = (desc: Descriptor): RequestFilter => ({ method: 'GET', path: new RegExp(`/blobs/${desc.digest}$`) });

beforeAll(async () => {
  work = await makeTempDir('faults-bursts');
  registry = await startRegistry({ mode: 'plain' });
  proxy = await startFaultProxy({ upstream: registry.url });
  env = { HOME: work, DOCKER_CONFIG: join(work, 'docker'), GANTRY_CONFIG: join(work, 'gantry.json'), GANTRY_HOME: join(work, 'home') };
  // Layers above WHOLE_UPLOAD_MAX_BYTES go in resumable PATCH chunks; the config, small, in one PUT.
  image = await buildOciLayout(join(work, 'layout'), { tag: 'v1', layers: 2, layerSize: WHOLE_UPLOAD_MAX_BYTES + 64 * 1024, seed: 'faults-bursts', mediaTypes: 'oci' });
  const [only] = image.images;
  if (!only) throw new Error('fixture without an image');
  blobs = [only.config, ...only.layers.map((l) => l.descriptor)];
  const pushed = await gantry('push', `oci:${image.dir}:v1`, `${registry.host}/team/app:v1`);
  expect(pushed.code).toBe(0);
}, 120_000);

afterAll(async () => {
  await proxy?.close();
  await registry?.stop();
  await removeTempDir(work);
});

beforeEach(async () => {
  proxy.reset();
  // Each test sends blobs through the faults: none may turn into a mount from a repository
  // an earlier test filled (gantry remembers where it saw blobs, see blob-locations).
  await rm(join(env.GANTRY_HOME as string, 'state', 'blob-locations.json'), { force: true });
});

/** Every request `filter` matches gets `status` BURST times, then goes through. */
function burst(filter: RequestFilter, status: 503 | 429): FaultRuleHandle {
  return proxy.rule({ match: filter, action: 'status', status, times: BURST, ...(status === 429 ? { headers: { 'Retry-After': '1' } } : {}) });
}

/** Bursts on the tag's HEAD, the manifest's GET and every blob's GET of a pull. */
function pullBursts(status: 503 | 429): Array<{ filter: RequestFilter; rule: FaultRuleHandle }> {
  const filters: RequestFilter[] = [
    { method: 'HEAD', path: /\/manifests\/v1$/ },
    { method: 'GET', path: new RegExp(`/manifests/${image.digest}$`) },
    ...blobs.map(blobGet),
  ];
  return filters.map((filter) => ({ filter, rule: burst(filter, status) }));
}

async function refNames(dir: string): Promise<string[]> {
  const text = await readFile(join(dir, 'index.json'), 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return '{"manifests":[]}';
    throw err;
  });
  const index = JSON.parse(text) as { manifests: Array<{ annotations?: Record<string, string> }> };
  return index.manifests.map((m) => m.annotations?.['org.opencontainers.image.ref.name']).filter((n): n is string => n !== undefined);
}

describe('bursts within the retry budget are ridden out', () => {
  for (const status of [503, 429] as const) {
    it(`pull: ${BURST} × ${status} on the tag, the manifest and every blob, then success`, async () => {
      const bursts = pullBursts(status);
      const dir = join(work, `pull-${status}`);
      const r = await gantry('pull', '-o', `oci:${dir}:v1`, `${proxy.host}/team/app:v1`);
      expect(r.stderr).not.toMatch(/error/);
      expect(r.code).toBe(0);
      for (const { filter, rule } of bursts) {
        expect(rule.hits).toBe(BURST);
        // The burst, then the one that went through: retried, and no more than needed.
        expect(proxy.count(filter)).toBe(BURST + 1);
      }
      expect(await skopeoDigest(`oci:${dir}:v1`)).toBe(image.digest);
    });
  }

  it('push: 503 bursts on blob checks, upload starts, PATCHes, finishing PUTs and manifest PUTs, then success', async () => {
    // HEAD, POST and manifest PUTs are repeated by the HTTP client itself. A PATCH (its body is a
    // stream) and the PUT that closes a session cannot be, so each of those 503s costs one attempt of
    // the whole blob step: one of each keeps even the unluckiest blob within DEFAULT_ATTEMPTS.
    const kinds: Array<{ filter: RequestFilter; times: number; costsAnAttempt?: boolean }> = [
      { filter: { method: 'HEAD', path: /\/blobs\/sha256:/ }, times: BURST },
      { filter: { method: 'POST', path: /\/blobs\/uploads\/$/ }, times: BURST },
      { filter: { method: 'PATCH', path: /\/blobs\/uploads\/./ }, times: 1, costsAnAttempt: true },
      { filter: { method: 'PUT', path: /\/blobs\/uploads\/.*digest=/ }, times: 1, costsAnAttempt: true },
      { filter: { method: 'PUT', path: /\/manifests\// }, times: BURST },
    ];
    if (kinds.reduce((n, k) => n + (k.costsAnAttempt ? k.times : 0), 0) >= DEFAULT_ATTEMPTS) throw new Error('these bursts could exhaust a blob step');
    const rules = kinds.map(({ filter, times }) => ({ times, rule: proxy.rule({ match: filter, action: 'status', status: 503, times }) }));
    const r = await gantry('push', `oci:${image.dir}:v1`, `${proxy.host}/pushed/app:v1`);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    for (const { times, rule } of rules) expect(rule.hits).toBe(times);
    // Every large blob's bytes were accepted once: a step retried after its finishing PUT failed asked
    // the registry where the session stood (all there) and sent nothing again. The small config went
    // whole, in the PUT that closed its session.
    const large = blobs.filter((b) => b.size > WHOLE_UPLOAD_MAX_BYTES);
    const small = blobs.filter((b) => b.size <= WHOLE_UPLOAD_MAX_BYTES);
    expect(large).toHaveLength(2);
    const accepted = proxy.requests.filter((q) => q.method === 'PATCH' && q.status === 202);
    expect(accepted.map((q) => q.bytesIn).sort((x, y) => x - y)).toEqual(large.map((b) => b.size).sort((x, y) => x - y));
    const whole = proxy.requests.filter((q) => q.method === 'PUT' && /\/blobs\/uploads\//.test(q.path) && q.status === 201 && q.bytesIn > 0);
    expect(whole.map((q) => q.bytesIn)).toEqual(small.map((b) => b.size));
    expect(await skopeoDigest(`docker://${registry.host}/pushed/app:v1`, { tlsVerify: false })).toBe(image.digest);
  });
});

describe('bursts longer than the retry budget fail, within bounds', () => {
  it('503 on a blob for ever: exit 1 with a hint, after a bounded number of requests, and no tag', async () => {
    const [, layer] = blobs;
    if (!layer) throw new Error('fixture without layers');
    proxy.rule({ match: blobGet(layer), action: 'status', status: 503 });
    const dir = join(work, 'pull-503-forever');
    const r = await gantry('pull', '-o', `oci:${dir}:v1`, `${proxy.host}/team/app:v1`);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: GET .*UNAVAILABLE/);
    expect(r.stderr).toMatch(/hint: The registry failed on its side/);
    // The HTTP client's tries, once: the engine does not repeat a request the client retried to the end.
    expect(proxy.count(blobGet(layer))).toBe(DEFAULT_RETRY.attempts);
    expect(await refNames(dir)).toEqual([]);
  });

  it('429 (Retry-After: 1) on the tag for ever: exit 1 with a rate-limit hint, after a bounded number of requests', async () => {
    const tag: RequestFilter = { method: 'HEAD', path: /\/manifests\/v1$/ };
    proxy.rule({ match: tag, action: 'status', status: 429, headers: { 'Retry-After': '1' } });
    const dir = join(work, 'pull-429-forever');
    const r = await gantry('pull', '-o', `oci:${dir}:v1`, `${proxy.host}/team/app:v1`);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: HEAD /);
    expect(r.stderr).toMatch(/hint: The registry is rate limiting you: retry after 1s/);
    expect(proxy.count(tag)).toBe(DEFAULT_RETRY.attempts);
    expect(proxy.count({ method: 'GET', path: /\/blobs\// })).toBe(0);
    expect(await refNames(dir)).toEqual([]);
  });
});
