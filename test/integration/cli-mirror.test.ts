import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOciLayout, type OciLayoutResult } from '../helpers/oci-fixtures.js';
import { startRegistry, type AccessLogEntry, type RunningRegistry } from '../helpers/registry.js';
import { runCli, type RunOptions } from '../helpers/run-cli.js';
import { skopeoDigest } from '../helpers/skopeo.js';
import { makeTempDir, removeTempDir } from '../helpers/tmp.js';

// gantry mirror between two real distribution registries (plain HTTP), the
// destination with deletes enabled for --prune. Requests are counted from
// the registries' access logs.

let src: RunningRegistry;
let dst: RunningRegistry;
let work: string;
let env: NodeJS.ProcessEnv;
const images: Record<'A' | 'B' | 'C' | 'D', OciLayoutResult> = {} as Record<'A' | 'B' | 'C' | 'D', OciLayoutResult>;
let multi: OciLayoutResult;

/** The source repository's tags and which fixture each names. */
const SOURCE_TAGS = { '0.9.0': 'D', '1.0.0': 'A', '1.1.0': 'B', '1.2.0': 'A', '2.0.0': 'B', '2.1.0-rc.1': 'C', latest: 'B', edge: 'C' } as const;

interface Record_ {
  source?: string;
  destination: string;
  tag: string;
  action: string;
  bytes: number;
  error?: string;
}

const gantry = (args: string[], options: Omit<RunOptions, 'env'> & { env?: NodeJS.ProcessEnv } = {}) =>
  runCli(['--insecure', ...args], { ...options, env: { ...env, ...options.env } });
const mirrorJson = async (args: string[], options: { env?: NodeJS.ProcessEnv } = {}): Promise<Record_[]> => {
  const r = await gantry(['mirror', ...args, '--json'], options);
  expect(r.stderr, r.stdout).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Record_[];
};
const tagsOf = async (repo: string): Promise<string[]> => {
  const r = await gantry(['tags', repo, '--json']);
  if (r.code === 4) return [];
  expect(r.code).toBe(0);
  return (JSON.parse(r.stdout) as string[]).sort();
};
const requestsDuring = async (registry: RunningRegistry, fn: () => Promise<unknown>): Promise<AccessLogEntry[]> => {
  const before = (await registry.accessLog()).length;
  await fn();
  return (await registry.accessLog()).slice(before);
};
const writeYaml = async (name: string, text: string): Promise<string> => {
  const path = join(work, name);
  await writeFile(path, text);
  return path;
};

beforeAll(async () => {
  work = await makeTempDir('cli-mirror');
  [src, dst] = await Promise.all([startRegistry({ mode: 'plain' }), startRegistry({ mode: 'plain', deleteEnabled: true })]);
  env = { HOME: work, DOCKER_CONFIG: join(work, 'docker'), GANTRY_CONFIG: join(work, 'gantry.json'), GANTRY_HOME: join(work, 'gantry-home') };
  for (const [name, seed] of [['A', 'mirror-a'], ['B', 'mirror-b'], ['C', 'mirror-c'], ['D', 'mirror-d']] as const) {
    images[name] = await buildOciLayout(join(work, name), { tag: name, layers: 2, layerSize: 8 * 1024, seed, mediaTypes: 'oci' });
  }
  multi = await buildOciLayout(join(work, 'multi'), { tag: 'm', platforms: ['linux/amd64', 'linux/arm64/v8', 'linux/arm/v7'], layers: 1, layerSize: 8 * 1024, seed: 'mirror-multi', mediaTypes: 'oci' });
  const pushed = await gantry(['push', '-q', `oci:${multi.dir}:m`, `${src.host}/lib/multi:1.0`]);
  expect(pushed.stdout.trim()).toBe(multi.digest);
  for (const [tag, name] of Object.entries(SOURCE_TAGS)) {
    const image = images[name];
    const r = await gantry(['push', '-q', `oci:${image.dir}:${image.tag}`, `${src.host}/lib/app:${tag}`]);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(image.digest);
  }
}, 180_000);

afterAll(async () => {
  await Promise.all([src?.stop(), dst?.stop()]);
  await removeTempDir(work);
});

describe('gantry mirror SRC DST', () => {
  it('selects by semver range, regex and newest N, and copies exactly those tags', async () => {
    const records = await mirrorJson([`${src.host}/lib/app`, `${dst.host}/lib/app`, '--semver', '>=1.0', '--exclude', '^1\\.1', '--latest', '2']);
    expect(records.map((r) => [r.tag, r.action])).toEqual([
      ['1.2.0', 'copy'],
      ['2.0.0', 'copy'],
    ]);
    expect(records.every((r) => r.bytes > 0)).toBe(true);
    expect(await tagsOf(`${dst.host}/lib/app`)).toEqual(['1.2.0', '2.0.0']);
    expect(await skopeoDigest(`docker://${dst.host}/lib/app:2.0.0`, { tlsVerify: false })).toBe(images.B.digest);
  });

  it('runs again as a no-op: no blob request on either side, one manifest HEAD per tag per side', async () => {
    let records: Record_[] = [];
    let srcLog: AccessLogEntry[] = [];
    const dstLog = await requestsDuring(dst, async () => {
      srcLog = await requestsDuring(src, async () => {
        records = await mirrorJson([`${src.host}/lib/app`, `${dst.host}/lib/app`, '--semver', '>=1.0', '--exclude', '^1\\.1', '--latest', '2']);
      });
    });
    expect(records.map((r) => r.action)).toEqual(['up-to-date', 'up-to-date']);
    for (const log of [srcLog, dstLog]) {
      expect(log.filter((e) => e.path.includes('/blobs/'))).toEqual([]);
      expect(log.filter((e) => !['GET', 'HEAD'].includes(e.method))).toEqual([]);
      const heads = log.filter((e) => e.method === 'HEAD' && e.path.includes('/manifests/')).map((e) => e.path).sort();
      expect(heads).toEqual(['/v2/lib/app/manifests/1.2.0', '/v2/lib/app/manifests/2.0.0']);
      expect(log.filter((e) => e.method === 'GET' && e.path.includes('/manifests/'))).toEqual([]);
    }
  });

  it('from scratch, asks about each manifest once per side: a HEAD and a GET at the source, a HEAD and the PUTs at the destination', async () => {
    // Four images, and 1.2.0 naming the same image as 1.0.0 (copied after it: only its tag is written).
    const tags = ['0.9.0', '1.0.0', '1.1.0', '1.2.0', 'edge'] as const;
    let records: Record_[] = [];
    let srcLog: AccessLogEntry[] = [];
    const dstLog = await requestsDuring(dst, async () => {
      srcLog = await requestsDuring(src, async () => {
        records = await mirrorJson([`${src.host}/lib/app`, `${dst.host}/scratch/app`, ...tags.flatMap((t) => ['--tag', t])]);
      });
    });
    expect(records.map((r) => [r.tag, r.action])).toEqual(tags.map((t) => [t, 'copy']));
    const manifestRequests = (log: AccessLogEntry[]): string[] =>
      log.filter((e) => e.path.includes('/manifests/')).map((e) => `${e.method} ${e.path.split('/manifests/')[1]}`).sort();
    const digestOf = (tag: (typeof tags)[number]): string => images[SOURCE_TAGS[tag]].digest;
    const distinct = [...new Set(tags.map(digestOf))];
    expect(distinct).toHaveLength(4);
    // Source: the comparison's HEAD per tag; the copy reads the root it compared, by digest, once per copy.
    expect(manifestRequests(srcLog)).toEqual([...tags.map((t) => `HEAD ${t}`), ...tags.map((t) => `GET ${digestOf(t)}`)].sort());
    // Destination: the comparison's HEAD per tag (404), no second look before a new image is written
    // (the PUT by tag stores it); the sibling 1.2.0 asks by digest, finds it, and only tags it.
    expect(manifestRequests(dstLog)).toEqual([...tags.map((t) => `HEAD ${t}`), `HEAD ${digestOf('1.2.0')}`, ...tags.map((t) => `PUT ${t}`)].sort());
    expect(dstLog.filter((e) => e.method === 'HEAD' && e.path.includes('/manifests/') && tags.some((t) => e.path.endsWith(`/${t}`))).every((e) => e.status === 404)).toBe(true);
    expect(await skopeoDigest(`docker://${dst.host}/scratch/app:1.2.0`, { tlsVerify: false })).toBe(images.A.digest);
  });

  it('--dry-run prints the plan and writes nothing', async () => {
    const dstLog = await requestsDuring(dst, async () => {
      const r = await gantry(['mirror', `${src.host}/lib/app`, `${dst.host}/lib/app`, '--semver', '>=1.0', '--dry-run']);
      expect(r.code).toBe(0);
      const rows = r.stdout.trim().split('\n').map((line) => line.split('\t'));
      expect(rows.map((row) => [row[0], row[1]?.split(':').pop()])).toEqual([
        ['copy', '1.0.0'],
        ['copy', '1.1.0'],
        ['up to date', '1.2.0'],
        ['up to date', '2.0.0'],
      ]);
    });
    expect(dstLog.filter((e) => e.method !== 'GET' && e.method !== 'HEAD')).toEqual([]);
    expect(await tagsOf(`${dst.host}/lib/app`)).toEqual(['1.2.0', '2.0.0']);
  });
});

describe('gantry mirror --platform', () => {
  it.each([
    ['one platform (the child manifest becomes the root)', ['linux/arm64'], 'one'],
    ['two platforms (a smaller index)', ['linux/arm64', 'linux/amd64'], 'two'],
  ])('with %s a second run finds the filtered copy up to date', async (_name, platforms, repo) => {
    const flags = platforms.flatMap((p) => ['--platform', p]);
    let first: Record_[] = [];
    const srcLog = await requestsDuring(src, async () => {
      first = await mirrorJson([`${src.host}/lib/multi`, `${dst.host}/${repo}/multi`, ...flags]);
    });
    expect(first.map((r) => r.action)).toEqual(['copy']);
    // The index read to work out the filtered digest is the one the copy filters: read once, by digest.
    expect(srcLog.filter((e) => e.path.includes('/manifests/') && !e.path.includes('sha256:') && e.method === 'GET')).toEqual([]);
    expect(srcLog.filter((e) => e.method === 'GET' && e.path.endsWith(`/manifests/${multi.digest}`))).toHaveLength(1);
    const written = await skopeoDigest(`docker://${dst.host}/${repo}/multi:1.0`, { tlsVerify: false });
    expect(written).not.toBe(multi.digest);
    if (platforms.length === 1) expect(written).toBe(multi.images.find((i) => i.platform.architecture === 'arm64')?.manifest.digest);
    let second: Record_[] = [];
    const dstLog = await requestsDuring(dst, async () => {
      second = await mirrorJson([`${src.host}/lib/multi`, `${dst.host}/${repo}/multi`, ...flags]);
    });
    expect(second.map((r) => r.action)).toEqual(['up-to-date']);
    expect(dstLog.filter((e) => e.method !== 'GET' && e.method !== 'HEAD')).toEqual([]);
  });
});

describe('gantry mirror --prune', () => {
  it('refuses without --yes when standard input is not a terminal, before any request', async () => {
    const dstLog = await requestsDuring(dst, async () => {
      const r = await gantry(['mirror', `${src.host}/lib/app`, `${dst.host}/pruned/app`, '--prune']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('--prune asks before untagging');
    });
    expect(dstLog).toEqual([]);
  });

  it('asks on a terminal, and a no changes nothing', async () => {
    const dstLog = await requestsDuring(dst, async () => {
      const r = await gantry(['mirror', `${src.host}/lib/app`, `${dst.host}/asked/app`, '--prune'], { tty: true, stdin: 'n\n' });
      expect(r.code).toBe(0);
      expect(r.stderr).toContain('[y/N]');
      expect(r.stderr).toContain('Nothing mirrored');
    });
    expect(dstLog).toEqual([]);
  });

  it('untags only unselected tags, and keeps one that shares a kept manifest', async () => {
    const all = await mirrorJson([`${src.host}/lib/app`, `${dst.host}/pruned/app`]);
    expect(all).toHaveLength(8);
    const records = await mirrorJson([`${src.host}/lib/app`, `${dst.host}/pruned/app`, '--semver', '>=1.2', '--prune', '--yes']);
    const byTag = Object.fromEntries(records.map((r) => [r.tag, r.action]));
    expect(byTag).toEqual({
      '1.2.0': 'up-to-date',
      '2.0.0': 'up-to-date',
      '0.9.0': 'prune',
      '2.1.0-rc.1': 'prune',
      edge: 'prune',
      // 1.0.0 names A like 1.2.0; 1.1.0 and latest name B like 2.0.0.
      '1.0.0': 'keep-shared',
      '1.1.0': 'keep-shared',
      latest: 'keep-shared',
    });
    expect(await tagsOf(`${dst.host}/pruned/app`)).toEqual(['1.0.0', '1.1.0', '1.2.0', '2.0.0', 'latest']);
    expect(await skopeoDigest(`docker://${dst.host}/pruned/app:2.0.0`, { tlsVerify: false })).toBe(images.B.digest);
    expect(await skopeoDigest(`docker://${dst.host}/pruned/app:1.2.0`, { tlsVerify: false })).toBe(images.A.digest);
  });
});

describe('gantry mirror -f', () => {
  it('--shard 0/2 and 1/2 (JOB_COMPLETION_INDEX with --shards) copy disjoint parts whose union is the whole', async () => {
    const file = await writeYaml('shard.yaml', `sources:\n  - repository: ${src.host}/lib/app\n    destinations:\n      - repository: ${dst.host}/sharded/app\n`);
    const first = await mirrorJson(['-f', file, '--shard', '0/2']);
    const second = await mirrorJson(['-f', file, '--shards', '2'], { env: { JOB_COMPLETION_INDEX: '1' } });
    const part0 = first.map((r) => r.tag);
    const part1 = second.map((r) => r.tag);
    expect(part0.length).toBeGreaterThan(0);
    expect(part1.length).toBeGreaterThan(0);
    expect(part0.filter((t) => part1.includes(t))).toEqual([]);
    expect([...part0, ...part1].sort()).toEqual(Object.keys(SOURCE_TAGS).sort());
    expect([...first, ...second].every((r) => r.action === 'copy')).toBe(true);
    expect(await tagsOf(`${dst.host}/sharded/app`)).toEqual(Object.keys(SOURCE_TAGS).sort());
  });

  it('reports a missing source repository as failed while the others are mirrored, and exits non-zero', async () => {
    const file = await writeYaml(
      'partial.yaml',
      `sources:\n` +
        `  - repository: ${src.host}/lib/missing\n    destinations:\n      - repository: ${dst.host}/lib/missing\n` +
        `  - repository: ${src.host}/lib/app\n    tags: [edge]\n    destinations:\n      - repository: ${dst.host}/partial/app\n`,
    );
    const r = await gantry(['mirror', '-f', file, '--json']);
    expect(r.code).toBe(1);
    const records = JSON.parse(r.stdout) as Record_[];
    expect(records.map((x) => [x.source?.split('/').slice(1).join('/'), x.tag, x.action])).toEqual([
      ['lib/missing', '*', 'failed'],
      ['lib/app', 'edge', 'copy'],
    ]);
    expect(records[0]?.error).toContain('repository not found');
    expect(JSON.parse(r.stderr).error.message).toContain('1 of 2 mirror items failed');
    expect(await skopeoDigest(`docker://${dst.host}/partial/app:edge`, { tlsVerify: false })).toBe(images.C.digest);
  });

  it('prints a final summary of what it did (one self-describing line when piped)', async () => {
    const file = await writeYaml('table.yaml', `sources:\n  - repository: ${src.host}/lib/app\n    tags: [edge, latest]\n    destinations:\n      - repository: ${dst.host}/table/app\n`);
    const r = await gantry(['mirror', '-f', file]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`copied  ${dst.host}/table/app:edge`);
    expect(r.stdout.trim()).toMatch(/^mirror: 2 copied, 0 up to date, 0 skipped, 0 pruned, 0 failed, .* moved, [\d.]+s$/);
  });

  it('--skopeo-yaml mirrors the same tags as skopeo sync does with that file', async () => {
    const images = `  images-by-tag-regex:\n    lib/app: '^1\\.'\n  images:\n    lib/app: [edge]\n`;
    // skopeo needs the plain-HTTP source marked in the file; gantry refuses that key and takes --insecure.
    const forSkopeo = await writeYaml('skopeo.yaml', `${src.host}:\n${images}  tls-verify: false\n`);
    const forGantry = await writeYaml('gantry-skopeo.yaml', `${src.host}:\n${images}`);
    await promisify(execFile)('skopeo', ['sync', '--src', 'yaml', '--dest', 'docker', '--dest-tls-verify=false', forSkopeo, `${dst.host}/by-skopeo`], { timeout: 60_000 });
    const records = await mirrorJson(['--skopeo-yaml', forGantry, `${dst.host}/by-gantry`]);
    expect(records.every((r) => r.action === 'copy')).toBe(true);
    const bySkopeo = await tagsOf(`${dst.host}/by-skopeo/app`);
    expect(bySkopeo).toEqual(['1.0.0', '1.1.0', '1.2.0', 'edge']);
    expect(await tagsOf(`${dst.host}/by-gantry/app`)).toEqual(bySkopeo);
  });
});
