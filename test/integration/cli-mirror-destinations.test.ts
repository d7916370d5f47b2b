import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOciLayout, type OciLayoutResult } from '../helpers/oci-fixtures.js';
import { startRegistry, type AccessLogEntry, type RunningRegistry } from '../helpers/registry.js';
import { runCli, type CliResult } from '../helpers/run-cli.js';
import { skopeoAccessFor, skopeoDigest } from '../helpers/skopeo.js';
import { makeTempDir, removeTempDir } from '../helpers/tmp.js';

// gantry mirror -f with registry destinations (prefix, rename) between two
// plain distribution registries, and a source on an htpasswd-TLS registry
// that gantry has no credentials for until `gantry login`. The plain hosts
// are allowed over HTTP through the settings' insecure-registries (not
// --insecure), so the TLS registry is verified against its CA (--ca-file).

let src: RunningRegistry;
let dst: RunningRegistry;
let locked: RunningRegistry;
let work: string;
let env: NodeJS.ProcessEnv;
let A: OciLayoutResult;
let B: OciLayoutResult;
let C: OciLayoutResult;

interface MirrorRecord {
  source?: string;
  destination: string;
  tag: string;
  sourceDigest?: string;
  action: string;
  bytes: number;
  error?: string;
}

const gantry = (args: string[], options: { env?: NodeJS.ProcessEnv; stdin?: string } = {}): Promise<CliResult> =>
  runCli(['--ca-file', locked.caFile as string, ...args], { env: options.env ?? env, ...(options.stdin === undefined ? {} : { stdin: options.stdin }) });

const mirrorFile = async (file: string): Promise<{ result: CliResult; records: MirrorRecord[] }> => {
  const result = await gantry(['mirror', '-f', file, '--json']);
  return { result, records: JSON.parse(result.stdout) as MirrorRecord[] };
};

const writeYaml = async (name: string, text: string): Promise<string> => {
  const path = join(work, name);
  await writeFile(path, text);
  return path;
};

const tagsOf = async (repo: string): Promise<string[]> => {
  const r = await gantry(['tags', repo, '--json']);
  if (r.code === 4) return [];
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return (JSON.parse(r.stdout) as string[]).sort();
};

const requestsDuring = async (registry: RunningRegistry, fn: () => Promise<unknown>): Promise<AccessLogEntry[]> => {
  const before = (await registry.accessLog()).length;
  await fn();
  return (await registry.accessLog()).slice(before);
};

/** A record as [destination repository, tag, action], for order-independent comparison. */
const rows = (records: MirrorRecord[]): string[][] => records.map((r) => [r.destination, r.tag, r.action]).sort((x, y) => x.join().localeCompare(y.join()));

beforeAll(async () => {
  work = await makeTempDir('cli-mirror-dest');
  [src, dst, locked] = await Promise.all([startRegistry({ mode: 'plain' }), startRegistry({ mode: 'plain' }), startRegistry({ mode: 'htpasswd-tls' })]);
  const gantryConfig = join(work, 'gantry.json');
  await writeFile(gantryConfig, JSON.stringify({ 'insecure-registries': [src.host, dst.host] }));
  env = { HOME: work, DOCKER_CONFIG: join(work, 'docker'), GANTRY_CONFIG: gantryConfig, GANTRY_HOME: join(work, 'gantry-home') };
  [A, B, C] = await Promise.all([
    buildOciLayout(join(work, 'A'), { tag: 'a', layers: 2, layerSize: 4 * 1024, seed: 'dest-a', mediaTypes: 'oci' }),
    buildOciLayout(join(work, 'B'), { tag: 'b', layers: 1, layerSize: 4 * 1024, seed: 'dest-b', mediaTypes: 'docker' }),
    buildOciLayout(join(work, 'C'), { tag: 'c', layers: 1, layerSize: 4 * 1024, seed: 'dest-c', mediaTypes: 'oci' }),
  ]);
  for (const [image, target] of [
    [A, `${src.host}/lib/app:1.0`],
    [B, `${src.host}/lib/app:2.0`],
  ] as const) {
    const r = await gantry(['push', '-q', `oci:${image.dir}:${image.tag}`, target]);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(image.digest);
  }
  // The locked registry's fixture is pushed with a separate docker config, so
  // the gantry environment under test starts with no credentials for it.
  const pusherConfig = join(work, 'pusher-docker');
  await mkdir(pusherConfig);
  const auth = Buffer.from(`${locked.username as string}:${locked.password as string}`).toString('base64');
  await writeFile(join(pusherConfig, 'config.json'), JSON.stringify({ auths: { [locked.host]: { auth } } }));
  const pushed = await gantry(['push', '-q', `oci:${C.dir}:${C.tag}`, `${locked.host}/private/app:1.0`], { env: { ...env, DOCKER_CONFIG: pusherConfig } });
  expect(pushed.stderr).toBe('');
  expect(pushed.stdout.trim()).toBe(C.digest);
}, 60_000);

afterAll(async () => {
  await Promise.all([src?.stop(), dst?.stop(), locked?.stop()]);
  if (work) await removeTempDir(work);
});

describe('gantry mirror -f with registry destinations', () => {
  it('a prefix puts the source path under it, and a second run is up to date without writing', async () => {
    const file = await writeYaml(
      'prefix.yaml',
      `sources:\n  - repository: ${src.host}/lib/app\n    destinations:\n      - registry: ${dst.host}\n        prefix: mirror/eu\n`,
    );
    const first = await mirrorFile(file);
    expect(first.result.stderr).not.toMatch(/error/i);
    expect(first.result.code).toBe(0);
    expect(rows(first.records)).toEqual([
      [`${dst.host}/mirror/eu/lib/app`, '1.0', 'copy'],
      [`${dst.host}/mirror/eu/lib/app`, '2.0', 'copy'],
    ]);
    expect(first.records.map((r) => [r.tag, r.sourceDigest]).sort()).toEqual([
      ['1.0', A.digest],
      ['2.0', B.digest],
    ]);
    expect(await tagsOf(`${dst.host}/mirror/eu/lib/app`)).toEqual(['1.0', '2.0']);
    expect(await skopeoDigest(`docker://${dst.host}/mirror/eu/lib/app:1.0`, { tlsVerify: false })).toBe(A.digest);
    expect(await skopeoDigest(`docker://${dst.host}/mirror/eu/lib/app:2.0`, { tlsVerify: false })).toBe(B.digest);
    // Nothing lands at the unprefixed path.
    expect(await tagsOf(`${dst.host}/lib/app`)).toEqual([]);

    let second: Awaited<ReturnType<typeof mirrorFile>> | undefined;
    const dstLog = await requestsDuring(dst, async () => {
      second = await mirrorFile(file);
    });
    expect(second?.result.code).toBe(0);
    expect(rows(second?.records ?? [])).toEqual([
      [`${dst.host}/mirror/eu/lib/app`, '1.0', 'up-to-date'],
      [`${dst.host}/mirror/eu/lib/app`, '2.0', 'up-to-date'],
    ]);
    expect(dstLog.filter((e) => e.path.includes('/blobs/'))).toEqual([]);
    expect(dstLog.filter((e) => e.method !== 'GET' && e.method !== 'HEAD')).toEqual([]);
  });

  it('a rename replaces the source path (and keeps a prefix before it), and a second run is up to date', async () => {
    const file = await writeYaml(
      'rename.yaml',
      `sources:\n  - repository: ${src.host}/lib/app\n    tags: ['2.0']\n    destinations:\n` +
        `      - { registry: ${dst.host}, rename: apps/renamed }\n` +
        `      - { registry: ${dst.host}, prefix: team, rename: tools/other }\n`,
    );
    const first = await mirrorFile(file);
    expect(first.result.code).toBe(0);
    expect(rows(first.records)).toEqual([
      [`${dst.host}/apps/renamed`, '2.0', 'copy'],
      [`${dst.host}/team/tools/other`, '2.0', 'copy'],
    ]);
    expect(await tagsOf(`${dst.host}/apps/renamed`)).toEqual(['2.0']);
    expect(await tagsOf(`${dst.host}/team/tools/other`)).toEqual(['2.0']);
    expect(await skopeoDigest(`docker://${dst.host}/apps/renamed:2.0`, { tlsVerify: false })).toBe(B.digest);
    const digest = await gantry(['digest', `${dst.host}/team/tools/other:2.0`]);
    expect(digest.stdout.trim()).toBe(B.digest);
    // The renamed name is the whole path: the source's lib/app does not appear under it.
    expect(await tagsOf(`${dst.host}/apps/renamed/lib/app`)).toEqual([]);

    let second: Awaited<ReturnType<typeof mirrorFile>> | undefined;
    const dstLog = await requestsDuring(dst, async () => {
      second = await mirrorFile(file);
    });
    expect(second?.result.code).toBe(0);
    expect(rows(second?.records ?? []).map((r) => r[2])).toEqual(['up-to-date', 'up-to-date']);
    expect(dstLog.filter((e) => e.path.includes('/blobs/'))).toEqual([]);
    expect(dstLog.filter((e) => e.method !== 'GET' && e.method !== 'HEAD')).toEqual([]);
  });
});

describe('gantry mirror -f with a source gantry cannot authenticate to', () => {
  it('fails that source with an auth reason while the plain source is copied, then copies it after gantry login', async () => {
    const file = await writeYaml(
      'auth.yaml',
      `sources:\n` +
        `  - repository: ${locked.host}/private/app\n    destinations:\n      - registry: ${dst.host}\n        prefix: from-locked\n` +
        `  - repository: ${src.host}/lib/app\n    tags: ['1.0']\n    destinations:\n      - registry: ${dst.host}\n        prefix: from-plain\n`,
    );
    let first: Awaited<ReturnType<typeof mirrorFile>> = { result: { code: -1, stdout: '', stderr: '', stdoutBytes: Buffer.alloc(0) }, records: [] };
    const dstLog = await requestsDuring(dst, async () => {
      first = await mirrorFile(file);
    });
    expect(first.result.code).toBe(1);
    const failed = first.records.filter((r) => r.action === 'failed');
    expect(failed.map((r) => [r.source, r.destination, r.tag])).toEqual([[`${locked.host}/private/app`, `${dst.host}/from-locked/private/app`, '*']]);
    expect(failed[0]?.error).toMatch(/authentication required/i);
    // A source that cannot be listed is never compared with, let alone written to, its destination.
    expect(dstLog.filter((e) => e.path.includes('/from-locked/'))).toEqual([]);
    expect(first.records.filter((r) => r.action !== 'failed').map((r) => [r.destination, r.tag, r.action])).toEqual([
      [`${dst.host}/from-plain/lib/app`, '1.0', 'copy'],
    ]);
    const reported = (JSON.parse(first.result.stderr) as { error: { message: string; hint?: string } }).error;
    expect(reported.message).toContain('1 of 2 mirror items failed');
    expect(reported.hint).toMatch(/gantry login/);
    expect(await skopeoDigest(`docker://${dst.host}/from-plain/lib/app:1.0`, { tlsVerify: false })).toBe(A.digest);
    expect(await tagsOf(`${dst.host}/from-locked/private/app`)).toEqual([]);

    const login = await gantry(['login', locked.host, '-u', locked.username as string, '--password-stdin'], { stdin: `${locked.password as string}\n` });
    expect(login.stderr).toBe('');
    expect(login.code).toBe(0);

    const second = await mirrorFile(file);
    expect(second.result.stderr).not.toMatch(/error/i);
    expect(second.result.code).toBe(0);
    expect(rows(second.records)).toEqual([
      [`${dst.host}/from-locked/private/app`, '1.0', 'copy'],
      [`${dst.host}/from-plain/lib/app`, '1.0', 'up-to-date'],
    ]);
    expect(second.records.find((r) => r.action === 'copy')?.sourceDigest).toBe(C.digest);
    expect(await skopeoDigest(`docker://${dst.host}/from-locked/private/app:1.0`, { tlsVerify: false })).toBe(C.digest);
    // The copy is the locked registry's image, read with its own credentials by skopeo too.
    expect(await skopeoDigest(`docker://${locked.host}/private/app:1.0`, skopeoAccessFor(locked))).toBe(C.digest);
  });
});
