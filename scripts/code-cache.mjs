#!/usr/bin/env node
// Writes dist/gantry.cjs.cache, V8's code cache for the CLI bundle (see
// bin/load-cli.js). The cache holds the functions compiled so far, so it is
// taken after the bundle has run what most commands run: the command line,
// help, reference parsing, a real copy between two OCI layouts (the transfer
// engine, the layout transports, progress) and the registry paths — push,
// re-push, mount, pull, tags, digest — against a small in-memory registry on
// loopback (the HTTP client and undici's request path otherwise compile at
// every run: ~4 ms of a re-push). Run by scripts/bundle.mjs in a child
// process with a throwaway HOME, config and store.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CODE_CACHE, loadCli } from '../bin/load-cli.js';

const work = mkdtempSync(join(tmpdir(), 'gantry-code-cache-'));
try {
  for (const [name, value] of Object.entries({ HOME: work, DOCKER_CONFIG: join(work, 'docker'), GANTRY_CONFIG: join(work, 'gantry.json'), GANTRY_HOME: join(work, 'store') })) {
    process.env[name] = value;
  }
  // The warm-up registry is on loopback: a proxy from the build's environment must not get in between.
  for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'all_proxy', 'no_proxy']) delete process.env[name];
  const layout = join(work, 'layout');
  writeLayout(layout);
  const { main, script } = loadCli();
  const run = async (runs) => {
    for (const args of runs) {
      const code = await main(args);
      if (code !== 0) throw new Error(`gantry ${args.join(' ')} exited ${code} while warming the code cache`);
    }
  };
  await run([
    ['--help'],
    ['copy', '--help'],
    ['ref', 'alpine'],
    ['copy', `oci:${layout}:v1`, `oci:${join(work, 'copy')}:v1`],
    ['copy', '--json', `oci:${layout}:v1`, `oci:${join(work, 'copy')}:v1`],
  ]);
  // The registry paths are a bonus: if loopback is unusable here, the cache still covers the rest.
  let registry;
  try {
    registry = await startRegistry();
    const reg = `127.0.0.1:${registry.address().port}`;
    // As users reach a loopback registry (plain HTTP first, no flag); one --insecure run warms
    // the HTTPS-first probe that registries marked insecure take.
    await run([
      ['copy', `oci:${layout}:v1`, `${reg}/warm/a:v1`],
      ['copy', `oci:${layout}:v1`, `${reg}/warm/a:v1`],
      ['copy', `${reg}/warm/a:v1`, `${reg}/warm/b:v1`],
      ['copy', `${reg}/warm/a:v1`, `oci:${join(work, 'pulled')}:v1`],
      ['tags', `${reg}/warm/a`],
      ['digest', `${reg}/warm/a:v1`],
      ['--insecure', 'digest', `${reg}/warm/a:v1`],
    ]);
  } catch (err) {
    process.stderr.write(`note: the code cache does not cover the registry paths: ${err.message}\n`);
  } finally {
    registry?.close();
  }
  writeFileSync(CODE_CACHE, script.createCachedData());
} finally {
  rmSync(work, { recursive: true, force: true });
}

/** A one-layer OCI image in a layout, tagged v1. */
function writeLayout(dir) {
  const blobs = join(dir, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const put = (mediaType, bytes) => {
    const hex = createHash('sha256').update(bytes).digest('hex');
    writeFileSync(join(blobs, hex), bytes);
    return { mediaType, digest: `sha256:${hex}`, size: bytes.length };
  };
  const layer = put('application/vnd.oci.image.layer.v1.tar', Buffer.alloc(2048));
  const config = put(
    'application/vnd.oci.image.config.v1+json',
    Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layer.digest] }, config: {} })),
  );
  const manifest = put(
    'application/vnd.oci.image.manifest.v1+json',
    Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers: [layer] })),
  );
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({ schemaVersion: 2, manifests: [{ ...manifest, annotations: { 'org.opencontainers.image.ref.name': 'v1' } }] }),
  );
}

/**
 * Just enough of the distribution API, in memory, for the warm-up runs:
 * blobs (HEAD, GET, monolithic and chunked uploads, cross-repository mounts),
 * manifests by tag and digest, and tag lists.
 */
async function startRegistry() {
  const blobs = new Map();
  const manifests = new Map();
  const uploads = new Map();
  const digestOf = (bytes) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url, 'http://registry');
    const send = (status, headers = {}, bytes) => {
      res.writeHead(status, { 'docker-distribution-api-version': 'registry/2.0', ...headers });
      res.end(req.method === 'HEAD' ? undefined : bytes);
    };
    let m;
    if (url.pathname === '/v2/') return send(200, { 'content-type': 'application/json' }, '{}');
    if ((m = /^\/v2\/(.+)\/tags\/list$/.exec(url.pathname))) {
      const tags = [...manifests.keys()].filter((k) => k.startsWith(`${m[1]}:`) && !k.includes('@')).map((k) => k.slice(m[1].length + 1));
      return send(200, { 'content-type': 'application/json' }, JSON.stringify({ name: m[1], tags }));
    }
    if ((m = /^\/v2\/(.+)\/blobs\/uploads\/(.*)$/.exec(url.pathname))) {
      const [, repo, id] = m;
      if (req.method === 'POST') {
        const mount = url.searchParams.get('mount');
        if (mount && blobs.has(mount)) return send(201, { location: `/v2/${repo}/blobs/${mount}`, 'docker-content-digest': mount });
        const next = String(uploads.size + 1);
        uploads.set(next, []);
        return send(202, { location: `/v2/${repo}/blobs/uploads/${next}`, range: '0-0', 'content-length': '0' });
      }
      const parts = uploads.get(id);
      if (!parts) return send(404);
      parts.push(body);
      const size = parts.reduce((n, p) => n + p.length, 0);
      if (req.method === 'PATCH') return send(202, { location: `/v2/${repo}/blobs/uploads/${id}`, range: `0-${Math.max(size - 1, 0)}` });
      if (req.method === 'GET') return send(204, { location: `/v2/${repo}/blobs/uploads/${id}`, range: `0-${Math.max(size - 1, 0)}` });
      const bytes = Buffer.concat(parts);
      const digest = url.searchParams.get('digest');
      if (digestOf(bytes) !== digest) return send(400);
      blobs.set(digest, bytes);
      uploads.delete(id);
      return send(201, { location: `/v2/${repo}/blobs/${digest}`, 'docker-content-digest': digest });
    }
    if ((m = /^\/v2\/(.+)\/blobs\/(sha256:[0-9a-f]{64})$/.exec(url.pathname))) {
      const bytes = blobs.get(m[2]);
      if (!bytes) return send(404);
      return send(200, { 'content-length': String(bytes.length), 'docker-content-digest': m[2], 'content-type': 'application/octet-stream' }, bytes);
    }
    if ((m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname))) {
      const [, repo, ref] = m;
      if (req.method === 'PUT') {
        const stored = { bytes: body, type: req.headers['content-type'], digest: digestOf(body) };
        manifests.set(`${repo}:${ref}`, stored);
        manifests.set(`${repo}@${stored.digest}`, stored);
        return send(201, { location: `/v2/${repo}/manifests/${stored.digest}`, 'docker-content-digest': stored.digest });
      }
      const stored = manifests.get(ref.startsWith('sha256:') ? `${repo}@${ref}` : `${repo}:${ref}`);
      if (!stored) return send(404, { 'content-type': 'application/json' }, JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }));
      return send(200, { 'content-type': stored.type, 'content-length': String(stored.bytes.length), 'docker-content-digest': stored.digest }, stored.bytes);
    }
    send(404);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return server;
}
