import type { AccessLogEntry, RunningRegistry } from '../test/helpers/registry.js';

/**
 * What a run asked of the registries, from their access logs: how many
 * requests, blobs uploaded, mounted across repositories, found already there,
 * and downloaded. It explains a time (a mount is not an upload) and shows
 * both tools did the same work.
 */
export interface Activity {
  requests: number;
  /** Blob uploads completed (`PUT …/blobs/uploads/…?digest=` → 201). */
  uploads: number;
  /** Cross-repository mounts (`POST …/blobs/uploads/?mount=` → 201). */
  mounts: number;
  /** Blob HEADs that found the blob (skipped). */
  existing: number;
  /** Blob GETs answered with content. */
  downloads: number;
}

export const NO_ACTIVITY: Activity = Object.freeze({ requests: 0, uploads: 0, mounts: 0, existing: 0, downloads: 0 });

/** Log positions of several registries, taken before a run. */
export type LogMarks = Map<RunningRegistry, number>;

export async function markLogs(registries: RunningRegistry[]): Promise<LogMarks> {
  const marks: LogMarks = new Map();
  for (const r of registries) marks.set(r, (await r.accessLog()).length);
  return marks;
}

function classify(entries: AccessLogEntry[]): Activity {
  const a = { ...NO_ACTIVITY };
  for (const e of entries) {
    a.requests++;
    const blob = /\/blobs\/[a-z0-9]+:/.test(e.path);
    if (e.method === 'PUT' && e.path.includes('/blobs/uploads/') && e.status === 201) a.uploads++;
    else if (e.method === 'POST' && /[?&]mount=/.test(e.path) && e.status === 201) a.mounts++;
    else if (e.method === 'HEAD' && blob && e.status === 200) a.existing++;
    else if (e.method === 'GET' && blob && (e.status === 200 || e.status === 206)) a.downloads++;
  }
  return a;
}

/** The activity since `marks` on each marked registry, summed. */
export async function activitySince(marks: LogMarks): Promise<Activity> {
  const entries: AccessLogEntry[] = [];
  for (const [r, n] of marks) entries.push(...(await r.accessLog()).slice(n));
  return classify(entries);
}

/** `8 up, 0 mnt, 0 skip, 0 get, 27 req` */
export function formatActivity(a: Activity): string {
  return `${a.uploads} up, ${a.mounts} mnt, ${a.existing} skip, ${a.downloads} get, ${a.requests} req`;
}
