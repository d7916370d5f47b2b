import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UNTAG_ARTIFACT_TYPE, UNTAG_PLACEHOLDER_ANNOTATION } from '../../src/registry/untag.js';
import { buildOciLayout, type OciLayoutResult } from '../helpers/oci-fixtures.js';
import { startRegistry, type AccessLogEntry, type RunningRegistry } from '../helpers/registry.js';
import { runCli, type RunOptions } from '../helpers/run-cli.js';
import { skopeoDigest } from '../helpers/skopeo.js';
import { makeTempDir, removeTempDir } from '../helpers/tmp.js';

// tag, untag and delete against the real distribution registry (2.8), with
// deletes enabled and disabled, and tag --local in gantry's store.

let reg: RunningRegistry;
let readOnly: RunningRegistry;
let work: string;
let imageA: OciLayoutResult;
let imageB: OciLayoutResult;
let env: NodeJS.ProcessEnv;

const gantry = (args: string[], options: Omit<RunOptions, 'env'> = {}) => runCli(['--insecure', ...args], { env, ...options });
const json = async (...args: string[]) => {
  const r = await gantry([...args, '--json']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
};
/** The digest a tag names, or undefined when the registry does not have it. */
const digestOf = async (ref: string): Promise<string | undefined> => {
  const r = await gantry(['digest', ref]);
  if (r.code === 4) return undefined;
  expect(r.stderr).toBe('');
  return r.stdout.trim();
};
const tagsOf = async (repo: string): Promise<string[]> => ((await json('tags', repo)) as string[]).sort();
const push = async (image: OciLayoutResult, ref: string) => {
  const r = await gantry(['push', '-q', `oci:${image.dir}:${image.tag}`, ref]);
  expect(r.stderr).toBe('');
  expect(r.stdout.trim()).toBe(image.digest);
};
/** The registry's access log lines written while `fn` ran. */
const requestsDuring = async (registry: RunningRegistry, fn: () => Promise<unknown>): Promise<AccessLogEntry[]> => {
  const before = (await registry.accessLog()).length;
  await fn();
  return (await registry.accessLog()).slice(before);
};

beforeAll(async () => {
  work = await makeTempDir('cli-tag-delete');
  [reg, readOnly] = await Promise.all([startRegistry({ mode: 'plain', deleteEnabled: true }), startRegistry({ mode: 'plain' })]);
  env = { HOME: work, DOCKER_CONFIG: join(work, 'docker'), GANTRY_CONFIG: join(work, 'gantry.json'), GANTRY_HOME: join(work, 'gantry-home') };
  [imageA, imageB] = await Promise.all([
    buildOciLayout(join(work, 'a'), { tag: 'a', platforms: ['linux/amd64', 'linux/arm64/v8'], layers: 2, layerSize: 16 * 1024, seed: 'tag-a', mediaTypes: 'oci' }),
    buildOciLayout(join(work, 'b'), { tag: 'b', layers: 1, layerSize: 8 * 1024, seed: 'tag-b', mediaTypes: 'docker' }),
  ]);
  expect(imageA.digest).not.toBe(imageB.digest);
}, 120_000);

afterAll(async () => {
  await Promise.all([reg?.stop(), readOnly?.stop()]);
  await removeTempDir(work);
});

describe('gantry tag', () => {
  it('PUTs the manifest bytes it GETs once under each new tag, and moves no blob', async () => {
    await push(imageA, `${reg.host}/team/app:build-1`);
    let result: { digest: string; tags: Array<{ tag: string; action: string; from: string | null }> } | undefined;
    const requests = await requestsDuring(reg, async () => {
      result = await json('tag', `${reg.host}/team/app:build-1`, 'v2', 'stable');
    });
    expect(result?.digest).toBe(imageA.digest);
    expect(result?.tags.map((t) => [t.tag, t.action, t.from])).toEqual([
      ['v2', 'create', null],
      ['stable', 'create', null],
    ]);
    expect(await skopeoDigest(`docker://${reg.host}/team/app:v2`, { tlsVerify: false })).toBe(imageA.digest);
    expect(await digestOf(`${reg.host}/team/app:stable`)).toBe(imageA.digest);
    const manifestGets = requests.filter((r) => r.method === 'GET' && r.path.includes('/manifests/'));
    expect(manifestGets.map((r) => r.path)).toEqual(['/v2/team/app/manifests/build-1']);
    expect(requests.filter((r) => r.method === 'PUT').map((r) => r.path)).toEqual(['/v2/team/app/manifests/v2', '/v2/team/app/manifests/stable']);
    expect(requests.filter((r) => r.path.includes('/blobs/'))).toEqual([]);
  });

  it('leaves a tag that already names the digest alone', async () => {
    const requests = await requestsDuring(reg, async () => {
      const r = await gantry(['tag', `${reg.host}/team/app:build-1`, 'v2']);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`unchanged ${reg.host}/team/app:v2: already ${imageA.digest}\n`);
    });
    expect(requests.filter((r) => r.method === 'PUT')).toEqual([]);
  });

  it('moves a tag from another image, and says from which digest', async () => {
    await push(imageB, `${reg.host}/team/app:other`);
    const r = await gantry(['tag', `${reg.host}/team/app:other`, 'stable']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`moved ${reg.host}/team/app:stable: ${imageA.digest} → ${imageB.digest}\n`);
    expect(await digestOf(`${reg.host}/team/app:stable`)).toBe(imageB.digest);
  });

  it('tags into another repository of the registry by mounting the content first', async () => {
    let result: { copied: Array<{ repository: string; action: string; blobs: Array<{ action: string; mountedFrom?: string }> }> } | undefined;
    const requests = await requestsDuring(reg, async () => {
      result = await json('tag', `${reg.host}/team/app:build-1`, `${reg.host}/release/app:1.0`);
    });
    expect(result?.copied).toHaveLength(1);
    expect(result?.copied[0]?.repository).toBe(`${reg.host}/release/app`);
    expect(result?.copied[0]?.blobs.length).toBeGreaterThan(0);
    expect(result?.copied[0]?.blobs.every((b) => b.action === 'mounted' && b.mountedFrom === 'team/app')).toBe(true);
    expect(requests.filter((r) => r.method === 'PATCH')).toEqual([]);
    expect(requests.filter((r) => r.method === 'GET' && r.path.includes('/blobs/'))).toEqual([]);
    expect(await skopeoDigest(`docker://${reg.host}/release/app:1.0`, { tlsVerify: false })).toBe(imageA.digest);
  });

  it('refuses a target on another registry, before any request, with a hint to copy', async () => {
    const requests = await requestsDuring(reg, async () => {
      const r = await gantry(['tag', `${reg.host}/team/app:build-1`, `${readOnly.host}/team/app:v2`]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('is on another registry');
      expect(r.stderr).toContain(`hint: Tags only name content a registry already has; copy it there: gantry copy ${reg.host}/team/app:build-1 ${readOnly.host}/team/app:v2`);
    });
    expect(requests).toEqual([]);
    expect(await digestOf(`${readOnly.host}/team/app:v2`)).toBeUndefined();
  });

  it('refuses a digest as a target', async () => {
    const r = await gantry(['tag', `${reg.host}/team/app:build-1`, `${reg.host}/team/app@${imageA.digest}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('a target names a tag, not a digest');
  });
});

describe('gantry tag --semver-aliases', () => {
  const repo = () => `${reg.host}/team/sv`;

  it('writes 1.2, 1 and latest from the first release', async () => {
    await push(imageA, `${repo()}:build-a`);
    const result = await json('tag', '--semver-aliases', `${repo()}:build-a`, '1.2.3');
    expect(result.tags.map((t: { tag: string; action: string; alias: boolean }) => `${t.tag}:${t.action}:${t.alias}`)).toEqual([
      '1.2.3:create:false',
      '1.2:create:true',
      '1:create:true',
      'latest:create:true',
    ]);
    for (const tag of ['1.2.3', '1.2', '1', 'latest']) expect(await digestOf(`${repo()}:${tag}`)).toBe(imageA.digest);
  });

  it('a backport moves only its minor line: 1 and latest stay on the higher release', async () => {
    await push(imageB, `${repo()}:build-b`);
    const r = await gantry(['tag', '--semver-aliases', `${repo()}:build-b`, '1.1.9']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')).toEqual([
      `created ${repo()}:1.1.9: ${imageB.digest}`,
      `created ${repo()}:1.1 (alias): ${imageB.digest}`,
      `kept ${repo()}:1 (alias) at ${imageA.digest}: 1.2.3 is newer`,
      `kept ${repo()}:latest (alias) at ${imageA.digest}: 1.2.3 is newer`,
      '',
    ]);
    expect(await digestOf(`${repo()}:1.1`)).toBe(imageB.digest);
    expect(await digestOf(`${repo()}:1`)).toBe(imageA.digest);
    expect(await digestOf(`${repo()}:latest`)).toBe(imageA.digest);
  });

  it('--dry-run shows each alias that would move, from digest to digest, and writes nothing', async () => {
    const requests = await requestsDuring(reg, async () => {
      const r = await gantry(['tag', '--semver-aliases', '--dry-run', `${repo()}:build-b`, '1.2.4']);
      expect(r.code).toBe(0);
      expect(r.stdout.split('\n')).toEqual([
        `would create ${repo()}:1.2.4: ${imageB.digest}`,
        `would move ${repo()}:1.2 (alias): ${imageA.digest} → ${imageB.digest}`,
        `would move ${repo()}:1 (alias): ${imageA.digest} → ${imageB.digest}`,
        `would move ${repo()}:latest (alias): ${imageA.digest} → ${imageB.digest}`,
        '',
      ]);
    });
    expect(requests.filter((r) => r.method !== 'GET' && r.method !== 'HEAD')).toEqual([]);
    expect(await tagsOf(repo())).not.toContain('1.2.4');
    expect(await digestOf(`${repo()}:latest`)).toBe(imageA.digest);
  });

  it('takes the version from the source tag when no target is given; aliases already there are no-ops', async () => {
    const requests = await requestsDuring(reg, async () => {
      const result = await json('tag', '--semver-aliases', `${repo()}:1.2.3`);
      expect(result.tags.map((t: { tag: string; action: string }) => `${t.tag}:${t.action}`)).toEqual(['1.2:unchanged', '1:unchanged', 'latest:unchanged']);
    });
    expect(requests.filter((r) => r.method === 'PUT')).toEqual([]);
  });

  it('a prerelease moves no alias', async () => {
    const result = await json('tag', '--semver-aliases', `${repo()}:build-b`, '2.0.0-rc.1');
    expect(result.tags.map((t: { tag: string }) => t.tag)).toEqual(['2.0.0-rc.1']);
    expect(result.held.map((h: { tag: string; reason: string }) => `${h.tag}:${h.reason}`)).toEqual(['2.0:prerelease', '2:prerelease', 'latest:prerelease']);
    expect(await digestOf(`${repo()}:latest`)).toBe(imageA.digest);
  });

  it('needs a MAJOR.MINOR.PATCH version to start from', async () => {
    const r = await gantry(['tag', '--semver-aliases', `${repo()}:build-b`, 'stable']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--semver-aliases needs a MAJOR.MINOR.PATCH tag');
  });
});

describe('gantry tag --local', () => {
  it("names an image of the local store again, as docker tag does, across repositories and registries", async () => {
    const pulled = await gantry(['pull', '-q', `${reg.host}/team/app:build-1`]);
    expect(pulled.stdout.trim()).toBe(imageA.digest);
    const result = await json('tag', '--local', `${reg.host}/team/app:build-1`, 'v9', 'example.com/mine/app:1.0');
    expect(result.tags.map((t: { reference: string; action: string }) => `${t.reference}:${t.action}`)).toEqual([
      `${reg.host}/team/app:v9:create`,
      'example.com/mine/app:1.0:create',
    ]);
    const images = (await json('images')) as Array<{ name: string; tag: string; digest: string }>;
    const named = images.filter((i) => i.digest === imageA.digest).map((i) => `${i.name}:${i.tag}`);
    expect(named).toEqual(expect.arrayContaining([`${reg.host}/team/app:build-1`, `${reg.host}/team/app:v9`, 'example.com/mine/app:1.0']));
    // Nothing was written to the registry.
    expect(await digestOf(`${reg.host}/team/app:v9`)).toBeUndefined();
  });

  it('--semver-aliases --dry-run works on the local store too and changes nothing', async () => {
    const result = await json('tag', '--local', '--semver-aliases', '--dry-run', `${reg.host}/team/app:build-1`, '3.0.0');
    expect(result.dryRun).toBe(true);
    expect(result.tags.map((t: { tag: string; action: string }) => `${t.tag}:${t.action}`)).toEqual(['3.0.0:create', '3.0:create', '3:create', 'latest:create']);
    const images = (await json('images')) as Array<{ tag: string }>;
    expect(images.map((i) => i.tag)).not.toContain('3.0.0');
  });

  it('fails with exit 4 for an image the store does not hold', async () => {
    const r = await gantry(['tag', '--local', 'nothing/here:1', 'v2']);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('no image nothing/here:1 in the local store');
  });
});

describe('gantry delete', () => {
  const repo = () => `${reg.host}/team/del`;

  beforeAll(async () => {
    await push(imageA, `${repo()}:a`);
    expect((await gantry(['tag', `${repo()}:a`, 'b'])).code).toBe(0);
    await push(imageB, `${repo()}:c`);
  });

  it('refuses without --yes when standard input is not a terminal (exit 2), before any request', async () => {
    const requests = await requestsDuring(reg, async () => {
      const r = await gantry(['delete', `${repo()}:a`]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('standard input is not a terminal');
      expect(r.stderr).toContain('hint: Add --yes');
    });
    expect(requests).toEqual([]);
  });

  it('--dry-run names every tag that goes with the manifest and deletes nothing', async () => {
    const r = await gantry(['delete', '--dry-run', `${repo()}:a`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`Would delete ${repo()}@${imageA.digest}: it takes the tags a, b\n`);
    expect(await tagsOf(repo())).toEqual(['a', 'b', 'c']);
  });

  it('on a terminal, asks and names the other tags; anything but yes deletes nothing', async () => {
    const r = await gantry(['delete', `${repo()}:a`], { tty: true, stdin: 'n\n' });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`Delete ${repo()}@${imageA.digest}? It also removes the tag b. [y/N]`);
    expect(r.stderr).toContain('Nothing deleted.');
    expect(await tagsOf(repo())).toEqual(['a', 'b', 'c']);
  });

  it('on a terminal, deletes after a yes: the manifest and every tag of it go, other images stay', async () => {
    const r = await gantry(['delete', `${repo()}:a`], { tty: true, stdin: 'y\n' });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Deleted: ${repo()}@${imageA.digest}`);
    expect(r.stdout).toContain(`Untagged: ${repo()}:b`);
    expect(await tagsOf(repo())).toEqual(['c']);
    expect(await digestOf(`${repo()}@${imageA.digest}`)).toBeUndefined();
    expect(await digestOf(`${repo()}:c`)).toBe(imageB.digest);
  });

  it('--yes deletes by digest too, with a JSON result', async () => {
    const result = await json('delete', '--yes', `${repo()}@${imageB.digest}`);
    expect(result).toEqual({ reference: `${repo()}@${imageB.digest}`, digest: imageB.digest, mediaType: imageB.root.mediaType, tags: ['c'], deleted: true, dryRun: false });
    expect(await tagsOf(repo())).toEqual([]);
  });

  it('exit 4 for a tag that does not exist', async () => {
    const r = await gantry(['delete', '--yes', `${repo()}:nope`]);
    expect(r.code).toBe(4);
  });

  it('says clearly when the registry has deletes disabled', async () => {
    await push(imageB, `${readOnly.host}/team/app:1`);
    const r = await gantry(['delete', '--yes', `${readOnly.host}/team/app:1`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('deletes are disabled on this registry');
    expect(r.stderr).toContain('storage.delete.enabled');
    expect(await digestOf(`${readOnly.host}/team/app:1`)).toBe(imageB.digest);
  });

  it('refuses a reference without a tag or digest', async () => {
    const r = await gantry(['delete', '--yes', `${reg.host}/team/app`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('name the manifest to delete');
  });
});

describe('gantry untag', () => {
  const repo = () => `${reg.host}/team/ut`;

  it('removes one tag and keeps the image for its other tags (distribution 2.8: through a placeholder)', async () => {
    await push(imageA, `${repo()}:v1`);
    expect((await gantry(['tag', `${repo()}:v1`, 'v2'])).code).toBe(0);
    const result = await json('untag', `${repo()}:v1`);
    expect(result).toMatchObject({ reference: `${repo()}:v1`, tag: 'v1', digest: imageA.digest, method: 'placeholder' });
    expect(result.placeholder).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await digestOf(`${repo()}:v2`)).toBe(imageA.digest);
    expect(await tagsOf(repo())).toEqual(['v2']);
    expect(await digestOf(`${repo()}@${result.placeholder}`)).toBeUndefined();
    expect(await skopeoDigest(`docker://${repo()}@${imageA.digest}`, { tlsVerify: false })).toBe(imageA.digest);
  });

  it('keeps an image that had no other tag, by digest', async () => {
    await push(imageB, `${repo()}:only`);
    const r = await gantry(['untag', `${repo()}:only`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`Untagged: ${repo()}:only\n`);
    expect(await tagsOf(repo())).toEqual(['v2']);
    expect(await digestOf(`${repo()}@${imageB.digest}`)).toBe(imageB.digest);
  });

  it('finishes an interrupted untag: a tag left on a placeholder is cleaned up', async () => {
    const placeholder = await putPlaceholder(reg, 'team/ut', 'stuck');
    const result = await json('untag', `${repo()}:stuck`);
    expect(result).toMatchObject({ method: 'placeholder', placeholder, resumed: true });
    expect(await tagsOf(repo())).toEqual(['v2']);
    expect(await digestOf(`${repo()}@${placeholder}`)).toBeUndefined();
  });

  it('changes nothing where deletes are disabled, and says so', async () => {
    await push(imageA, `${readOnly.host}/team/ut:v1`);
    const requests = await requestsDuring(readOnly, async () => {
      const r = await gantry(['untag', `${readOnly.host}/team/ut:v1`]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('deletes are disabled on this registry');
    });
    expect(requests.filter((r) => r.method === 'PUT' || r.method === 'POST')).toEqual([]);
    expect(await digestOf(`${readOnly.host}/team/ut:v1`)).toBe(imageA.digest);
  });

  it('refuses a digest reference, pointing to delete', async () => {
    const r = await gantry(['untag', `${repo()}@${imageA.digest}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('gantry delete');
  });

  it('exit 4 for a tag that does not exist', async () => {
    const r = await gantry(['untag', `${repo()}:nope`]);
    expect(r.code).toBe(4);
  });
});

/** What an untag killed between moving the tag and deleting the placeholder leaves: the tag on a placeholder. */
async function putPlaceholder(registry: RunningRegistry, repository: string, tag: string): Promise<string> {
  const empty = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';
  const start = await fetch(`${registry.url}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
  expect(start.status).toBe(202);
  const location = new URL(start.headers.get('location') as string, registry.url);
  location.searchParams.set('digest', empty);
  const put = await fetch(location, { method: 'PUT', body: '{}', headers: { 'content-type': 'application/octet-stream' } });
  expect(put.status).toBe(201);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    artifactType: UNTAG_ARTIFACT_TYPE,
    config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: empty, size: 2 },
    layers: [],
    annotations: { [UNTAG_PLACEHOLDER_ANNOTATION]: tag },
  });
  const res = await fetch(`${registry.url}/v2/${repository}/manifests/${tag}`, {
    method: 'PUT',
    body: manifest,
    headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
  });
  expect(res.status).toBe(201);
  return res.headers.get('docker-content-digest') as string;
}
