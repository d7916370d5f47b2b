/** OCI content descriptor (image-spec descriptor.md). Unknown fields are carried through untouched. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  data?: string;
  artifactType?: string;
  platform?: Platform;
  [key: string]: unknown;
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
  features?: string[];
}

/** Docker schema2 manifest or OCI image manifest. */
export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

/** Docker manifest list or OCI image index. */
export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

/**
 * A manifest as fetched: the exact bytes (whose digest is the manifest's
 * identity) plus the parsed form, discriminated by `kind`.
 */
export type Manifest =
  | { kind: 'image'; mediaType: string; digest: string; bytes: Uint8Array; manifest: ImageManifest }
  | { kind: 'index'; mediaType: string; digest: string; bytes: Uint8Array; manifest: ImageIndex };

/** The image config blob (image-spec config.md), the parts gantry reads. */
export interface ImageConfig {
  created?: string;
  author?: string;
  architecture?: string;
  os?: string;
  variant?: string;
  config?: {
    User?: string;
    Env?: string[];
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    WorkingDir?: string;
    Labels?: Record<string, string> | null;
    ExposedPorts?: Record<string, unknown> | null;
    Volumes?: Record<string, unknown> | null;
    StopSignal?: string;
  };
  rootfs?: { type: string; diff_ids: string[] };
  history?: Array<{ created?: string; created_by?: string; empty_layer?: boolean; comment?: string }>;
  [key: string]: unknown;
}
