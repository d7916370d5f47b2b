import { Transform, type TransformCallback } from 'node:stream';
import { createGunzip, type Gunzip } from 'node:zlib';
import { GantryError } from '../../errors/index.js';

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
const SNIFF_BYTES = 4;

/**
 * Turn a layer into its uncompressed tar: gunzip when it starts with the
 * gzip magic number, pass it through when it is a plain tar. The content
 * decides, not the media type: some tools label uncompressed layers `.gzip`.
 *
 * When the data is not what it should be (invalid gzip, or zstd, which node
 * 20 cannot decompress), the stage stops producing output but keeps
 * consuming its input, and fails only at the end. Placed after a digest
 * check, it lets the check see every byte: damaged content then fails as the
 * DIGEST_MISMATCH / SIZE_MISMATCH it is, and only content that verifies but
 * cannot be decompressed fails here (MANIFEST_INVALID, or UNSUPPORTED for
 * zstd). Backpressure is kept: the next chunk is taken only once this one's
 * output has been pushed and the readable side has room.
 */
export function createLayerDecompressor(digest: string): Transform {
  let head = Buffer.alloc(0);
  let mode: 'sniffing' | 'gzip' | 'plain' | 'failed' = 'sniffing';
  let failure: GantryError | undefined;
  let gunzip: Gunzip | undefined;
  let pending: TransformCallback | undefined;
  let finish: (() => void) | undefined;

  const settle = (): void => {
    const callback = pending;
    pending = undefined;
    callback?.();
  };
  const fail = (err: GantryError): void => {
    failure = err;
    mode = 'failed';
  };
  const startGunzip = (stage: Transform): Gunzip => {
    const stream = createGunzip();
    stream.on('data', (data: Buffer) => stage.push(data));
    stream.on('error', (err) => {
      fail(new GantryError('MANIFEST_INVALID', `layer ${digest} is not valid gzip`, { cause: err, details: { digest } }));
      settle();
      // A flush waiting for 'end' would wait forever: a failed zlib stream never ends.
      if (finish !== undefined) stream.off('end', finish);
      finish?.();
    });
    return stream;
  };
  const feed = (stage: Transform, chunk: Buffer, callback: TransformCallback): void => {
    if (mode === 'plain') {
      callback(null, chunk);
    } else if (mode === 'gzip' && gunzip !== undefined) {
      pending = callback;
      gunzip.write(chunk, settle);
    } else {
      callback();
    }
  };
  const decide = (stage: Transform): typeof mode => {
    if (head.subarray(0, GZIP_MAGIC.length).equals(GZIP_MAGIC)) {
      mode = 'gzip';
      gunzip = startGunzip(stage);
    } else if (head.subarray(0, ZSTD_MAGIC.length).equals(ZSTD_MAGIC)) {
      fail(
        new GantryError('UNSUPPORTED', `layer ${digest} is zstd-compressed, which gantry cannot decompress`, {
          hint: 'Write the image to an OCI layout or oci-archive instead, which keep layers as they are.',
        }),
      );
    } else {
      mode = 'plain';
    }
    return mode;
  };

  const stage: Transform = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (mode !== 'sniffing') {
        feed(stage, chunk, callback);
        return;
      }
      head = Buffer.concat([head, chunk]);
      if (head.length < SNIFF_BYTES) {
        callback();
        return;
      }
      decide(stage);
      const buffered = head;
      head = Buffer.alloc(0);
      feed(stage, buffered, callback);
    },
    flush(callback) {
      // A layer shorter than the sniffed prefix: decide on what there is.
      if (mode === 'sniffing') {
        const chosen = decide(stage);
        if (chosen === 'plain' && head.length > 0) stage.push(head);
        else if (chosen === 'gzip') gunzip?.write(head);
      }
      if (failure !== undefined) {
        callback(failure);
        return;
      }
      if (mode !== 'gzip' || gunzip === undefined) {
        callback();
        return;
      }
      finish = () => callback(failure ?? null);
      gunzip.once('end', finish);
      gunzip.end();
    },
    destroy(err, callback) {
      gunzip?.destroy();
      callback(err);
    },
  });
  return stage;
}
