// What gantry uses of undici, without the rest of its index (fetch, cookies,
// websockets), which costs ~20 ms to evaluate at every start. Used only by
// the CLI bundle (scripts/bundle.mjs); src/http keeps importing 'undici'.
// Like undici's own index, it installs the request/stream API on Dispatcher.
'use strict';
const Dispatcher = require('../node_modules/undici/lib/dispatcher/dispatcher.js');
Object.assign(Dispatcher.prototype, require('../node_modules/undici/lib/api/index.js'));
module.exports = {
  Agent: require('../node_modules/undici/lib/dispatcher/agent.js'),
  EnvHttpProxyAgent: require('../node_modules/undici/lib/dispatcher/env-http-proxy-agent.js'),
};
