import { execFileSync } from 'node:child_process';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatPlatform, hostPlatform } from '../../src/media/index.js';
import { buildOciLayout, type OciLayoutResult } from '../helpers/oci-fixtures.js';
import { startRegistry, type RunningRegistry } from '../helpers/registry.js';
import { runBin, runCli } from '../helpers/run-cli.js';
import { skopeoCopy, skopeoDigest, skopeoInspect } from '../helpers/skopeo.js';
import { makeTempDir, removeTempDir } from '../helpers/tmp.js';

// copy, pull, push, images and rmi between two real registries, OCI layouts,
// archives and the local store, with skopeo as the independent reader.

let a: RunningRegistry;
let b: RunningRegistry;
let work: string;
let multi: OciLayoutResult;
let env: NodeJS.ProcessEnv;

const gantry = (...args: string[]) => runCli(['--insecure', ...args], { env });
const json = async (command: string, ...args: string[]) => {
  const r = await gantry(command, '--json', ...args);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
};
const plain = { tlsVerify: false };

beforeAll(async () => {
  work = await makeTempDir('cli-transfer');
  [a, b] = await Promise.all([startRegistry({ mode: 'plain' }), startRegistry({ mode: 'plain', deleteEnabled: true })]);
  env = { HOME: work, DOCKER_CONFIG: join(work, 'docker'), GANTRY_CONFIG: join(work, 'gantry.json'), GANTRY_HOME: join(work, 'gantry-home') };
  multi = await buildOciLayout(join(work, 'multi'), {
    tag: 'v1',
    platforms: ['linux/amd64', 'linux/arm64/v8'],
    layers: 3,
    layerSize: 48 * 1024,
    sharedLayers: 1,
    seed: 'cli-transfer',
    mediaTypes: 'oci',
  });
}, 120_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await removeTempDir(work);
});

describe('push, copy and re-push against real registries', () => {
  it('pushes a multi-platform OCI layout byte-identically (skopeo agrees on the digest)', async () => {
    const before = (await a.accessLog()).length;
    const result = await json('push', `oci:${multi.dir}:v1`, `${a.host}/team/app:v1`);
    const puts = (await a.accessLog()).slice(before).filter((e) => e.method === 'PUT' && e.path.includes('/manifests/'));
    // Children by digest first; the index only under its tag, which stores it (no PUT by digest before).
    expect(puts.map((e) => e.path.replace(/sha256:[0-9a-f]{64}/, 'DIGEST'))).toEqual([
      '/v2/team/app/manifests/DIGEST',
      '/v2/team/app/manifests/DIGEST',
      '/v2/team/app/manifests/v1',
    ]);
    expect(result.digest).toBe(multi.digest);
    expect(result.blobs.every((x: { action: string }) => x.action === 'copied')).toBe(true);
    // The shared layer is sent once.
    const distinct = new Set(multi.images.flatMap((i) => [...i.layers.map((l) => l.descriptor.digest), i.config.digest]));
    expect(result.blobs).toHaveLength(distinct.size);
    expect(await skopeoDigest(`docker://${a.host}/team/app:v1`, plain)).toBe(multi.digest);
  });

  it('skopeo copies what gantry pushed into an OCI directory with identical digests', async () => {
    const dir = join(work, 'skopeo-out');
    await skopeoCopy(`docker://${a.host}/team/app:v1`, `oci:${dir}:v1`, { srcTlsVerify: false, multiArch: 'all', preserveDigests: true });
    expect(await skopeoDigest(`oci:${dir}:v1`)).toBe(multi.digest);
  });

  it('push LOCATION REPO keeps the source tag, as copy does', async () => {
    const result = await json('push', `oci:${multi.dir}:v1`, `${b.host}/kept/app`);
    expect(result.names).toEqual(['v1']);
    expect(await skopeoDigest(`docker://${b.host}/kept/app:v1`, plain)).toBe(multi.digest);
  });

  it('--all-tags refuses a tagged source', async () => {
    const r = await gantry('copy', '--all-tags', `${a.host}/team/app:v1`, `${b.host}/all/app`);
    expect(r.code).toBe(2);
  });

  it('--all-tags --json lists images even when every tag names one image, so scripts can read .images[]', async () => {
    const result = await json('copy', '--all-tags', `${a.host}/team/app`, `${b.host}/one/app`);
    expect(result.images.map((i: { digest: string }) => i.digest)).toEqual([multi.digest]);
    expect(result.images[0].names).toEqual(['v1']);
    // A layout named without a tag, into a repository: every image of it, listed the same way.
    const fromLayout = await json('copy', `oci:${multi.dir}`, `${b.host}/one/layout`);
    expect(fromLayout.images.map((i: { digest: string }) => i.digest)).toEqual([multi.digest]);
    // One image picked, or one tag named at the destination: a single result.
    expect((await json('copy', `oci:${multi.dir}:v1`, `${b.host}/one/picked`)).digest).toBe(multi.digest);
    expect((await json('copy', `oci:${multi.dir}`, `${b.host}/one/tagged:v9`)).digest).toBe(multi.digest);
  });

  it('re-pushing finds everything there and writes nothing: a HEAD by digest and one by tag, no PUT', async () => {
    const before = (await a.accessLog()).length;
    const result = await json('push', `oci:${multi.dir}:v1`, `${a.host}/team/app:v1`);
    expect(result.bytesSent).toBe(0);
    expect(result.blobs.every((x: { action: string }) => x.action === 'skipped')).toBe(true);
    const requests = (await a.accessLog()).slice(before).map((e) => `${e.method} ${e.path.replace(/sha256:[0-9a-f]{64}/, 'DIGEST')}`);
    // The tag already names the root: no PUT (which a registry would report as a push), nothing read back.
    expect(requests.filter((r) => !r.endsWith('/v2/')).sort()).toEqual(['HEAD /v2/team/app/manifests/DIGEST', 'HEAD /v2/team/app/manifests/v1']);
    expect(result.names).toEqual(['v1']);
  });

  it('copies within a registry by mounting every blob, and reports "mounted"', async () => {
    const result = await json('copy', `${a.host}/team/app:v1`, `${a.host}/other/app:v1`);
    expect(result.digest).toBe(multi.digest);
    expect(result.bytesSent).toBe(0);
    expect(result.blobs.every((x: { action: string; mountedFrom?: string }) => x.action === 'mounted' && x.mountedFrom === 'team/app')).toBe(true);
  });

  it('copies between registries, keeping the source tag when the destination has none', async () => {
    const r = await gantry('copy', `${a.host}/team/app:v1`, `${b.host}/mirror/app`);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/sent in \d+ blobs/);
    expect(await skopeoDigest(`docker://${b.host}/mirror/app:v1`, plain)).toBe(multi.digest);
  });

  it('--platform with one platform copies the single image manifest', async () => {
    const arm = multi.images.find((i) => i.platform.architecture === 'arm64');
    const result = await json('copy', '--platform', 'linux/arm64', `${a.host}/team/app:v1`, `${b.host}/arm/app:v1`);
    expect(result.digest).toBe(arm?.manifest.digest);
    const inspected = (await skopeoInspect(`docker://${b.host}/arm/app:v1`, plain)) as { Architecture: string };
    expect(inspected.Architecture).toBe('arm64');
  });

  it('the executable copies many blobs at once without node warnings on stderr', async () => {
    const many = await buildOciLayout(join(work, 'many'), { tag: 'm', layers: 24, layerSize: 4 * 1024, seed: 'many', mediaTypes: 'oci' });
    const r = await runBin(['--insecure', 'copy', `oci:${many.dir}:m`, `${a.host}/many/app:m`], { env });
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/Warning|\(node:/);
    expect(r.stderr).toMatch(/25 blobs/);
  });

  it('--platform on a single-platform source it does not match is refused, exit 4, nothing written', async () => {
    const r = await gantry('copy', '--platform', 'linux/s390x', `${b.host}/arm/app:v1`, `${b.host}/wrong/app:v1`);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/linux\/arm64\/v8 only/);
    await expect(skopeoDigest(`docker://${b.host}/wrong/app:v1`, plain)).rejects.toThrow();
    const ok = await json('copy', '--platform', 'linux/arm64', `${b.host}/arm/app:v1`, `${b.host}/right/app:v1`);
    expect(ok.digest).toBe(multi.images.find((i) => i.platform.architecture === 'arm64')?.manifest.digest);
  });

  it('--quiet prints only the digest', async () => {
    const r = await gantry('copy', '-q', `${a.host}/team/app:v1`, `${b.host}/quiet/app:v1`);
    expect(r.stdout).toBe(`${multi.digest}\n`);
  });
});

describe('local formats', () => {
  it('pulls into an OCI layout that skopeo opens', async () => {
    const dir = join(work, 'pulled');
    const r = await gantry('pull', '-o', `oci:${dir}:v1`, `${a.host}/team/app:v1`);
    expect(r.code).toBe(0);
    expect(await skopeoDigest(`oci:${dir}:v1`)).toBe(multi.digest);
    // No partial or temporary file is left looking like a blob.
    const names = await readdir(join(dir, 'blobs', 'sha256'));
    for (const name of names.filter((n) => /^[0-9a-f]{64}$/.test(n))) expect((await stat(join(dir, 'blobs', 'sha256', name))).size).toBeGreaterThan(0);
  });

  it('writes an oci-archive skopeo reads, and a docker-archive skopeo reads as docker-archive', async () => {
    const ociTar = join(work, 'app-oci.tar');
    expect((await gantry('copy', `${a.host}/team/app:v1`, `oci-archive:${ociTar}:v1`)).code).toBe(0);
    expect(await skopeoDigest(`oci-archive:${ociTar}:v1`)).toBe(multi.digest);

    const dockerTar = join(work, 'app-docker.tar');
    const r = await gantry('pull', '--platform', 'linux/amd64', '-o', `docker-archive:${dockerTar}:team/app:v1`, `${a.host}/team/app:v1`);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    const inspected = (await skopeoInspect(`docker-archive:${dockerTar}`)) as { Architecture: string; Layers: string[] };
    expect(inspected.Architecture).toBe('amd64');
    expect(inspected.Layers).toHaveLength(3);
  });

  it('writes one platform of an index into a docker-archive (this machine\'s unless --platform says), and names it after the source', async () => {
    const tar = join(work, 'named.tar');
    const refused = await gantry('pull', '--platform', 'linux/amd64', '--platform', 'linux/arm64', '-o', `docker-archive:${tar}`, `${a.host}/team/app:v1`);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--platform/);
    // As docker save and skopeo: without --platform, the host's platform (the fixture has amd64 and arm64).
    const host = hostPlatform();
    const hostTar = join(work, 'host.tar');
    const byHost = await gantry('pull', '-o', `docker-archive:${hostTar}`, `${a.host}/team/app:v1`);
    expect(byHost.code).toBe(0);
    expect(byHost.stderr).toContain(`writing ${formatPlatform(host)}, this machine's`);
    expect(((await skopeoInspect(`docker-archive:${hostTar}`)) as { Architecture: string }).Architecture).toBe(host.architecture);
    const r = await gantry('pull', '--platform', 'linux/arm64', '-o', `docker-archive:${tar}`, `${a.host}/team/app:v1`);
    expect(r.code).toBe(0);
    // docker load names the image from manifest.json's RepoTags.
    const manifest = JSON.parse(execFileSync('tar', ['-xOf', tar, 'manifest.json'], { encoding: 'utf8' })) as Array<{ RepoTags: string[] }>;
    expect(manifest[0]?.RepoTags).toEqual([`${a.host}/team/app:v1`]);
    expect(((await skopeoInspect(`docker-archive:${tar}`)) as { Architecture: string }).Architecture).toBe('arm64');
  });

  it('pushes what skopeo wrote as a docker-archive', async () => {
    const tar = join(work, 'skopeo-docker.tar');
    await skopeoCopy(`docker://${a.host}/team/app:v1`, `docker-archive:${tar}:team/app:v1`, { srcTlsVerify: false });
    const r = await gantry('push', `docker-archive:${tar}`, `${b.host}/from-archive/app:v1`);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    const inspected = (await skopeoInspect(`docker://${b.host}/from-archive/app:v1`, plain)) as { Layers: string[] };
    expect(inspected.Layers).toHaveLength(3);
  });

  it('pull into the local store, images, push from it, rmi', async () => {
    // skopeo's docker:// spelling is accepted by registry commands.
    expect((await gantry('pull', `docker://${a.host}/team/app:v1`)).code).toBe(0);
    const images = await json('images');
    expect(images).toEqual([expect.objectContaining({ name: `${a.host}/team/app`, tag: 'v1', digest: multi.digest, platforms: ['linux/amd64', 'linux/arm64/v8'] })]);

    const retagged = await gantry('push', `${a.host}/team/app:v1`);
    expect(retagged.code).toBe(0);

    // push SRC DST: a bare SRC is the local store's image (the registry's :v2 does not exist yet);
    // DST without a tag keeps the source's tag.
    expect((await gantry('tag', '--local', `${a.host}/team/app:v1`, `${a.host}/team/app:v2`)).code).toBe(0);
    expect((await gantry('push', `${a.host}/team/app:v2`, `${b.host}/pushed/app`)).code).toBe(0);
    expect(await skopeoDigest(`docker://${b.host}/pushed/app:v2`, plain)).toBe(multi.digest);
    expect((await gantry('rmi', `local:${a.host}/team/app:v2`)).code).toBe(0);

    // With a second name, rmi only untags; removing the last name deletes the image.
    expect((await gantry('tag', '--local', `${a.host}/team/app:v1`, `${a.host}/team/app:v2`)).code).toBe(0);
    const untagged = await gantry('rmi', `${a.host}/team/app:v2`);
    expect(untagged.stdout).toMatch(/Untagged: /);
    expect(untagged.stdout).not.toMatch(/Deleted/);
    // A missing name among several is reported, and the others are still removed (as docker rmi does).
    const removed = await gantry('rmi', `${a.host}/team/nothing:1`, `${a.host}/team/app:v1`);
    expect(removed.code).toBe(4);
    expect(removed.stderr).toMatch(/^error: no image .*nothing:1/m);
    expect(removed.stderr).toMatch(/1 of 2 images not removed/);
    expect(removed.stdout).toMatch(/Deleted: sha256:/);
    expect(await json('images')).toEqual([]);
    const missing = await gantry('push', `${a.host}/team/app:v1`);
    expect(missing.code).toBe(4);
  });
});

describe('mounts from where a blob was seen (docker\'s "Mounted from" for a retagged or re-pushed image)', () => {
  let image: OciLayoutResult;
  const blobActions = (result: { blobs: Array<{ action: string; mountedFrom?: string }> }) => [...new Set(result.blobs.map((x) => `${x.action} ${x.mountedFrom ?? ''}`.trim()))];

  beforeAll(async () => {
    image = await buildOciLayout(join(work, 'seen'), { tag: 'v1', layers: 3, layerSize: 32 * 1024, seed: 'blob-locations', mediaTypes: 'oci' });
  });

  it('a layout pushed to a second repository mounts its blobs from the first', async () => {
    expect(blobActions(await json('push', `oci:${image.dir}:v1`, `${b.host}/seen/one:v1`))).toEqual(['copied']);
    const before = (await b.accessLog()).length;
    const second = await json('push', `oci:${image.dir}:v1`, `${b.host}/seen/two:v1`);
    expect(blobActions(second)).toEqual(['mounted seen/one']);
    expect(second.bytesSent).toBe(0);
    const requests = (await b.accessLog()).slice(before);
    expect(requests.filter((e) => e.method === 'POST' && e.path.includes('mount=')).length).toBe((image.images[0]?.layers.length ?? 0) + 1);
    expect(await skopeoDigest(`docker://${b.host}/seen/two:v1`, plain)).toBe(image.digest);
  });

  it('an image pulled into the local store, tagged and pushed to another repository, is mounted, not uploaded', async () => {
    expect((await gantry('pull', `${b.host}/seen/one:v1`)).code).toBe(0);
    expect((await gantry('tag', '--local', `${b.host}/seen/one:v1`, `${b.host}/seen/promoted:v1`)).code).toBe(0);
    const pushed = await json('push', `${b.host}/seen/promoted:v1`);
    expect(pushed.bytesSent).toBe(0);
    expect(pushed.blobs.every((x: { action: string; mountedFrom?: string }) => x.action === 'mounted' && x.mountedFrom?.startsWith('seen/'))).toBe(true);
    expect((await gantry('rmi', `${b.host}/seen/promoted:v1`, `${b.host}/seen/one:v1`)).code).toBe(0);
  });

  it('a stale location costs a refused mount, then the upload: the result is whole', async () => {
    const file = join(env.GANTRY_HOME as string, 'state', 'blob-locations.json');
    const saved = JSON.parse(await readFile(file, 'utf8'));
    // Every blob "seen" in a repository of registry a that never held it.
    saved.registries[a.host] = Object.fromEntries(Object.keys(saved.registries[b.host]).map((digest) => [digest, ['never/there']]));
    await writeFile(file, JSON.stringify(saved));
    const before = (await a.accessLog()).length;
    const pushed = await json('push', `oci:${image.dir}:v1`, `${a.host}/seen/fresh:v1`);
    expect(blobActions(pushed)).toEqual(['copied']);
    const mounts = (await a.accessLog()).slice(before).filter((e) => e.method === 'POST' && e.path.includes('mount='));
    expect(mounts.length).toBeGreaterThan(0);
    expect(mounts.every((e) => e.path.includes('from=never%2Fthere'))).toBe(true);
    expect(await skopeoDigest(`docker://${a.host}/seen/fresh:v1`, plain)).toBe(image.digest);
  });
});

describe('archives of several images', () => {
  interface ArchiveEntry {
    Config: string;
    RepoTags: string[];
  }
  const tarFile = (tar: string, name: string): string => execFileSync('tar', ['-xOf', tar, name], { encoding: 'utf8' });
  const manifestOf = (tar: string): ArchiveEntry[] => JSON.parse(tarFile(tar, 'manifest.json')) as ArchiveEntry[];
  const configOf = (entry: ArchiveEntry | undefined): string => `sha256:${entry?.Config.replace(/\.json$/, '')}`;
  let repo: string;
  let other: OciLayoutResult;
  let allTags: string;

  beforeAll(async () => {
    repo = `${a.host}/archive/app`;
    other = await buildOciLayout(join(work, 'archive-other'), { tag: 's', platform: 'linux/amd64', layers: 2, layerSize: 16 * 1024, seed: 'cli-transfer-archive', mediaTypes: 'oci' });
    expect((await gantry('push', `oci:${multi.dir}:v1`, `${repo}:1.0`, '-t', '1.0.1')).code).toBe(0);
    expect((await gantry('push', `oci:${other.dir}:s`, `${repo}:2.0`)).code).toBe(0);
    allTags = join(work, 'all-tags.tar');
    const r = await gantry('copy', '--all-tags', '--platform', 'linux/amd64', repo, `docker-archive:${allTags}`);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
  }, 60_000);

  it('copy --all-tags into a docker-archive names every image by all its tags: one manifest.json entry per image, as docker save writes', () => {
    const amd64 = multi.images.find((i) => i.platform.architecture === 'amd64');
    const entries = manifestOf(allTags);
    expect(Object.fromEntries(entries.map((e) => [configOf(e), [...e.RepoTags].sort()]))).toEqual({
      [amd64!.config.digest]: [`${repo}:1.0`, `${repo}:1.0.1`],
      [other.images[0]!.config.digest]: [`${repo}:2.0`],
    });
    const repositories = JSON.parse(tarFile(allTags, 'repositories')) as Record<string, Record<string, string>>;
    expect(Object.keys(repositories)).toEqual([repo]);
    expect(Object.keys(repositories[repo] ?? {}).sort()).toEqual(['1.0', '1.0.1', '2.0']);
    expect(repositories[repo]?.['1.0']).toBe(repositories[repo]?.['1.0.1']);
    expect(repositories[repo]?.['1.0']).not.toBe(repositories[repo]?.['2.0']);
  });

  it('skopeo reads each image of it by name and by @N', async () => {
    const entries = manifestOf(allTags);
    const diffIdsOf = (config: string): string[] =>
      [...multi.images, ...other.images].find((i) => i.config.digest === config)?.layers.map((l) => l.diffId) ?? [];
    const byName = (await skopeoInspect(`docker-archive:${allTags}:${repo}:2.0`)) as { Layers: string[]; Architecture: string };
    expect(byName.Layers).toEqual(other.images[0]!.layers.map((l) => l.diffId));
    for (const [n, entry] of entries.entries()) {
      const byIndex = (await skopeoInspect(`docker-archive:${allTags}:@${n}`)) as { Layers: string[]; Architecture: string };
      expect(byIndex.Layers).toEqual(diffIdsOf(configOf(entry)));
      expect(byIndex.Architecture).toBe('amd64');
    }
  });

  it('gantry reads docker-archive:FILE:@N, and another archive keeps the names (all images, or the one chosen)', async () => {
    const entries = manifestOf(allTags);
    const whole = join(work, 'all-tags-again.tar');
    expect((await gantry('copy', `docker-archive:${allTags}`, `docker-archive:${whole}`)).code).toBe(0);
    expect(manifestOf(whole).map((e) => [configOf(e), [...e.RepoTags].sort()])).toEqual(entries.map((e) => [configOf(e), [...e.RepoTags].sort()]));

    const chosen = join(work, 'second.tar');
    expect((await gantry('copy', `docker-archive:${allTags}:@1`, `docker-archive:${chosen}`)).code).toBe(0);
    expect(manifestOf(chosen).map((e) => [configOf(e), [...e.RepoTags].sort()])).toEqual([[configOf(entries[1]), [...(entries[1]?.RepoTags ?? [])].sort()]]);
  });

  it('@N past the last image is NOT_FOUND saying how many there are; @N as a destination is a usage error', async () => {
    const missing = await gantry('copy', `docker-archive:${allTags}:@2`, `oci:${join(work, 'never')}`);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toMatch(/hint: It holds 2 images: @0 to @1/);
    const destination = await gantry('copy', `oci:${other.dir}:s`, `docker-archive:${join(work, 'never.tar')}:@0`);
    expect(destination.code).toBe(2);
    expect(destination.stderr).toMatch(/a destination cannot be @N/);
    expect(await readdir(work)).not.toContain('never.tar');
  });

  it('an oci-archive of every tag holds every tag (the commits of several images do not overwrite each other)', async () => {
    const tar = join(work, 'all-tags-oci.tar');
    expect((await gantry('copy', '--all-tags', '--platform', 'linux/amd64', repo, `oci-archive:${tar}`)).code).toBe(0);
    const amd64 = multi.images.find((i) => i.platform.architecture === 'amd64');
    for (const [tag, digest] of [['1.0', amd64!.manifest.digest], ['1.0.1', amd64!.manifest.digest], ['2.0', other.digest]] as const) {
      expect(await skopeoDigest(`oci-archive:${tar}:${tag}`)).toBe(digest);
    }
  });
});
