import { describe, expect, it } from 'vitest';
import { GantryError, RegistryError } from '../../../../src/errors/index.js';
import type { Reference } from '../../../../src/reference/types.js';
import type { RegistryClient } from '../../../../src/registry/types.js';
import { createBlobLocations, createRegistryTarget } from '../../../../src/transports/registry/index.js';

const blob = { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: `sha256:${'c'.repeat(64)}`, size: 10 };
const ref: Reference = { registry: 'registry.test', repository: 'team/new', tag: 'v1' };

/** A client whose mounts answer per source repository: true, false (a 202), or an error to throw. */
function mounting(answers: Record<string, boolean | Error>): { client: RegistryClient; asked: string[] } {
  const asked: string[] = [];
  const client = {
    async mountBlob(_ref: Reference, _digest: string, from: string) {
      asked.push(from);
      const answer = answers[from] ?? false;
      if (answer instanceof Error) throw answer;
      return answer;
    },
  } as unknown as RegistryClient;
  return { client, asked };
}

function remembered(...repositories: string[]) {
  const locations = createBlobLocations({ file: '/nonexistent/blob-locations.json' });
  for (const repository of [...repositories].reverse()) locations.remember(ref.registry, repository, blob.digest);
  return locations;
}

describe('registry target: mounts from where a blob was seen', () => {
  it("tries the source's repository first, then the last place it was seen, two tries in all", async () => {
    const { client, asked } = mounting({ 'seen/two': true });
    const target = createRegistryTarget(client, ref, { stateDir: '/nonexistent', locations: remembered('seen/one', 'seen/two', 'seen/three') });
    expect(await target.tryMount?.(blob, { registry: ref.registry, repository: 'team/src' })).toBe(false);
    expect(asked).toEqual(['team/src', 'seen/one']);
    const second = mounting({ 'seen/two': true });
    const fromHints = createRegistryTarget(second.client, ref, { stateDir: '/nonexistent', locations: remembered('seen/two', 'seen/one') });
    // A source with no repository (a layout): the hints alone, and the answer names the place.
    expect(await fromHints.tryMount?.(blob, {})).toBe('seen/two');
  });

  it('never fails a copy over a remembered place: a 403, a 404, a token service saying no all mean no mount, and the place is forgotten', async () => {
    const denied = new RegistryError({ status: 403, method: 'POST', url: 'https://registry.test/v2/x', entries: [{ code: 'DENIED' }] });
    const unknown = new RegistryError({ status: 404, method: 'POST', url: 'https://registry.test/v2/x', entries: [{ code: 'NAME_UNKNOWN' }] });
    const token = new GantryError('AUTH_FAILED', 'the token service rejected the credentials');
    for (const error of [denied, unknown, token]) {
      const locations = remembered('gone/one', 'gone/two');
      const { client, asked } = mounting({ 'gone/one': error, 'gone/two': error });
      const target = createRegistryTarget(client, ref, { stateDir: '/nonexistent', locations });
      expect(await target.tryMount?.(blob, {})).toBe(false);
      expect(asked).toEqual(['gone/one', 'gone/two']);
      expect(await locations.find(ref.registry, blob.digest)).toEqual([]);
    }
  });

  it("still reports a failing mount from the source's own repository, and Ctrl-C always", async () => {
    const denied = new RegistryError({ status: 403, method: 'POST', url: 'https://registry.test/v2/x', entries: [{ code: 'DENIED' }] });
    const target = createRegistryTarget(mounting({ 'team/src': denied }).client, ref, { stateDir: '/nonexistent' });
    await expect(target.tryMount?.(blob, { registry: ref.registry, repository: 'team/src' })).rejects.toBe(denied);
    const interrupted = new GantryError('INTERRUPTED', 'interrupted');
    const hinted = createRegistryTarget(mounting({ 'seen/one': interrupted }).client, ref, { stateDir: '/nonexistent', locations: remembered('seen/one') });
    await expect(hinted.tryMount?.(blob, {})).rejects.toBe(interrupted);
  });

  it("treats a remembered repository that has the source's name, on another registry, as a hint: its refusal does not fail the copy", async () => {
    const denied = new RegistryError({ status: 403, method: 'POST', url: 'https://registry.test/v2/x', entries: [{ code: 'DENIED' }] });
    const locations = remembered('team/app');
    const { client, asked } = mounting({ 'team/app': denied });
    const target = createRegistryTarget(client, ref, { stateDir: '/nonexistent', locations });
    // The source is team/app on another registry: the same name here is only remembered.
    expect(await target.tryMount?.(blob, { registry: 'elsewhere.test', repository: 'team/app' })).toBe(false);
    expect(asked).toEqual(['team/app']);
    expect(await locations.find(ref.registry, blob.digest)).toEqual([]);
  });

  it('asks no remembered place once the run has given up on the registry', async () => {
    const locations = remembered('seen/one', 'seen/two');
    const other = `sha256:${'d'.repeat(64)}`;
    for (const repository of ['x', 'y', 'z']) locations.refused(ref.registry, repository, other);
    const { client, asked } = mounting({});
    const target = createRegistryTarget(client, ref, { stateDir: '/nonexistent', locations });
    expect(await target.tryMount?.(blob, {})).toBe(false);
    expect(asked).toEqual([]);
  });

  it("counts a mount from the source's own repository as the registry mounting: stale places refused beside it give nothing up", async () => {
    const locations = remembered();
    const other = `sha256:${'e'.repeat(64)}`;
    for (const repository of ['x', 'y', 'z']) locations.refused(ref.registry, repository, other);
    const { client } = mounting({ 'team/src': true });
    const target = createRegistryTarget(client, ref, { stateDir: '/nonexistent', locations });
    expect(await target.tryMount?.(blob, { registry: ref.registry, repository: 'team/src' })).toBe(true);
    expect(await locations.givenUp(ref.registry)).toBe(false);
  });
});
