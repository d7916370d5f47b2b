import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { digestOf } from '../../../../src/digest/index.js';
import type { Descriptor } from '../../../../src/media/types.js';
import type { Reference } from '../../../../src/reference/types.js';
import type { RegistryClient, UploadSession } from '../../../../src/registry/types.js';
import { createRegistryTarget } from '../../../../src/transports/registry/index.js';
import { makeTempDir, removeTempDir } from '../../../helpers/tmp.js';

// Two copies in one process pushing the same blob into one repository (mirror
// images sharing a layer) must not write into one upload session at once: the
// second waits for the first and then finds the blob there.

const blob = Buffer.from('the same layer, pushed by two copies at once');
const desc: Descriptor = {
  mediaType: 'application/vnd.oci.image.layer.v1.tar',
  digest: digestOf(blob),
  size: blob.length,
};
const ref: Reference = { registry: 'registry.test', repository: 'team/app', tag: 'v1' };
const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await removeTempDir(dir);
});

/** A registry that stores one blob: uploads take a moment, and only one may be open at a time. */
function fakeClient() {
  const calls = { startUpload: 0, statBlob: 0, open: 0, maxOpen: 0 };
  let stored = false;
  const client = {
    async statBlob() {
      calls.statBlob++;
      return stored ? { size: desc.size } : undefined;
    },
    async resumeUpload() {
      return undefined;
    },
    async startUpload(): Promise<UploadSession> {
      calls.startUpload++;
      calls.open++;
      calls.maxOpen = Math.max(calls.maxOpen, calls.open);
      let offset = 0;
      return {
        location: `/v2/team/app/blobs/uploads/${calls.startUpload}`,
        get offset() {
          return offset;
        },
        async write(body: Readable) {
          for await (const chunk of body as AsyncIterable<Buffer>) offset += chunk.length;
          await new Promise((r) => setTimeout(r, 20));
          return offset;
        },
        async finish() {
          calls.open--;
          stored = true;
          return desc.digest;
        },
        async finishWith(body: Readable) {
          for await (const chunk of body as AsyncIterable<Buffer>) offset += chunk.length;
          await new Promise((r) => setTimeout(r, 20));
          calls.open--;
          stored = true;
          return desc.digest;
        },
        async cancel() {
          calls.open--;
          return true;
        },
      } as UploadSession;
    },
  };
  return { client: client as unknown as RegistryClient, calls };
}

describe('the registry target with two copies of one blob in flight', () => {
  it('uploads once: the second write waits, then finds the blob and sends nothing', async () => {
    const stateDir = await makeTempDir('upload-turns');
    dirs.push(stateDir);
    const { client, calls } = fakeClient();
    const targets = [createRegistryTarget(client, ref, { stateDir }), createRegistryTarget(client, ref, { stateDir })];
    const progress: number[] = [];
    await Promise.all(targets.map((t) => t.writeBlob(desc, Readable.from([blob]), { from: 0, onProgress: (b) => progress.push(b) })));
    expect(calls.startUpload).toBe(1);
    expect(calls.maxOpen).toBe(1);
    // The waiting copy reports the blob as complete.
    expect(progress).toContain(desc.size);
  });

  it('costs no extra request when nobody else is uploading the blob', async () => {
    const stateDir = await makeTempDir('upload-turns');
    dirs.push(stateDir);
    const { client, calls } = fakeClient();
    await createRegistryTarget(client, ref, { stateDir }).writeBlob(desc, Readable.from([blob]), { from: 0 });
    expect(calls.statBlob).toBe(0);
    expect(calls.startUpload).toBe(1);
  });
});
