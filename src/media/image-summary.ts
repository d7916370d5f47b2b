import type { Descriptor, ImageConfig, ImageManifest } from './types.js';

/** What `gantry inspect` reports for one image: stable keys, null for absent values. */
export interface ImageSummary {
  created: string | null;
  os: string | null;
  architecture: string | null;
  variant: string | null;
  user: string | null;
  workingDir: string | null;
  entrypoint: string[] | null;
  cmd: string[] | null;
  env: string[];
  labels: Record<string, string>;
  exposedPorts: string[];
  layers: Array<{ digest: string; mediaType: string; size: number }>;
  totalSize: number;
  config: { digest: string; mediaType: string; size: number };
  artifactType: string | null;
  subject: Descriptor | null;
  annotations: Record<string, string>;
}

/** Summarize an image from its manifest and (when it is an image, not an artifact) its config. */
export function summarizeImage(manifest: ImageManifest, config: ImageConfig | undefined): ImageSummary {
  const c = config?.config ?? {};
  const layers = manifest.layers.map((l) => ({ digest: l.digest, mediaType: l.mediaType, size: l.size }));
  return {
    created: config?.created ?? null,
    os: config?.os ?? null,
    architecture: config?.architecture ?? null,
    variant: config?.variant ?? null,
    user: c.User || null,
    workingDir: c.WorkingDir || null,
    entrypoint: c.Entrypoint ?? null,
    cmd: c.Cmd ?? null,
    env: c.Env ?? [],
    labels: c.Labels ?? {},
    exposedPorts: Object.keys(c.ExposedPorts ?? {}).sort(),
    layers,
    totalSize: layers.reduce((sum, l) => sum + l.size, 0),
    config: { digest: manifest.config.digest, mediaType: manifest.config.mediaType, size: manifest.config.size },
    artifactType: manifest.artifactType ?? null,
    subject: manifest.subject ?? null,
    annotations: manifest.annotations ?? {},
  };
}
