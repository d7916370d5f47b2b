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

/** What one line of the TTY view shows: a blob's state, or (`text`) a line of its own. */
interface LinePayload {
  id: string;
  status: string;
  bytes: string;
  text?: string;
}

/**
 * A line per blob, redrawn in place, as docker draws a push or pull. Redrawing
 * moves the cursor up over every line, which a terminal cannot do past its
 * top: with more blobs than rows, each frame was left in the scrollback (a
 * 54-layer image on a 24-row terminal: 600 lines). So when the blobs do not
 * fit, the view turns compact: a total line and a line for each blob moving
 * (as many as fit), and each blob's final line printed once above them.
 */
function ttyView(io: CliIo, out: Output, verb: ProgressVerb): ProgressView {
  const c = out.ce;
  // Made at the plan, when the view knows whether it is compact: compact lines are cleared at the
  // end (the final line of each blob is already printed above them), full ones stay.
  let multi: cliProgress.MultiBar | undefined;
  const start = (clearOnComplete: boolean): cliProgress.MultiBar =>
    new cliProgress.MultiBar(
      {
        stream: io.stderr,
        format: (_options, params, payload: LinePayload) => {
          if (payload.text !== undefined) return payload.text;
          if (payload.status !== 'moving') return `${payload.id}: ${payload.status}`;
          const width = 30;
          const filled = Math.round(params.progress * width);
          return `${payload.id}: ${moving[verb]} [${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? '>' : ''}${' '.repeat(width - filled)}] ${payload.bytes}`;
        },
        hideCursor: true,
        clearOnComplete,
        stopOnComplete: false,
        fps: 8,
        forceRedraw: true,
        noTTYOutput: false,
      },
      cliProgress.Presets.legacy,
    );
  // Lines the view may redraw: the terminal's rows, less one for the cursor's line and one to spare.
  const room = Math.max(3, (io.stderr.rows ?? 24) - 2);
  let stopped = false;

  // A line per blob, created as the plan lists them.
  const bars = new Map<string, cliProgress.SingleBar>();
  const bar = (blob: Descriptor) => {
    let b = bars.get(blob.digest);
    if (!b) {
      multi ??= start(false);
      b = multi.create(Math.max(1, blob.size), 0, { id: short(blob), status: 'Waiting', bytes: '' });
      bars.set(blob.digest, b);
    }
    return b;
  };

  // Compact: a total line, and lines (slots) lent to the blobs that are moving.
  let compact = false;
  let total: cliProgress.SingleBar | undefined;
  const slots: Array<{ bar: cliProgress.SingleBar; digest?: string }> = [];
  const tally = { blobs: 0, done: 0, bytes: 0 };
  const moved = new Map<string, number>();
  const showTotal = () => {
    const bytes = [...moved.values()].reduce((a, b) => a + b, 0);
    total?.update({ text: `${moving[verb]}: ${tally.done}/${tally.blobs} blobs done, ${formatBytes(bytes)}/${formatBytes(tally.bytes)}` });
  };
  const slot = (blob: Descriptor) => {
    let s = slots.find((x) => x.digest === blob.digest) ?? slots.find((x) => x.digest === undefined);
    if (!s && multi && slots.length < room - 1) {
      s = { bar: multi.create(1, 0, { id: '', status: '', bytes: '', text: '' }) };
      slots.push(s);
    }
    // More blobs moving than lines: the others show in the total only.
    if (!s) return undefined;
    if (s.digest !== blob.digest) {
      s.digest = blob.digest;
      s.bar.setTotal(Math.max(1, blob.size));
      s.bar.update(0, { id: short(blob), status: 'Waiting', bytes: '', text: undefined });
    }
    return s.bar;
  };
  const line = (blob: Descriptor) => (compact ? slot(blob) : bar(blob));

  return {
    onEvent(e) {
      switch (e.type) {
        case 'plan':
          // One plan per view (it covers every image of the copy): decide once.
          if (multi === undefined && e.blobs.length + 1 > room) {
            compact = true;
            multi = start(true);
            total = multi.create(1, 0, { id: '', status: '', bytes: '', text: '' });
          }
          if (compact) {
            tally.blobs += e.blobs.length;
            tally.bytes += e.totalBytes;
            showTotal();
          } else for (const blob of e.blobs) bar(blob);
          break;
        case 'blob-waiting':
          if (!compact) bar(e.blob).update({ status: 'Waiting' });
          break;
        case 'blob-progress':
          moved.set(e.blob.digest, e.bytes);
          line(e.blob)?.update(e.bytes, { status: 'moving', bytes: `${formatBytes(e.bytes)}/${formatBytes(e.blob.size)}`, text: undefined });
          if (compact) showTotal();
          break;
        case 'blob-verifying':
          line(e.blob)?.update({ status: 'Verifying Checksum', text: undefined });
          break;
        case 'blob-retry':
          line(e.blob)?.update({ status: c.yellow(`Retrying (attempt ${e.attempt + 1}): ${e.error.message}`), text: undefined });
          break;
        case 'blob-done': {
          const status =
            e.action === 'skipped' ? 'Already exists' : e.action === 'mounted' ? `Mounted from ${e.mountedFrom ?? 'another repository'}` : finished[verb];
          const shown = e.action === 'copied' ? c.green(status) : status;
          if (!compact) {
            bar(e.blob).update(e.blob.size, { status: shown });
            break;
          }
          // Printed once above the moving lines, and its line lent to the next blob.
          // Erase to the end of the line: cli-progress clears only the first line it logs over, and
          // a shorter final line would keep the tail of the longer one drawn there ("Pusheding Checksum").
          // Wrapping is on for it (cli-progress turns it off while it draws): a long line, such as a
          // mount from a long repository name, stays whole in the scrollback.
          multi?.log(`\x1b[?7h${short(e.blob)}: ${shown}\x1b[K\n\x1b[?7l`);
          const s = slots.find((x) => x.digest === e.blob.digest);
          if (s) {
            s.digest = undefined;
            s.bar.update(0, { text: '' });
          }
          tally.done += 1;
          showTotal();
          break;
        }
        default:
          break;
      }
    },
    done(result) {
      // Several images share one view: stop drawing once, so later summaries are not drawn over.
      finish();
      summary(io, out, result, verb);
    },
    stop: finish,
  };

  function finish(): void {
    if (stopped || multi === undefined) return;
    stopped = true;
    // Lines logged since the last frame are printed by a frame, which stop() does not draw.
    if (compact) multi.update();
    multi.stop();
  }
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
    // A pull writes to a layout or the local store, where nothing is mounted.
    ...(verb === 'pull' ? [] : [`${count('mounted')} mounted`]),
    `${seconds.toFixed(1)}s${rate ? ` (${rate})` : ''}`,
  ];
  const names = result.names.length > 0 ? ` (${result.names.join(', ')})` : '';
  io.stderr.write(`${out.ce.bold(result.target)}${names}: ${parts.join(', ')}\n`);
  io.stderr.write(`digest: ${result.digest}\n`);
}
