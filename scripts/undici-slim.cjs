// What gantry uses of undici, without the rest of its index (fetch, cookies,
// websockets), which costs ~20 ms to evaluate at every start. Used only by
// the CLI bundle (scripts/bundle.mjs); src/http keeps importing 'undici'.
'use strict';
module.exports = {
  Agent: require('../node_modules/undici/lib/dispatcher/agent.js'),
  EnvHttpProxyAgent: require('../node_modules/undici/lib/dispatcher/env-http-proxy-agent.js'),
};
