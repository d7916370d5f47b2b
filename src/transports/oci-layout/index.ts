export { createOciLayoutSource, type OciLayoutSourceOptions } from './oci-layout-source.js';
export { createOciLayoutTarget, type OciLayoutTargetOptions } from './oci-layout-target.js';
export { REF_NAME_ANNOTATION } from './layout-paths.js';
export { isValidRefName } from './ref-name.js';
