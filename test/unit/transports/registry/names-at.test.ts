import { describe, expect, it } from 'vitest';
import { GantryError, RegistryError } from '../../../../src/errors/index.js';
import type { Reference } from '../../../../src/reference/types.js';
import type { RegistryClient } from '../../../../src/registry/types.js';
import { createRegistryTarget } from '../../../../src/transports/registry/index.js';

const root = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${'a'.repeat(64)}`, size: 100 };
const other = `sha256:${'b'.repeat(64)}`;

/** A client whose manifest HEAD answers per tag: a digest, or an error to throw. */
function clientAnswering(answers: Record<string, string | Error>): RegistryClient {
  return {
    async headManifest(ref: Reference) {
      const answer = answers[ref.tag ?? ''];
      if (answer === undefined) throw new RegistryError({ status: 404, method: 'HEAD', url: 'https://registry.test/x', entries: [{ code: 'MANIFEST_UNKNOWN' }] });
      if (answer instanceof Error) throw answer;
      return { digest: answer, mediaType: root.mediaType, size: root.size, headers: {} };
    },
  } as unknown as RegistryClient;
}

describe('registry target: which names already point at the root', () => {
  it('names the tags whose HEAD gives the root digest; a missing, moved, denied or failing tag is left to be written', async () => {
    const client = clientAnswering({
      same: root.digest,
      moved: other,
      denied: new RegistryError({ status: 403, method: 'HEAD', url: 'https://registry.test/x', entries: [{ code: 'DENIED' }] }),
      down: new GantryError('NETWORK', 'connection reset'),
    });
    const target = createRegistryTarget(client, { registry: 'registry.test', repository: 'team/app', tag: 'same' }, { stateDir: '/nonexistent' });
    expect(await target.namesAt?.(root, ['same', 'moved', 'absent', 'denied', 'down'])).toEqual(['same']);
  });

  it('gives up on Ctrl-C rather than answering', async () => {
    const client = clientAnswering({ same: new GantryError('INTERRUPTED', 'interrupted') });
    const target = createRegistryTarget(client, { registry: 'registry.test', repository: 'team/app', tag: 'same' }, { stateDir: '/nonexistent' });
    await expect(target.namesAt?.(root, ['same'])).rejects.toMatchObject({ code: 'INTERRUPTED' });
  });
});
