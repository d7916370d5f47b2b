import cliProgress from 'cli-progress';
import type { Descriptor } from '../media/types.js';
import type { TransferEvent } from '../transfer/events.js';
import type { CopyResult } from '../transfer/types.js';
import type { CliIo } from './io.js';
import { formatBytes, type Output } from './output.js';

export type ProgressVerb = 'copy' | 'pull' | 'push';

/** A sink for engine events that shows them to people; `done` prints the summary. */
export interface ProgressView {
  onEvent(event: TransferEvent): void;
  done(result: CopyResult): void;
  /** Stop drawing (on failure) without a summary. */
  stop(): void;
}

const short = (d: Descriptor) => d.digest.replace(/^sha256:/, '').slice(0, 12);

/**
 * docker-like progress: a line per blob on a TTY (waiting, bytes moving,
 * verifying, done, already exists, mounted from), plain lines otherwise, and
 * nothing at all for --json or --quiet. Everything goes to stderr so stdout
 * stays for results.
 */
export function createProgressView(io: CliIo, out: Output, verb: ProgressVerb): ProgressView {
  if (out.json || out.quiet) return { onEvent() {}, done() {}, stop() {} };
  return io.stderr.isTTY === true ? ttyView(io, out, verb) : lineView(io, out, verb);
}

const moving = { copy: 'Copying', pull: 'Downloading', push: 'Pushing' } as const;
const finished = { copy: 'Copied', pull: 'Pull complete', push: 'Pushed' } as const;

function ttyView(io: CliIo, out: Output, verb: ProgressVerb): ProgressView {
  const c = out.ce;
  const multi = new cliProgress.MultiBar(
    {
      stream: io.stderr,
      format: (_options, params, payload: { id: string; status: string; bytes: string }) => {
        if (payload.status !== 'moving') return `${payload.id}: ${payload.status}`;
        const width = 30;
        const filled = Math.round(params.progress * width);
        return `${payload.id}: ${moving[verb]} [${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? '>' : ''}${' '.repeat(width - filled)}] ${payload.bytes}`;
      },
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      fps: 8,
      forceRedraw: true,
      noTTYOutput: false,
    },
    cliProgress.Presets.legacy,
  );
  const bars = new Map<string, cliProgress.SingleBar>();
  let stopped = false;
  const bar = (blob: Descriptor) => {
    let b = bars.get(blob.digest);
    if (!b) {
      b = multi.create(Math.max(1, blob.size), 0, { id: short(blob), status: 'Waiting', bytes: '' });
      bars.set(blob.digest, b);
    }
    return b;
  };
  return {
    onEvent(e) {
      switch (e.type) {
        case 'plan':
          for (const blob of e.blobs) bar(blob);
          break;
        case 'blob-waiting':
          bar(e.blob).update({ status: 'Waiting' });
          break;
        case 'blob-progress':
          bar(e.blob).update(e.bytes, { status: 'moving', bytes: `${formatBytes(e.bytes)}/${formatBytes(e.blob.size)}` });
          break;
        case 'blob-verifying':
          bar(e.blob).update({ status: 'Verifying Checksum' });
          break;
        case 'blob-retry':
          bar(e.blob).update({ status: c.yellow(`Retrying (attempt ${e.attempt + 1}): ${e.error.message}`) });
          break;
        case 'blob-done': {
          const status =
            e.action === 'skipped' ? 'Already exists' : e.action === 'mounted' ? `Mounted from ${e.mountedFrom ?? 'another repository'}` : finished[verb];
          bar(e.blob).update(e.blob.size, { status: e.action === 'copied' ? c.green(status) : status });
          break;
        }
        default:
          break;
      }
    },
    done(result) {
      // Several images share one view: stop drawing once, so later summaries are not drawn over.
      if (!stopped) multi.stop();
      stopped = true;
      summary(io, out, result, verb);
    },
    stop() {
      if (!stopped) multi.stop();
      stopped = true;
    },
  };
}

function lineView(io: CliIo, out: Output, verb: ProgressVerb): ProgressView {
  return {
    onEvent(e) {
      if (e.type === 'blob-done') {
        const what =
          e.action === 'skipped'
            ? 'already exists'
            : e.action === 'mounted'
              ? `mounted from ${e.mountedFrom ?? 'another repository'}`
              : `${finished[verb].toLowerCase()} (${formatBytes(e.bytesSent)})`;
        io.stderr.write(`${short(e.blob)}: ${what}\n`);
      } else if (e.type === 'blob-retry') {
        io.stderr.write(`${short(e.blob)}: retrying (attempt ${e.attempt + 1}): ${e.error.message}\n`);
      }
    },
    done(result) {
      summary(io, out, result, verb);
    },
    stop() {},
  };
}

/** bytes moved, skipped, mounted, time and rate, on stderr. */
export function summary(io: CliIo, out: Output, result: CopyResult, verb: ProgressVerb = 'copy'): void {
  const count = (a: string) => result.blobs.filter((b) => b.action === a).length;
  const seconds = result.durationMs / 1000;
  const rate = seconds > 0 && result.bytesSent > 0 ? `${formatBytes(result.bytesSent / seconds)}/s` : '';
  const moved = verb === 'pull' ? 'received' : 'sent';
  const parts = [
    `${formatBytes(result.bytesSent)} ${moved} in ${count('copied')} blob${count('copied') === 1 ? '' : 's'}`,
    `${count('skipped')} already there`,
    `${count('mounted')} mounted`,
    `${seconds.toFixed(1)}s${rate ? ` (${rate})` : ''}`,
  ];
  const names = result.names.length > 0 ? ` (${result.names.join(', ')})` : '';
  io.stderr.write(`${out.ce.bold(result.target)}${names}: ${parts.join(', ')}\n`);
  io.stderr.write(`digest: ${result.digest}\n`);
}
