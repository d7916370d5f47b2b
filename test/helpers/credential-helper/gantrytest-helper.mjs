// A fake docker credential helper speaking the docker-credential-helpers
// protocol, for tests. Run through the `docker-credential-gantrytest` script
// or a symlink to it; GANTRYTEST_NAME is the name it was run as.
//
// It keeps credentials as JSON in the file named by GANTRYTEST_STORE
// ({ name: { serverURL: { Username, Secret } } }, so several helpers can share
// one file), appends each call ({ name, action, input }) as a JSON line to
// GANTRYTEST_LOG when set, and misbehaves on request through
// GANTRYTEST_MODE_<suffix> (suffix with non-alphanumerics as `_`) or
// GANTRYTEST_MODE:
//   fail             print the input back on stderr and exit 1 (tests redaction)
//   hang             never exit (tests the timeout)
//   garbage          print something that is not JSON and exit 0
//   flood            print 2 MiB on stdout
//   stderr-notfound  report "not found" on stderr instead of stdout
//   leak             print a stored credential as the protocol's JSON, a
//                    warning on stderr, and exit 1 (a half-broken `get`)
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';

const NOT_FOUND = 'credentials not found in native keychain';
const name = process.env.GANTRYTEST_NAME ?? 'docker-credential-gantrytest';
const suffix = name.replace(/^docker-credential-/, '').replace(/[^A-Za-z0-9]/g, '_');
const action = process.argv[2] ?? '';
const input = readFileSync(0, 'utf8');
const mode = process.env[`GANTRYTEST_MODE_${suffix}`] ?? process.env.GANTRYTEST_MODE ?? '';
const storePath = process.env.GANTRYTEST_STORE;

if (process.env.GANTRYTEST_LOG) appendFileSync(process.env.GANTRYTEST_LOG, `${JSON.stringify({ name, action, input })}\n`);

function load() {
  try {
    return JSON.parse(readFileSync(storePath, 'utf8'));
  } catch (err) {
    if (err.code === 'ENOENT') return {};
    throw err;
  }
}

function fail(message, stream = process.stdout) {
  stream.write(`${message}\n`);
  process.exit(1);
}

if (!storePath) fail('GANTRYTEST_STORE is not set');

switch (mode) {
  case 'fail':
    process.stderr.write(`boom: cannot reach the vault while handling ${input}\n`);
    process.exit(1);
    break;
  case 'hang':
    setInterval(() => {}, 1000);
    break;
  case 'garbage':
    process.stdout.write('<html>not json</html>\n');
    process.exit(0);
    break;
  case 'leak': {
    const entry = load()[name]?.[input.trim()] ?? { Username: 'nobody', Secret: 'none' };
    process.stdout.write(JSON.stringify({ ServerURL: input.trim(), Username: entry.Username, Secret: entry.Secret }));
    process.stderr.write(`warning: keychain is sulking (${entry.Secret})\n`);
    process.exit(1);
    break;
  }
  case 'flood':
    process.stdout.write('x'.repeat(2 * 1024 * 1024), () => process.exit(0));
    break;
  default:
    run();
}

function run() {
  const notFoundStream = mode === 'stderr-notfound' ? process.stderr : process.stdout;
  const all = load();
  const creds = (all[name] ??= {});
  const save = () => writeFileSync(storePath, JSON.stringify(all));
  switch (action) {
    case 'get': {
      const url = input.trim();
      const entry = creds[url];
      if (!entry) fail(NOT_FOUND, notFoundStream);
      process.stdout.write(JSON.stringify({ ServerURL: url, Username: entry.Username, Secret: entry.Secret }));
      break;
    }
    case 'store': {
      const { ServerURL, Username, Secret } = JSON.parse(input);
      if (!ServerURL) fail('no credentials server URL');
      if (!Username) fail('no credentials username');
      creds[ServerURL] = { Username, Secret };
      save();
      break;
    }
    case 'erase': {
      const url = input.trim();
      if (!creds[url]) fail(NOT_FOUND, notFoundStream);
      delete creds[url];
      save();
      break;
    }
    case 'list': {
      const out = {};
      for (const [url, entry] of Object.entries(creds)) out[url] = entry.Username;
      process.stdout.write(JSON.stringify(out));
      break;
    }
    default:
      fail('Usage: docker-credential-gantrytest <store|get|erase|list>');
  }
}
