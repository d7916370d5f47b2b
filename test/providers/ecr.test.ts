import { http, HttpResponse } from 'msw';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Reference } from '../../src/reference/types.js';
import { startMswServer, type MswServer } from '../helpers/msw-server.js';
import { imageFixture, registryHandlers, repositoryWith, storageHandlers } from './fake-registry.js';
import { providerClient } from './provider-client.js';

// ECR: a Basic challenge; the credential is `AWS` with a 12-hour token from
// `aws ecr get-login-password`; layers are served by redirect to S3, which
// refuses requests carrying an Authorization header besides its signature.
const ECR_HOST = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const ECR_TOKEN = 'eyJwYXlsb2FkIjoiZWNyLXRva2VuIn0';
let ecr: MswServer;
let s3: MswServer;
const image = imageFixture('ecr');

beforeAll(async () => {
  ecr = await startMswServer();
  s3 = await startMswServer();
});
afterEach(() => {
  ecr.reset();
  s3.reset();
});
afterAll(async () => {
  await ecr.close();
  await s3.close();
});

function serve(password = ECR_TOKEN) {
  ecr.use(
    ...registryHandlers({
      origin: ecr.origin,
      auth: { scheme: 'basic', users: { AWS: ECR_TOKEN }, realm: `https://${ECR_HOST}/` },
      repositories: { 'team/service': repositoryWith(image) },
      blobRedirect: s3.origin,
    }),
  );
  s3.use(...storageHandlers(s3.origin, { [image.configDigest]: image.config, [image.layerDigest]: image.layer }));
  return providerClient({ map: { [`https://${ECR_HOST}`]: ecr.origin }, credentials: { [ECR_HOST]: { username: 'AWS', password } } });
}

const service: Reference = { registry: ECR_HOST, repository: 'team/service', tag: 'latest' };

describe('ECR', () => {
  it('answers the Basic challenge with AWS:<token>', async () => {
    const { client } = serve();
    expect((await client.getManifest(service)).digest).toBe(image.manifestDigest);
    const manifest = ecr.requests.find((r) => r.url.includes('/manifests/'));
    expect(manifest?.headers.authorization).toBe(`Basic ${Buffer.from(`AWS:${ECR_TOKEN}`).toString('base64')}`);
    await client.close();
  });

  it('downloads layers from S3 without sending the registry credentials there', async () => {
    const { client } = serve();
    const config = await client.getBlobBytes(service, image.configDigest);
    expect(Buffer.from(config).equals(image.config)).toBe(true);
    expect(s3.requests).toHaveLength(1);
    expect(s3.requests[0]?.headers.authorization).toBeUndefined();
    expect(s3.requests[0]?.url).toContain('X-Amz-Signature=');
    await client.close();
  });

  it('reports an expired token as AUTH_FAILED', async () => {
    const { client } = serve('expired-token');
    await expect(client.getManifest(service)).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    await client.close();
  });

  it('reports a missing S3 object by its status even though S3 speaks XML', async () => {
    const { client } = serve();
    ecr.use(
      http.get(`${ecr.origin}/v2/team/service/blobs/:digest`, () =>
        new HttpResponse(null, { status: 307, headers: { location: `${s3.origin}/storage/sha256:${'0'.repeat(64)}` } }),
      ),
    );
    await expect(client.getBlobBytes(service, image.configDigest)).rejects.toMatchObject({ code: 'BLOB_UNKNOWN', status: 404 });
    await client.close();
  });
});
