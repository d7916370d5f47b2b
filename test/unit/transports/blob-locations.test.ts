import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBlobLocations } from '../../../src/transports/registry/blob-locations.js';
import { makeTempDir, removeTempDir } from '../../helpers/tmp.js';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const D3 = `sha256:${'3'.repeat(64)}`;

let dir: string;
let file: string;
beforeEach(async () => {
  dir = await makeTempDir('blob-locations');
  file = join(dir, 'state', 'blob-locations.json');
});
afterEach(() => removeTempDir(dir));

describe('blob locations', () => {
  it('finds what this run learned, most recent first, and what earlier runs saved', async () => {
    const first = createBlobLocations({ file });
    first.remember('reg.example', 'team/a', D1);
    first.remember('reg.example', 'team/b', D1);
    expect(await first.find('reg.example', D1)).toEqual(['team/b', 'team/a']);
    expect(await first.find('other.example', D1)).toEqual([]);
    await first.save();

    const later = createBlobLocations({ file });
    later.remember('reg.example', 'team/c', D1);
    expect(await later.find('reg.example', D1)).toEqual(['team/c', 'team/b', 'team/a']);
    expect(await later.find('reg.example', D2)).toEqual([]);
  });

  it('keeps what another run saved meanwhile, and the file private (0600)', async () => {
    const one = createBlobLocations({ file });
    const two = createBlobLocations({ file });
    one.remember('reg.example', 'one', D1);
    two.remember('reg.example', 'two', D2);
    await one.save();
    await two.save();
    const fresh = createBlobLocations({ file });
    expect(await fresh.find('reg.example', D1)).toEqual(['one']);
    expect(await fresh.find('reg.example', D2)).toEqual(['two']);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('bounds what it keeps: repositories per digest, and digests per registry, the least recently seen dropped', async () => {
    const locations = createBlobLocations({ file, maxDigests: 2, maxRepositories: 2 });
    for (const repo of ['a', 'b', 'c']) locations.remember('reg.example', repo, D1);
    locations.remember('reg.example', 'x', D2);
    // D1 seen again: D2 is now the least recently seen, and goes when D3 comes.
    locations.remember('reg.example', 'd', D1);
    locations.remember('reg.example', 'y', D3);
    await locations.save();
    const saved = JSON.parse(await readFile(file, 'utf8'));
    expect(Object.keys(saved.registries['reg.example'])).toEqual([D1, D3]);
    expect(saved.registries['reg.example'][D1]).toEqual(['d', 'c']);
  });

  it('writes nothing when it learned nothing', async () => {
    await createBlobLocations({ file }).save();
    await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('treats a file that is not its own as empty, and says so in the debug log', async () => {
    const lines: string[] = [];
    await createBlobLocations({ file: join(dir, 'x.json') }).save();
    await writeFile(join(dir, 'x.json'), '{"version": 7}');
    const locations = createBlobLocations({ file: join(dir, 'x.json'), log: (l) => lines.push(l) });
    expect(await locations.find('reg.example', D1)).toEqual([]);
    expect(lines.join('\n')).toMatch(/ignoring .*x\.json/);
    locations.remember('reg.example', 'a', D1);
    await locations.save();
    expect(await createBlobLocations({ file: join(dir, 'x.json') }).find('reg.example', D1)).toEqual(['a']);
  });

  it('forgets a place that refused a mount, and gives up on hints for a registry after a few refusals in one run', async () => {
    let clock = 0;
    const locations = createBlobLocations({ file, now: () => clock });
    for (const digest of [D1, D2, D3]) {
      locations.remember('reg.example', 'a', digest);
      locations.remember('reg.example', 'b', digest);
    }
    locations.refused('reg.example', 'b', D1);
    expect(await locations.find('reg.example', D1)).toEqual(['a']);
    locations.refused('reg.example', 'a', D1);
    expect(await locations.find('reg.example', D2)).toEqual(['b', 'a']);
    locations.refused('reg.example', 'b', D2);
    // Three refusals: this run asks no more of reg.example's hints.
    expect(await locations.find('reg.example', D3)).toEqual([]);
    await locations.save();
    // The next runs of the day ask no hints there either; after that, what was not refused is offered again.
    expect(await createBlobLocations({ file, now: () => clock }).find('reg.example', D3)).toEqual([]);
    clock += 25 * 60 * 60 * 1000;
    const next = createBlobLocations({ file, now: () => clock });
    expect(await next.find('reg.example', D1)).toEqual([]);
    expect(await next.find('reg.example', D2)).toEqual(['a']);
    expect(await next.find('reg.example', D3)).toEqual(['b', 'a']);
  });

  it('keeps the most recently used registries only, and reads no name a registry could not hold', async () => {
    const locations = createBlobLocations({ file, maxRegistries: 2 });
    for (const registry of ['one.example', 'two.example', 'three.example']) locations.remember(registry, 'app', D1);
    await locations.save();
    const saved = JSON.parse(await readFile(file, 'utf8'));
    expect(Object.keys(saved.registries)).toEqual(['two.example', 'three.example']);
    saved.registries['two.example'][D1] = ['Old/Repo', '../x', 'fine/name'];
    await writeFile(file, JSON.stringify(saved));
    expect(await createBlobLocations({ file }).find('two.example', D1)).toEqual(['fine/name']);
  });

  it('ignores a file larger than any it writes', async () => {
    await writeFile(file.replace('state/', ''), 'x'.repeat(9 * 1024 * 1024));
    const lines: string[] = [];
    expect(await createBlobLocations({ file: file.replace('state/', ''), log: (l) => lines.push(l) }).find('reg.example', D1)).toEqual([]);
    expect(lines.join('\n')).toMatch(/larger than/);
  });

  it("offers what one identity saw to that identity only; a failing identity lookup means no hints, not a failure", async () => {
    const as = (who: string) => createBlobLocations({ file, identity: async () => who });
    const alice = as('alice-key');
    alice.remember('reg.example', 'secret/app', D1);
    await alice.save();
    const anonymous = createBlobLocations({ file });
    anonymous.remember('reg.example', 'public/app', D1);
    await anonymous.save();
    expect(await as('alice-key').find('reg.example', D1)).toEqual(['secret/app']);
    expect(await as('carol-key').find('reg.example', D1)).toEqual([]);
    expect(await createBlobLocations({ file }).find('reg.example', D1)).toEqual(['public/app']);

    const broken = createBlobLocations({ file, identity: async () => Promise.reject(new Error('helper failed')) });
    broken.remember('reg.example', 'other/app', D2);
    expect(await broken.find('reg.example', D1)).toEqual([]);
    // What it learned in this run it may use; it writes nothing under an identity it cannot tell.
    expect(await broken.find('reg.example', D2)).toEqual(['other/app']);
    await broken.save();
    expect(await createBlobLocations({ file }).find('reg.example', D2)).toEqual([]);
  });

  it('a registry that only refused stays without hints for a day, in later runs too; one that mounted does not', async () => {
    let clock = 1_000_000;
    const at = () => createBlobLocations({ file, now: () => clock });
    const first = at();
    for (const digest of [D1, D2, D3]) first.remember('ecr.example', 'a', digest);
    await first.save();
    const refusing = at();
    for (const digest of [D1, D2, D3]) refusing.refused('ecr.example', 'a', digest);
    refusing.remember('ecr.example', 'b', D1);
    await refusing.save();
    const next = at();
    expect(await next.givenUp('ecr.example')).toBe(true);
    expect(await next.find('ecr.example', D1)).toEqual([]);
    clock += 25 * 60 * 60 * 1000;
    expect(await at().find('ecr.example', D1)).toEqual(['b']);

    // Refusals beside a mount that worked: the registry mounts, the stale places were just stale.
    const mixed = at();
    for (const digest of [D1, D2, D3]) mixed.refused('hub.example', 'x', digest);
    mixed.mounted('hub.example');
    expect(await mixed.givenUp('hub.example')).toBe(false);
    await mixed.save();
    expect(await at().givenUp('hub.example')).toBe(false);
  });

  it('writes at most what it reads back: many long names are trimmed, oldest first, to its budget', async () => {
    const locations = createBlobLocations({ file });
    const long = (n: number) => `organization-name/team-name/service-name-with-a-long-suffix-${n}`;
    const digestOf = (i: number) => `sha256:${i.toString(16).padStart(64, '0')}`;
    for (let i = 0; i < 30_000; i++) for (const n of [1, 2, 3]) locations.remember('reg.example', long(n), digestOf(i));
    await locations.save();
    const size = (await stat(file)).size;
    expect(size).toBeLessThanOrEqual(2 * 1024 * 1024);
    const again = createBlobLocations({ file });
    // The newest survive, the oldest went.
    expect(await again.find('reg.example', digestOf(29_999))).toEqual([long(3), long(2), long(1)]);
    expect(await again.find('reg.example', digestOf(0))).toEqual([]);
  });

  it('reads nothing from a file of the first version (it had no identities)', async () => {
    await writeFile(file.replace('state/', ''), JSON.stringify({ version: 1, registries: { 'reg.example': { [D1]: ['private/app'] } } }));
    expect(await createBlobLocations({ file: file.replace('state/', '') }).find('reg.example', D1)).toEqual([]);
  });
});
