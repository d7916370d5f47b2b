#!/usr/bin/env node
// Writes dist/gantry.cjs.cache, V8's code cache for the CLI bundle (see
// bin/load-cli.js). The cache holds the functions compiled so far, so it is
// taken after the bundle has run what most commands run: the command line,
// help, reference parsing, and a real copy between two OCI layouts (the
// transfer engine, the layout transports, progress). Run by scripts/bundle.mjs
// in a child process with a throwaway HOME, config and store.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CODE_CACHE, loadCli } from '../bin/load-cli.js';

const work = mkdtempSync(join(tmpdir(), 'gantry-code-cache-'));
try {
  for (const [name, value] of Object.entries({ HOME: work, DOCKER_CONFIG: join(work, 'docker'), GANTRY_CONFIG: join(work, 'gantry.json'), GANTRY_HOME: join(work, 'store') })) {
    process.env[name] = value;
  }
  const layout = join(work, 'layout');
  writeLayout(layout);
  const { main, script } = loadCli();
  const runs = [['--help'], ['copy', '--help'], ['ref', 'alpine'], ['copy', `oci:${layout}:v1`, `oci:${join(work, 'copy')}:v1`], ['copy', '--json', `oci:${layout}:v1`, `oci:${join(work, 'copy')}:v1`]];
  for (const args of runs) {
    const code = await main(args);
    if (code !== 0) throw new Error(`gantry ${args.join(' ')} exited ${code} while warming the code cache`);
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
