#!/usr/bin/env node
// The floor: the least a node program must do for two of the bench's
// workloads, over node's own HTTP client, with nothing else loaded: no
// argument parsing beyond two locations, no settings, credentials, retries,
// progress or checks beyond what the registry enforces. Its time is what
// node 20 itself costs on this machine for that work, so it bounds from
// below what any node program (gantry included) can reach there.
//
//   node bench/floor/floor-copy.cjs HOST/REPO:TAG HOST/OTHER:TAG   a copy within one registry
//   node bench/floor/floor-copy.cjs oci:DIR:TAG HOST/REPO:TAG      a re-push (the image is there)
//
// Registries are plain HTTP (the bench's, on loopback). Anything else exits 1.
'use strict';
const http = require('node:http');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

// The manifest types bench/verify.ts also asks for: written out again on purpose, as the floor
// loads nothing but node's own modules (importing them would put a module load in its time).
const ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');
const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

function registryRef(text) {
  const m = /^([^/]+)\/(.+):([^:/]+)$/.exec(text);
  if (!m) throw new Error(`not HOST/REPO:TAG: ${text}`);
  const [host, port] = m[1].split(':');
  return { host, port: Number(port), repo: m[2], tag: m[3] };
}

function request(ref, method, path, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: ref.host, port: ref.port, method, path, agent, headers: { accept: ACCEPT, ...headers } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function expect(res, statuses, what) {
  if (!statuses.includes(res.status)) throw new Error(`${what}: HTTP ${res.status} ${res.body.toString().slice(0, 200)}`);
  return res;
}

/** At most `limit` of `items` through `fn` at once. */
async function each(items, limit, fn) {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

async function copyWithinRegistry(src, dst) {
  expect(await request(src, 'GET', '/v2/'), [200], 'ping');
  const manifest = expect(await request(src, 'GET', `/v2/${src.repo}/manifests/${src.tag}`), [200], 'manifest');
  const parsed = JSON.parse(manifest.body.toString());
  if (!parsed.layers) throw new Error('the floor copies single images only');
  // A mount of a blob the repository already has also answers 201: no HEAD first.
  await each([parsed.config, ...parsed.layers], 8, async (d) => {
    const q = new URLSearchParams({ mount: d.digest, from: src.repo });
    expect(await request(dst, 'POST', `/v2/${dst.repo}/blobs/uploads/?${q}`, undefined, { 'content-length': '0' }), [201], `mount ${d.digest}`);
  });
  expect(
    await request(dst, 'PUT', `/v2/${dst.repo}/manifests/${dst.tag}`, manifest.body, { 'content-type': manifest.headers['content-type'] }),
    [201],
    'manifest PUT',
  );
}

async function repush(dir, tag, dst) {
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
  const desc = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  if (!desc) throw new Error(`no ${tag} in ${dir}`);
  readFileSync(join(dir, 'blobs', ...desc.digest.split(':')));
  expect(await request(dst, 'GET', '/v2/'), [200], 'ping');
  const head = expect(await request(dst, 'HEAD', `/v2/${dst.repo}/manifests/${dst.tag}`), [200, 404], 'HEAD');
  if (head.headers['docker-content-digest'] !== desc.digest) throw new Error('the floor only re-pushes an image that is there');
}

async function main([src, dst]) {
  if (src.startsWith('oci:')) {
    const [, dir, tag] = /^oci:(.+):([^:]+)$/.exec(src) ?? [];
    await repush(dir, tag, registryRef(dst));
  } else {
    const s = registryRef(src);
    const d = registryRef(dst);
    if (s.host !== d.host || s.port !== d.port) throw new Error('the floor copies within one registry only');
    await copyWithinRegistry(s, d);
  }
  agent.destroy();
}

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`floor: ${err.message}\n`);
  process.exitCode = 1;
});
