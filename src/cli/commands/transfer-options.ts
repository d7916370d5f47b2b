import { Command, InvalidArgumentError } from 'commander';
import { parsePlatform } from '../../media/index.js';
import type { Platform } from '../../media/types.js';

/** Options copy, pull and push share. */
export interface TransferFlags {
  platform?: Platform[];
  concurrency?: number;
  json?: boolean;
  quiet?: boolean;
}

function collectPlatform(value: string, previous: Platform[] = []): Platform[] {
  return [...previous, parsePlatform(value)];
}

function parseConcurrency(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new InvalidArgumentError('expected a whole number from 1 to 64');
  return n;
}

export function addTransferFlags(cmd: Command): Command {
  return cmd
    .option('--platform <os/arch[/variant]>', 'only this platform of an index (repeatable); one platform copies a single image manifest', collectPlatform)
    .option('--concurrency <n>', 'blobs in flight at once (default 8)', parseConcurrency)
    .option('--json', 'print the result as JSON: digest, per-blob action (copied, skipped, mounted) and bytes')
    .option('-q, --quiet', 'print only the final digest');
}
