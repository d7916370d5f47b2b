import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/io.js';
import { Output } from '../../src/cli/output.js';
import { createProgressView } from '../../src/cli/progress.js';
import type { Descriptor } from '../../src/media/types.js';
import type { CopyResult } from '../../src/transfer/types.js';

function terminal(rows: number): { io: CliIo; text: () => string } {
  const stderr = new PassThrough() as PassThrough & { isTTY?: boolean; rows?: number; columns?: number };
  Object.assign(stderr, { isTTY: true, rows, columns: 100 });
  const chunks: Buffer[] = [];
  stderr.on('data', (c: Buffer) => chunks.push(c));
  return { io: { stdout: new PassThrough(), stderr, stdin: new PassThrough(), env: { NO_COLOR: '1' } }, text: () => Buffer.concat(chunks).toString() };
}

const blobs: Descriptor[] = Array.from({ length: 30 }, (_, i) => ({
  mediaType: 'application/vnd.oci.image.layer.v1.tar',
  digest: `sha256:${i.toString(16).padStart(2, '0')}${'ab'.repeat(31)}`,
  size: 1000,
}));

/** Two of the view's frames (it redraws 8 times a second). */
const frames = () => new Promise((resolve) => setTimeout(resolve, 300));

/**
 * What a terminal shows after `text`, scrollback included: enough of a VT100
 * for what cli-progress writes (cursor up, column, erase in line and below).
 */
function screen(text: string): string[] {
  const lines: string[] = [''];
  let row = 0;
  let col = 0;
  const put = (ch: string) => {
    const line = (lines[row] ?? '').padEnd(col, ' ');
    lines[row] = line.slice(0, col) + ch + line.slice(col + 1);
    col++;
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (ch === '\x1b') {
      const m = /^\x1b\[(\??)(\d*)([A-Za-z])/.exec(text.slice(i));
      if (!m) continue;
      i += m[0].length - 1;
      const n = Number(m[2] || '0');
      if (m[1] === '?') continue;
      if (m[3] === 'A') row = Math.max(0, row - (n || 1));
      else if (m[3] === 'G') col = Math.max(0, (n || 1) - 1);
      else if (m[3] === 'K') lines[row] = n === 2 ? '' : (lines[row] ?? '').slice(0, col);
      else if (m[3] === 'J') {
        lines[row] = (lines[row] ?? '').slice(0, col);
        lines.length = row + 1;
      }
      continue;
    }
    if (ch === '\r') col = 0;
    else if (ch === '\n') {
      row++;
      col = 0;
      if (lines[row] === undefined) lines[row] = '';
    } else put(ch);
  }
  return lines.map((l) => l.trimEnd());
}

/** How far up the view moved the cursor at most, to redraw its lines. */
function highestRedraw(text: string): number {
  return Math.max(0, ...[...text.matchAll(/\x1b\[(\d+)A/g)].map((m) => Number(m[1])));
}

async function push(rows: number): Promise<string> {
  const t = terminal(rows);
  const view = createProgressView(t.io, new Output(t.io), 'push');
  view.onEvent({ type: 'plan', image: 'oci:layout', blobs, manifests: [], totalBytes: 30_000 });
  for (const blob of blobs) view.onEvent({ type: 'blob-waiting', blob });
  for (const blob of blobs.slice(0, 8)) view.onEvent({ type: 'blob-progress', blob, bytes: 500, resumedFrom: 0 });
  await frames();
  view.onEvent({ type: 'blob-verifying', blob: blobs[0] as Descriptor });
  await frames();
  // The last ones finish between two frames: their lines must still be printed.
  for (const blob of blobs) view.onEvent({ type: 'blob-done', blob, action: 'copied', bytesSent: 1000 });
  const result: CopyResult = {
    source: 'oci:layout',
    target: 'docker://localhost:5000/app:1',
    digest: `sha256:${'cd'.repeat(32)}`,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    names: ['1'],
    blobs: blobs.map((b) => ({ digest: b.digest, size: b.size, action: 'copied' as const, bytesSent: b.size })),
    manifests: [],
    bytesSent: 30_000,
    bytesSkipped: 0,
    durationMs: 1000,
  };
  view.done(result);
  return t.text();
}

describe('TTY progress', () => {
  it('never redraws more lines than the terminal has when the blobs do not fit, and prints each blob once', async () => {
    const text = await push(12);
    expect(highestRedraw(text)).toBeLessThan(12);
    // What the terminal shows: each blob's final line once, whole, and nothing left of the moving lines.
    const shown = screen(text);
    for (const blob of blobs) {
      const id = blob.digest.slice(7, 19);
      expect(shown.filter((l) => l.startsWith(id))).toEqual([`${id}: Pushed`]);
    }
    expect(shown.filter((l) => /Pushing \[|Verifying|Waiting/.test(l))).toEqual([]);
    expect(text).toContain('Pushing: 0/30 blobs done');
    // Each moving blob's line names it.
    expect(text).toContain(`${blobs[0]?.digest.slice(7, 19)}: Verifying Checksum`);
    expect(text).toContain(`${blobs[1]?.digest.slice(7, 19)}: Pushing [`);
  });

  it('draws a line per blob, in place, when they fit', async () => {
    const text = await push(40);
    // 30 blob lines redrawn in place: the cursor goes back up over them.
    expect(highestRedraw(text)).toBeGreaterThanOrEqual(29);
    expect(text).not.toMatch(/blobs done/);
  });
});
