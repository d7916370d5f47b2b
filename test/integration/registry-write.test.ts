import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Credential } from '../../src/credentials/types.js';
import type { Reference } from '../../src/reference/types.js';
import { createRegistryClient, type RegistryClientOptions } from '../../src/registry/index.js';
import type { UploadSession } from '../../src/registry/types.js';
import { DEFAULT_USERS, startRegistry, type AccessLogEntry, type RunningRegistry } from '../helpers/registry.js';
import { rejection } from '../helpers/rejection.js';

// The registry write API (blob uploads, mounts, manifest PUT and DELETE)
// against the real distribution registry: plain HTTP with deletes disabled,
// and token auth over TLS with deletes enabled.

const CHUNK = 256 * 1024;
const SLICE = 64 * 1024;

interface Blob {
  bytes: Buffer;
  digest: string;
  size: number;
}

function blobOf(bytes: Buffer): Blob {
  return { bytes, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, size: bytes.length };
}

const randomBlob = (size: number): Blob => blobOf(randomBytes(size));

/**
 * The bytes as a stream of 64 KiB slices that fails once `failAfter` bytes
 * were read (a multiple of the slice: every byte before it has been consumed
 * when the failure comes). `counter.read` counts the bytes handed out.
 */
function sliced(bytes: Buffer, options: { failAfter?: number; counter?: { read: number } } = {}): Readable {
  let position = 0;
  return new Readable({
    read() {
      if (options.failAfter !== undefined && position >= options.failAfter) {
        this.destroy(new Error('the source broke off'));
        return;
      }
      if (position >= bytes.length) {
        this.push(null);
        return;
      }
      const slice = bytes.subarray(position, position + SLICE);
      position += slice.length;
      if (options.counter) options.counter.read += slice.length;
      this.push(slice);
    },
  });
}

async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Access log entries that sent blob bytes (PATCH, or PUT of an upload) into `repository`. */
function blobWrites(entries: AccessLogEntry[], repository: string): AccessLogEntry[] {
  return entries.filter((e) => (e.method === 'PATCH' || e.method === 'PUT') && e.path.startsWith(`/v2/${repository}/blobs/uploads/`));
}

interface Setup {
  registry: RunningRegistry;
  options: (over?: Partial<RegistryClientOptions>) => RegistryClientOptions;
}

function writeBehaviour(name: string, get: () => Setup) {
  const ref = (repository: string): Reference => ({ registry: get().registry.host, repository });
  const client = (over: Partial<RegistryClientOptions> = {}) => createRegistryClient(get().options({ uploadChunkBytes: CHUNK, ...over }));

  async function push(repository: string, blob: Blob): Promise<void> {
    const c = client();
    try {
      const session = await c.startUpload(ref(repository));
      await session.write(sliced(blob.bytes), { length: blob.size });
      await session.finish(blob.digest);
    } finally {
      await c.close();
    }
  }

  describe(name, () => {
    it('uploads a blob in chunks, persisting each confirmed chunk, and serves it back', async () => {
      const blob = randomBlob(CHUNK * 3 + 1234);
      const c = client();
      try {
        const session = await c.startUpload(ref('write/scratch'));
        expect(session.offset).toBe(0);
        const confirmed: number[] = [];
        const progress: number[] = [];
        const offset = await session.write(sliced(blob.bytes), {
          length: blob.size,
          onChunk: (state) => {
            confirmed.push(state.offset);
          },
          onProgress: (bytes) => progress.push(bytes),
        });
        expect(offset).toBe(blob.size);
        expect(confirmed).toEqual([CHUNK, 2 * CHUNK, 3 * CHUNK, blob.size]);
        expect(progress.at(-1)).toBe(blob.size);
        expect(await session.finish(blob.digest)).toBe(blob.digest);
        expect(await c.statBlob(ref('write/scratch'), blob.digest)).toMatchObject({ size: blob.size });
        const opened = await c.openBlob(ref('write/scratch'), blob);
        expect((await readAll(opened.body)).equals(blob.bytes)).toBe(true);
      } finally {
        await c.close();
      }
      const patches = (await get().registry.accessLog()).filter((e) => e.method === 'PATCH' && e.path.startsWith('/v2/write/scratch/'));
      expect(patches).toHaveLength(4);
    });

    it('reports a blob that is not there as undefined', async () => {
      const c = client();
      try {
        expect(await c.statBlob(ref('write/scratch'), randomBlob(10).digest)).toBeUndefined();
      } finally {
        await c.close();
      }
    });

    it('mounts a blob from another repository without sending its bytes', async () => {
      const blob = randomBlob(CHUNK + 99);
      await push('write/mount-from', blob);
      const before = (await get().registry.accessLog()).length;
      const c = client();
      try {
        expect(await c.mountBlob(ref('write/mount-to'), blob.digest, 'write/mount-from')).toBe(true);
        expect(await c.statBlob(ref('write/mount-to'), blob.digest)).toMatchObject({ size: blob.size });
      } finally {
        await c.close();
      }
      const after = (await get().registry.accessLog()).slice(before);
      expect(after.filter((e) => e.method === 'POST' && e.path.includes('mount=') && e.status === 201)).toHaveLength(1);
      expect(blobWrites(after, 'write/mount-to')).toEqual([]);
    });

    it('answers false to a mount the registry refuses, and cancels the session it opened instead', async () => {
      const blob = randomBlob(1000);
      const before = (await get().registry.accessLog()).length;
      const c = client();
      try {
        expect(await c.mountBlob(ref('write/mount-to'), blob.digest, 'write/mount-from')).toBe(false);
        expect(await c.statBlob(ref('write/mount-to'), blob.digest)).toBeUndefined();
      } finally {
        await c.close();
      }
      const after = (await get().registry.accessLog()).slice(before);
      expect(after.filter((e) => e.method === 'POST' && e.status === 202)).toHaveLength(1);
      expect(after.filter((e) => e.method === 'DELETE' && e.path.startsWith('/v2/write/mount-to/blobs/uploads/') && e.status === 204)).toHaveLength(1);
    });

    it('keeps what a body that broke off mid-chunk delivered, and resumes there sending only the rest', async () => {
      const blob = randomBlob(CHUNK * 4);
      const failAfter = CHUNK + 3 * SLICE;
      let saved: { location: string; offset: number } | undefined;
      const first = client();
      try {
        const session = await first.startUpload(ref('write/resume'));
        const failure = await session.write(sliced(blob.bytes, { failAfter }), { length: blob.size, onChunk: (s) => void (saved = s) }).then(
          () => undefined,
          (e: unknown) => e as Error,
        );
        expect(failure?.message).toBe('the source broke off');
        // The chunk in flight was ended early, not cut: the registry confirmed every byte it got.
        expect(session.offset).toBe(failAfter);
        expect(saved?.offset).toBe(failAfter);
      } finally {
        await first.close();
      }
      const second = client();
      try {
        const resumed = await second.resumeUpload(ref('write/resume'), saved?.location ?? '', { expectedOffset: saved?.offset ?? 0 });
        expect(resumed?.offset).toBe(failAfter);
        const counter = { read: 0 };
        await resumed?.write(sliced(blob.bytes.subarray(failAfter), { counter }), { length: blob.size - failAfter });
        expect(counter.read).toBe(blob.size - failAfter);
        await resumed?.finish(blob.digest);
        const opened = await second.openBlob(ref('write/resume'), blob);
        expect((await readAll(opened.body)).equals(blob.bytes)).toBe(true);
      } finally {
        await second.close();
      }
    });

    it('stops at an abort, with the session resumable at the bytes the registry confirmed', async () => {
      const blob = randomBlob(CHUNK * 3);
      const controller = new AbortController();
      let saved: { location: string; offset: number } | undefined;
      const first = client();
      try {
        const session = await first.startUpload(ref('write/abort'));
        const err = await rejection(
          session.write(sliced(blob.bytes), {
            length: blob.size,
            signal: controller.signal,
            onChunk: (s) => void (saved = s),
            onProgress: (bytes) => {
              if (bytes >= CHUNK + SLICE) controller.abort();
            },
          }),
        );
        expect(err.code).toBe('INTERRUPTED');
        expect(saved?.offset).toBeGreaterThanOrEqual(CHUNK + SLICE);
        expect(saved?.offset).toBe(session.offset);
      } finally {
        await first.close();
      }
      const second = client();
      try {
        const resumed = await second.resumeUpload(ref('write/abort'), saved?.location ?? '', { expectedOffset: saved?.offset ?? 0 });
        const offset = resumed?.offset ?? 0;
        expect(offset).toBe(saved?.offset);
        await resumed?.write(sliced(blob.bytes.subarray(offset)), { length: blob.size - offset });
        await resumed?.finish(blob.digest);
        expect(await second.statBlob(ref('write/abort'), blob.digest)).toMatchObject({ size: blob.size });
      } finally {
        await second.close();
      }
    });

    it('reports a cancelled session as gone', async () => {
      const c = client();
      try {
        const session = await c.startUpload(ref('write/gone'));
        await session.write(sliced(randomBytes(1000)));
        expect(await session.cancel()).toBe(true);
        expect(await c.resumeUpload(ref('write/gone'), session.location, { expectedOffset: 1000 })).toBeUndefined();
        expect(await session.cancel()).toBe(false);
      } finally {
        await c.close();
      }
    });

    it('refuses a blob whose bytes do not match the digest, and stores nothing', async () => {
      const blob = randomBlob(CHUNK + 5);
      const claimed = randomBlob(CHUNK + 5).digest;
      const c = client();
      try {
        const session = await c.startUpload(ref('write/mismatch'));
        await session.write(sliced(blob.bytes), { length: blob.size });
        const err = await rejection(session.finish(claimed));
        expect(err.code).toBe('DIGEST_MISMATCH');
        expect(err.exitCode).toBe(5);
        expect(await c.statBlob(ref('write/mismatch'), claimed)).toBeUndefined();
        expect(await c.statBlob(ref('write/mismatch'), blob.digest)).toBeUndefined();
        // distribution keeps the session after refusing it: the caller cancels it.
        await session.cancel();
        expect(await c.resumeUpload(ref('write/mismatch'), session.location)).toBeUndefined();
      } finally {
        await c.close();
      }
    });

    it('refuses more bytes than announced before sending them', async () => {
      const c = client();
      try {
        const session = await c.startUpload(ref('write/too-long'));
        const err = await rejection(session.write(sliced(randomBytes(3 * SLICE)), { length: 2 * SLICE + 1 }));
        expect(err.code).toBe('SIZE_MISMATCH');
        expect(session.offset).toBeLessThanOrEqual(2 * SLICE + 1);
      } finally {
        await c.close();
      }
    });

    it('puts a manifest by tag and by digest and gets the same bytes back', async () => {
      const config = blobOf(Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'));
      const layer = randomBlob(2000);
      await push('write/manifest', config);
      await push('write/manifest', layer);
      // Unusual spacing: only byte-exact handling keeps this digest.
      const bytes = Buffer.from(
        `{ "schemaVersion": 2,\n   "mediaType": "application/vnd.oci.image.manifest.v1+json",\n   "config": {"mediaType":"application/vnd.oci.image.config.v1+json","digest":"${config.digest}","size":${config.size}},\n   "layers": [ {"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"${layer.digest}","size":${layer.size}} ] }\n`,
      );
      const digest = blobOf(bytes).digest;
      const c = client();
      try {
        expect(await c.putManifest({ ...ref('write/manifest'), digest }, bytes, 'application/vnd.oci.image.manifest.v1+json')).toBe(digest);
        expect(await c.putManifest({ ...ref('write/manifest'), tag: 'v1' }, bytes, 'application/vnd.oci.image.manifest.v1+json')).toBe(digest);
        const got = await c.getManifest({ ...ref('write/manifest'), tag: 'v1' });
        expect(got.digest).toBe(digest);
        expect(Buffer.from(got.bytes).equals(bytes)).toBe(true);
        const wrong = await rejection(c.putManifest({ ...ref('write/manifest'), digest: config.digest }, bytes, 'application/vnd.oci.image.manifest.v1+json'));
        expect(wrong.code).toBe('DIGEST_MISMATCH');
      } finally {
        await c.close();
      }
    });
  });
}

describe('plain HTTP registry, deletes disabled', () => {
  let registry: RunningRegistry;
  beforeAll(async () => {
    registry = await startRegistry({ mode: 'plain' });
  });
  afterAll(() => registry.stop());

  const setup = (): Setup => ({ registry, options: (over = {}) => ({ version: 'it', env: {}, retry: { baseDelayMs: 1, maxDelayMs: 5 }, ...over }) });
  writeBehaviour('the write API', setup);

  it('says deletes are disabled, naming the setting', async () => {
    const client = createRegistryClient(setup().options());
    try {
      const manifest = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}');
      const digest = await client.putManifest({ registry: registry.host, repository: 'write/delete', tag: 'v1' }, manifest, 'application/vnd.oci.image.index.v1+json');
      const err = await rejection(client.deleteManifest({ registry: registry.host, repository: 'write/delete', digest }));
      expect(err.code).toBe('UNSUPPORTED');
      expect(err.message).toContain('deletes are disabled on this registry (storage.delete.enabled)');
      expect((await client.headManifest({ registry: registry.host, repository: 'write/delete', tag: 'v1' })).digest).toBe(digest);
    } finally {
      await client.close();
    }
  });

  it('resumes an upload after the registry restarted', async () => {
    const blob = randomBlob(CHUNK * 3);
    const failAfter = CHUNK + SLICE;
    let saved: { location: string; offset: number } | undefined;
    const first = createRegistryClient(setup().options({ uploadChunkBytes: CHUNK }));
    try {
      const session = await first.startUpload({ registry: registry.host, repository: 'write/restart' });
      await session.write(sliced(blob.bytes, { failAfter }), { length: blob.size, onChunk: (s) => void (saved = s) }).catch((e: unknown) => e);
    } finally {
      await first.close();
    }
    expect(saved?.offset).toBe(failAfter);
    await registry.restart();
    const second = createRegistryClient(setup().options({ uploadChunkBytes: CHUNK }));
    try {
      const ref = { registry: registry.host, repository: 'write/restart' };
      const resumed = await second.resumeUpload(ref, saved?.location ?? '', { expectedOffset: saved?.offset ?? 0 });
      expect(resumed?.offset).toBe(failAfter);
      const counter = { read: 0 };
      await resumed?.write(sliced(blob.bytes.subarray(failAfter), { counter }), { length: blob.size - failAfter });
      expect(counter.read).toBe(blob.size - failAfter);
      await resumed?.finish(blob.digest);
      expect((await readAll((await second.openBlob(ref, blob)).body)).equals(blob.bytes)).toBe(true);
    } finally {
      await second.close();
    }
  });

  it('finds a session gone after a PATCH was cut mid-body (distribution 2.8 cancels it): a fresh upload follows', async () => {
    const ref = { registry: registry.host, repository: 'write/cut' };
    const client = createRegistryClient(setup().options());
    let session: UploadSession;
    try {
      session = await client.startUpload(ref);
      await session.write(sliced(randomBytes(SLICE)));
    } finally {
      await client.close();
    }
    await cutPatch(session.location, 4 * SLICE, 2 * SLICE);
    const again = createRegistryClient(setup().options());
    try {
      expect(await again.resumeUpload(ref, session.location, { expectedOffset: SLICE })).toBeUndefined();
      const blob = randomBlob(1000);
      const fresh = await again.startUpload(ref);
      await fresh.write(sliced(blob.bytes));
      await fresh.finish(blob.digest);
      expect(await again.statBlob(ref, blob.digest)).toMatchObject({ size: 1000 });
    } finally {
      await again.close();
    }
  });
});

describe('token-auth registry over TLS, deletes enabled', () => {
  let registry: RunningRegistry;
  beforeAll(async () => {
    registry = await startRegistry({
      mode: 'token-tls',
      deleteEnabled: true,
      users: [...DEFAULT_USERS, { username: 'carol', password: 'carol-test-password', access: [{ name: 'token/carol', actions: ['pull', 'push'] }] }],
    });
  });
  afterAll(() => registry.stop());

  const alice = (): Credential => ({ username: registry.username ?? '', password: registry.password ?? '' });
  const setup = (): Setup => ({
    registry,
    options: (over = {}) => ({
      version: 'it',
      env: {},
      certsDirs: [],
      caFile: registry.caFile ?? '',
      credentials: async () => alice(),
      retry: { baseDelayMs: 1, maxDelayMs: 5 },
      ...over,
    }),
  });
  writeBehaviour('the write API', setup);

  it('asks for push on the target and pull on the source in one token request to mount', async () => {
    const blob = randomBlob(5000);
    const client = createRegistryClient(setup().options());
    try {
      const up = await client.startUpload({ registry: registry.host, repository: 'token/from' });
      await up.write(sliced(blob.bytes));
      await up.finish(blob.digest);
      registry.tokenIssuer?.resetRequests();
      expect(await client.mountBlob({ registry: registry.host, repository: 'token/to' }, blob.digest, 'token/from')).toBe(true);
    } finally {
      await client.close();
    }
    const requests = registry.tokenIssuer?.requests ?? [];
    expect(requests).toHaveLength(1);
    expect([...(requests[0]?.scopes ?? [])].sort()).toEqual(['repository:token/from:pull', 'repository:token/to:pull,push']);
  });

  it('falls back (false) when the user may not read the source repository, and the upload still works', async () => {
    const blob = randomBlob(5000);
    const owner = createRegistryClient(setup().options());
    const carol = createRegistryClient(setup().options({ credentials: async () => ({ username: 'carol', password: 'carol-test-password' }) }));
    const mine = { registry: registry.host, repository: 'token/carol' };
    try {
      const up = await owner.startUpload({ registry: registry.host, repository: 'token/private' });
      await up.write(sliced(blob.bytes));
      await up.finish(blob.digest);
      expect(await carol.mountBlob(mine, blob.digest, 'token/private')).toBe(false);
      expect(await carol.statBlob(mine, blob.digest)).toBeUndefined();
      const own = await carol.startUpload(mine);
      await own.write(sliced(blob.bytes));
      await own.finish(blob.digest);
      expect(await carol.statBlob(mine, blob.digest)).toMatchObject({ size: blob.size });
    } finally {
      await owner.close();
      await carol.close();
    }
  });

  it('deletes a manifest by digest, taking its tags with it', async () => {
    const ref = { registry: registry.host, repository: 'token/delete' };
    const client = createRegistryClient(setup().options());
    try {
      const manifest = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[],"annotations":{"n":"1"}}');
      const digest = await client.putManifest({ ...ref, tag: 'v1' }, manifest, 'application/vnd.oci.image.index.v1+json');
      await client.deleteManifest({ ...ref, digest });
      expect((await rejection(client.headManifest({ ...ref, digest }))).code).toBe('MANIFEST_UNKNOWN');
      expect((await rejection(client.headManifest({ ...ref, tag: 'v1' }))).code).toBe('MANIFEST_UNKNOWN');
      expect((await rejection(client.deleteManifest({ ...ref, digest }))).code).toBe('MANIFEST_UNKNOWN');
    } finally {
      await client.close();
    }
  });

  it('says so when the registry deletes by digest only', async () => {
    const ref = { registry: registry.host, repository: 'token/delete-tag' };
    const client = createRegistryClient(setup().options());
    try {
      const manifest = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[],"annotations":{"n":"2"}}');
      const digest = await client.putManifest({ ...ref, tag: 'v1' }, manifest, 'application/vnd.oci.image.index.v1+json');
      const err = await rejection(client.deleteManifest({ ...ref, tag: 'v1' }));
      expect(err.code).toBe('UNSUPPORTED');
      expect(err.message).toContain('by digest only');
      expect((await client.headManifest({ ...ref, tag: 'v1' })).digest).toBe(digest);
    } finally {
      await client.close();
    }
  });
});

/**
 * A PATCH that announces `announced` bytes, sends `sent` and drops the
 * connection, as a killed client would (plain HTTP only).
 */
async function cutPatch(location: string, announced: number, sent: number): Promise<void> {
  const url = new URL(location);
  await new Promise<void>((resolve, reject) => {
    const req = httpRequest(url, { method: 'PATCH', headers: { 'content-type': 'application/octet-stream', 'content-length': String(announced) } });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNRESET' || err.message === 'socket hang up' || err.code === 'ERR_STREAM_DESTROYED') resolve();
      else reject(err);
    });
    req.write(randomBytes(sent), () => {
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 200);
    });
  });
  // Give the registry a moment to notice the client went away and close the upload.
  await new Promise((r) => setTimeout(r, 300));
}
