export { ERROR_CODES, ExitCode, exitCodeFor, type ErrorCode } from './codes.js';
export { GantryError, isGantryError, type GantryErrorOptions } from './gantry-error.js';
export { RegistryError, type RegistryErrorEntry, type RegistryErrorInit } from './registry-error.js';
