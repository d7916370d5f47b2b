export { SUPPORTED_ALGORITHMS, isSupportedAlgorithm } from './algorithms.js';
export { createDigester, digestOf, type Digester } from './digester.js';
export { isDigest, parseDigest, type Digest } from './parse-digest.js';
export { createVerifier, verifyBytes, type DigestVerifier, type ExpectedContent } from './verifier.js';
export { createOffThreadDigester, OFF_THREAD_HASH_BYTES, type AsyncDigester } from './off-thread-digester.js';
