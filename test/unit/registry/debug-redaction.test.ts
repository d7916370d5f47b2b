import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GantryError } from '../../../src/errors/index.js';
import type { Reference } from '../../../src/reference/types.js';
import { createRegistryClient } from '../../../src/registry/index.js';
import { startMswServer, type MswServer } from '../../helpers/msw-server.js';
import { imageFixture, registryHandlers, repositoryWith, storageHandlers, tokenHandlers } from '../../providers/fake-registry.js';

const PASSWORD = 'correct-horse-battery-staple';
const REFRESH = 'refresh-token-0123456789';
const REGISTRY = 'registry.test';

let registry: MswServer;
let auth: MswServer;
let storage: MswServer;
const image = imageFixture();
const issued: string[] = [];

beforeAll(async () => {
  registry = await startMswServer();
  auth = await startMswServer();
  storage = await startMswServer();
  registry.use(
    ...registryHandlers({
      origin: registry.origin,
      auth: { scheme: 'bearer', realm: `${auth.origin}/token`, service: 'svc' },
      repositories: { 'org/private': repositoryWith(image) },
      blobRedirect: storage.origin,
    }),
  );
  auth.use(...tokenHandlers({ realm: `${auth.origin}/token`, service: 'svc', users: { alice: PASSWORD }, refreshTokens: { [REFRESH]: 'alice' }, issued }));
  storage.use(...storageHandlers(storage.origin, { [image.configDigest]: image.config }));
});
afterAll(async () => {
  await registry.close();
  await auth.close();
  await storage.close();
});

describe('--debug output', () => {
  it('never shows a password, token, identity token or signed URL through a login and a pull', async () => {
    const lines: string[] = [];
    const errors: GantryError[] = [];
    const log = (line: string) => lines.push(line);
    const common = { version: 'test', env: {}, endpoint: () => registry.origin, insecure: [REGISTRY], log, retry: { baseDelayMs: 1, maxDelayMs: 2 } };
    const ref: Reference = { registry: REGISTRY, repository: 'org/private', tag: 'latest' };

    // `gantry login`: check the credential, then a wrong one.
    const login = createRegistryClient(common);
    await login.verifyCredential(REGISTRY, { username: 'alice', password: PASSWORD });
    await login.verifyCredential(REGISTRY, { username: 'alice', password: `${PASSWORD}-wrong` }).catch((e: GantryError) => errors.push(e));
    await login.verifyCredential(REGISTRY, { identityToken: REFRESH });
    await login.close();

    // A pull with the stored password, then one with an identity token.
    for (const credential of [{ username: 'alice', password: PASSWORD }, { identityToken: REFRESH }]) {
      const client = createRegistryClient({ ...common, credentials: async () => credential });
      await client.getManifest(ref);
      await client.getBlobBytes(ref, image.configDigest);
      await client.close();
    }

    const text = lines.join('\n');
    expect(lines.length).toBeGreaterThan(20);
    expect(text).toContain('auth: token for registry.test repository:org/private:pull with credentials');
    expect(text).toContain('authorization: Bearer [REDACTED]');
    expect(text).toContain('authorization: Basic [REDACTED]');
    expect(issued.length).toBeGreaterThanOrEqual(4);
    const secrets = [
      PASSWORD,
      REFRESH,
      Buffer.from(`alice:${PASSWORD}`).toString('base64'),
      Buffer.from(`<token>:${REFRESH}`).toString('base64'),
      'sig-',
      ...issued,
    ];
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(errors).toHaveLength(1);
    const shown = JSON.stringify(errors.map((e) => ({ message: e.message, hint: e.hint, details: e.details, cause: String(e.cause) })));
    for (const secret of secrets) expect(shown).not.toContain(secret);
  });
});
