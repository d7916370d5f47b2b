import { readFile, stat } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import type { OciLayoutResult } from '../test/helpers/oci-fixtures.js';
import type { Location } from './tools.js';

/**
 * After each run, check that the tool really produced the image: a fast run
 * that left a wrong tag or missing layers must count as a failure, not a win.
 * Checks the root digest under the tag and that every blob is present with
 * its size (the tools themselves hash the bytes; re-hashing here would only
 * slow the bench down).
 */

const ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

function head(url: string, accept?: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'HEAD', headers: accept ? { accept } : {}, timeout: 10_000 }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, headers: res.headers });
    });
    req.on('timeout', () => req.destroy(new Error(`HEAD ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

async function verifyRegistry(loc: Extract<Location, { kind: 'registry' }>, image: OciLayoutResult): Promise<string | undefined> {
  const base = `http://${loc.host}/v2/${loc.repository}`;
  const m = await head(`${base}/manifests/${loc.tag}`, ACCEPT);
  if (m.status !== 200) return `${loc.repository}:${loc.tag}: manifest HEAD answered ${m.status}`;
  const digest = m.headers['docker-content-digest'];
  if (digest !== image.digest) return `${loc.repository}:${loc.tag} is ${String(digest)}, expected ${image.digest}`;
  for (const blob of image.blobs) {
    if (blob.digest === image.digest) continue;
    const isManifest = image.images.some((i) => i.manifest.digest === blob.digest);
    const r = await head(`${base}/${isManifest ? 'manifests' : 'blobs'}/${blob.digest}`, isManifest ? ACCEPT : undefined);
    if (r.status !== 200) return `${loc.repository}@${blob.digest}: HEAD answered ${r.status}`;
    if (Number(r.headers['content-length']) !== blob.size) return `${loc.repository}@${blob.digest}: size ${String(r.headers['content-length'])}, expected ${blob.size}`;
  }
  return undefined;
}

async function verifyLayout(loc: Extract<Location, { kind: 'oci' }>, image: OciLayoutResult): Promise<string | undefined> {
  let index: { manifests?: Array<{ digest?: string; annotations?: Record<string, string> }> };
  try {
    index = JSON.parse(await readFile(join(loc.dir, 'index.json'), 'utf8')) as typeof index;
  } catch (err) {
    return `${loc.dir}/index.json: ${(err as Error).message}`;
  }
  const entry = index.manifests?.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === loc.tag);
  if (!entry) return `${loc.dir}: no image tagged ${loc.tag} in index.json`;
  if (entry.digest !== image.digest) return `${loc.dir}:${loc.tag} is ${String(entry.digest)}, expected ${image.digest}`;
  for (const blob of image.blobs) {
    const [alg, hex] = blob.digest.split(':');
    const path = join(loc.dir, 'blobs', alg ?? '', hex ?? '');
    const size = await stat(path).then(
      (s) => s.size,
      (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined;
        throw err;
      },
    );
    if (size === undefined) return `${path} is missing`;
    if (size !== blob.size) return `${path} has ${size} bytes, expected ${blob.size}`;
  }
  return undefined;
}

/** undefined when `loc` holds `image` (tag → root digest, every blob present with its size); else what is wrong. */
export async function verifyImage(loc: Location, image: OciLayoutResult): Promise<string | undefined> {
  return loc.kind === 'oci' ? verifyLayout(loc, image) : verifyRegistry(loc, image);
}
