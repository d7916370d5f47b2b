import { Agent, createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback reverse proxy for fault tests: it forwards every request to one
 * plain-HTTP upstream (a test registry), streaming both ways with
 * backpressure, records what passed, and on request injects faults: error
 * statuses, a flipped byte, a truncated or stalled body, a reset connection.
 * Tests point gantry at `proxy.host` instead of the registry.
 */

/** Which requests a rule or a count applies to; absent fields match anything. */
export interface RequestFilter {
  /** HTTP method, compared case-insensitively. */
  method?: string;
  /** Tested (as by `String.prototype.search`, so `g`/`lastIndex` play no part) against the request target: path and query. */
  path?: RegExp;
}

/** Answer with this status (200-599) and body without asking the upstream: 5xx and 429 bursts, `Retry-After`. */
export interface StatusFault {
  action: 'status';
  status: number;
  headers?: Record<string, string>;
  /** Default: a registry error body (`{"errors":[…]}`, distribution's error envelope) as JSON. */
  body?: string;
}

/** Flip (XOR 0xff) the body byte at offset `atByte`; a body that ends before it passes intact. */
export interface CorruptFault {
  action: 'corrupt';
  atByte: number;
}

/** Send the headers and the first `afterBytes` body bytes, then close the connection; a body no longer than that passes intact. */
export interface TruncateFault {
  action: 'truncate';
  afterBytes: number;
}

/** Send the headers and the first `afterBytes` body bytes, pause `ms`, then send the rest. */
export interface StallFault {
  action: 'stall';
  afterBytes: number;
  ms: number;
}

/** Reset (TCP RST) the client's connection as soon as the request head arrives; the upstream never sees it. */
export interface ResetFault {
  action: 'reset';
}

export type Fault = StatusFault | CorruptFault | TruncateFault | StallFault | ResetFault;
export type FaultName = Fault['action'];

/**
 * A fault and the requests it applies to. Rules are checked in the order they
 * were added and the first matching rule with budget left applies (one per
 * request). `times` is the budget (default unlimited). Body faults
 * (`corrupt`, `truncate`, `stall`) only apply to 2xx responses with a body:
 * when the upstream answers otherwise (401, 404, a HEAD…) the response
 * passes untouched and the budget is not spent.
 */
export type FaultRule = { match?: RequestFilter; times?: number } & Fault;

/** A rule once added: how often it applied, and a way to withdraw it. */
export interface FaultRuleHandle {
  readonly hits: number;
  /** Budget left; undefined when unlimited. */
  readonly remaining: number | undefined;
  remove(): void;
}

/** One exchange through the proxy. Fields update while it is in flight. */
export interface ProxiedRequest {
  /** Arrival order, from 1; not reset by `clearRequests`. */
  seq: number;
  method: string;
  /** The request target as received: path and query. */
  path: string;
  /** The request's `Range` header, when it had one. */
  range?: string;
  /** Status sent to the client; 0 until one is sent, and for `reset`. */
  status: number;
  /** Request body bytes received from the client. */
  bytesIn: number;
  /** Response body bytes handed to the client's connection. */
  bytesOut: number;
  /** The fault that was applied, if any. */
  fault?: FaultName;
  /** True once the exchange is over (response finished or a side closed). */
  done: boolean;
  /** True when it ended before the whole response was sent (a fault, or either side went away). */
  aborted: boolean;
  /** What went wrong talking to the upstream, when something did (the 502 case, an upstream reset). */
  upstreamError?: string;
}

export interface FaultProxy {
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** `127.0.0.1:PORT`, the registry part of a reference. */
  host: string;
  /** `http://127.0.0.1:PORT` of the upstream. */
  upstream: string;
  /** Every exchange since the start or the last `clearRequests`/`reset`, in arrival order. */
  readonly requests: readonly ProxiedRequest[];
  /** How many recorded exchanges match (in flight ones included). */
  count(filter?: RequestFilter): number;
  /** Add a rule after the existing ones. Throws a plain Error on a malformed rule. */
  rule(rule: FaultRule): FaultRuleHandle;
  clearRules(): void;
  clearRequests(): void;
  /** `clearRules` and `clearRequests`. */
  reset(): void;
  /** Resolves once no exchange is in flight; rejects with a plain Error after `timeoutMs` (default 5 s). */
  settled(timeoutMs?: number): Promise<void>;
  /** Stop listening, drop every connection (client and upstream side) and end pending stalls. Idempotent. */
  close(): Promise<void>;
}

export interface FaultProxyOptions {
  /** `http://127.0.0.1:PORT` (an origin: no path, no query). */
  upstream: string;
}

/** Per connection (RFC 9110 §7.6.1), not to be forwarded; `expect` because this server already answered `100 Continue`. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer', 'upgrade', 'expect']);
/** Response headers whose URLs may name the upstream; clients must keep talking to the proxy. */
const URL_HEADERS = new Set(['location', 'content-location']);
const ORIGIN_PREFIX = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i;

interface ActiveRule {
  rule: FaultRule;
  hits: number;
}

function checkRule(rule: FaultRule): void {
  const count = (name: string, v: number, min: number): void => {
    if (!Number.isSafeInteger(v) || v < min) throw new Error(`fault rule: ${name} must be an integer >= ${min}, got ${v}`);
  };
  if (rule.times !== undefined) count('times', rule.times, 1);
  switch (rule.action) {
    case 'status':
      if (!Number.isInteger(rule.status) || rule.status < 200 || rule.status > 599) throw new Error(`fault rule: status must be 200-599, got ${rule.status}`);
      break;
    case 'corrupt':
      count('atByte', rule.atByte, 0);
      break;
    case 'truncate':
      count('afterBytes', rule.afterBytes, 0);
      break;
    case 'stall':
      count('afterBytes', rule.afterBytes, 0);
      count('ms', rule.ms, 0);
      break;
    case 'reset':
      break;
    default:
      throw new Error(`fault rule: unknown action ${JSON.stringify((rule as { action: unknown }).action)}`);
  }
}

function matches(filter: RequestFilter | undefined, method: string, path: string): boolean {
  if (filter?.method !== undefined && filter.method.toUpperCase() !== method.toUpperCase()) return false;
  if (filter?.path !== undefined && path.search(filter.path) === -1) return false;
  return true;
}

function isBodyFault(rule: FaultRule): boolean {
  return rule.action === 'corrupt' || rule.action === 'truncate' || rule.action === 'stall';
}

/** distribution's error codes for the statuses fault tests inject (registry/api/errcode). */
function defaultErrorBody(status: number): string {
  const code = status === 429 ? 'TOOMANYREQUESTS' : status === 503 ? 'UNAVAILABLE' : 'UNKNOWN';
  return JSON.stringify({ errors: [{ code, message: `injected by the fault proxy (${status})` }] });
}

/** Resolves on `drain` or `close`, whichever comes first. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** Waits `ms`, or less if the response closes meanwhile. */
function pause(res: ServerResponse, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      res.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    res.on('close', done);
  });
}

/**
 * Start a proxy on 127.0.0.1 (a free port) in front of `upstream`. Requests
 * are forwarded with their headers (hop-by-hop ones dropped, `Host` set to the
 * upstream's) over a keep-alive pool; responses come back with their headers,
 * absolute `Location`/`Content-Location`/`Link` URLs that point at the
 * upstream rewritten to the proxy. When the upstream cannot be reached the
 * client gets a 502. Throws a plain Error for an upstream that is not a plain
 * `http://` origin.
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const up = new URL(options.upstream);
  if (up.protocol !== 'http:' || up.pathname !== '/' || up.search !== '' || up.username !== '' || up.password !== '') {
    throw new Error(`fault proxy upstream must be an http:// origin, got ${options.upstream}`);
  }
  const agent = new Agent({ keepAlive: true });
  let rules: ActiveRule[] = [];
  let records: ProxiedRequest[] = [];
  let seq = 0;
  let inFlight = 0;
  const idleWaiters = new Set<() => void>();
  let proxyOrigin = '';

  const rewriteUrl = (value: string): string => {
    const prefix = ORIGIN_PREFIX.exec(value);
    if (!prefix || !URL.canParse(prefix[0]) || new URL(prefix[0]).origin !== up.origin) return value;
    return proxyOrigin + value.slice(prefix[0].length);
  };

  /** Response headers to send on: raw pairs, connection-level ones dropped, upstream URLs rewritten. */
  const responseHeaders = (raw: string[]): string[] => {
    const out: string[] = [];
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i] as string;
      let value = raw[i + 1] as string;
      const lower = name.toLowerCase();
      if (lower === 'connection' || lower === 'keep-alive') continue;
      if (URL_HEADERS.has(lower)) value = rewriteUrl(value);
      else if (lower === 'link') value = value.replace(/<([^>]*)>/g, (_m, target: string) => `<${rewriteUrl(target)}>`);
      out.push(name, value);
    }
    return out;
  };

  const requestHeaders = (req: IncomingMessage): string[] => {
    const named = new Set(
      (req.headers.connection ?? '')
        .split(',')
        .map((t) => t.trim().toLowerCase())
        .filter((t) => t !== ''),
    );
    const out: string[] = [];
    const raw = req.rawHeaders;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const lower = (raw[i] as string).toLowerCase();
      if (lower === 'host' || HOP_BY_HOP.has(lower) || named.has(lower)) continue;
      out.push(raw[i] as string, raw[i + 1] as string);
    }
    out.push('Host', up.host);
    return out;
  };

  /** The first matching rule with budget left, its budget spent. */
  const pick = (method: string, path: string): ActiveRule | undefined => {
    const active = rules.find((r) => matches(r.rule.match, method, path) && (r.rule.times === undefined || r.hits < r.rule.times));
    if (active) active.hits++;
    return active;
  };

  const finish = (rec: ProxiedRequest, res: ServerResponse): void => {
    rec.done = true;
    if (!res.writableFinished) rec.aborted = true;
    inFlight--;
    if (inFlight === 0) for (const wake of [...idleWaiters]) wake();
  };

  const answer = (req: IncomingMessage, res: ServerResponse, rec: ProxiedRequest, fault: StatusFault): void => {
    const body = fault.body ?? defaultErrorBody(fault.status);
    const headers: Record<string, string> = {
      'Content-Type': fault.body === undefined ? 'application/json' : 'text/plain; charset=utf-8',
      ...fault.headers,
      'Content-Length': String(Buffer.byteLength(body)),
    };
    req.on('data', (chunk: Buffer) => {
      rec.bytesIn += chunk.length;
    });
    // Answer once the request body is in, as a registry does: an early answer races a client still sending.
    req.on('end', () => {
      rec.status = fault.status;
      res.writeHead(fault.status, headers);
      if (req.method !== 'HEAD') rec.bytesOut = Buffer.byteLength(body);
      res.end(body);
    });
  };

  /** Copy the upstream body to the client with the chosen body fault; resolves when done or cut short. */
  const pump = async (source: IncomingMessage, res: ServerResponse, rec: ProxiedRequest, fault: Fault | undefined): Promise<void> => {
    if (fault) res.flushHeaders();
    let offset = 0;
    let stalled = false;
    const send = async (chunk: Buffer): Promise<boolean> => {
      rec.bytesOut += chunk.length;
      if (!res.write(chunk) && !rec.done) await drained(res);
      return !rec.done;
    };
    for await (const raw of source) {
      let chunk = raw as Buffer;
      const end = offset + chunk.length;
      if (fault?.action === 'corrupt' && fault.atByte >= offset && fault.atByte < end) {
        chunk = Buffer.from(chunk);
        chunk[fault.atByte - offset] = (chunk[fault.atByte - offset] as number) ^ 0xff;
      }
      if (fault?.action === 'truncate' && end > fault.afterBytes) {
        await send(chunk.subarray(0, fault.afterBytes - offset));
        // A graceful close after the bytes already written: the client reads them, then a premature EOF.
        res.socket?.destroySoon();
        return;
      }
      if (fault?.action === 'stall' && !stalled && end > fault.afterBytes) {
        stalled = true;
        const cut = fault.afterBytes - offset;
        if (!(await send(chunk.subarray(0, cut)))) return;
        await pause(res, fault.ms);
        if (rec.done) return;
        chunk = chunk.subarray(cut);
      }
      if (!(await send(chunk))) return;
      offset = end;
    }
    res.end();
  };

  const forward = (req: IncomingMessage, res: ServerResponse, rec: ProxiedRequest, active: ActiveRule | undefined): void => {
    const upReq = httpRequest({
      agent,
      host: up.hostname,
      port: up.port,
      method: req.method,
      path: req.url,
      headers: requestHeaders(req),
    });
    res.on('close', () => {
      if (!res.writableFinished) upReq.destroy();
    });
    upReq.on('error', (err) => {
      // Destroying upReq because the client left reports a hang-up that is not the upstream's doing.
      if (rec.done) return;
      rec.upstreamError = err.message;
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const body = JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: `fault proxy: upstream failed: ${err.message}` }] });
      rec.status = 502;
      res.writeHead(502, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) });
      rec.bytesOut = Buffer.byteLength(body);
      res.end(body);
    });
    upReq.on('response', (upRes) => {
      if (rec.done) {
        upRes.destroy();
        return;
      }
      const status = upRes.statusCode ?? 502;
      let fault: Fault | undefined = active?.rule;
      const hasBody = req.method !== 'HEAD' && status >= 200 && status < 300 && status !== 204;
      if (active && !hasBody) {
        active.hits--;
        fault = undefined;
      }
      if (fault) rec.fault = fault.action;
      rec.status = status;
      res.writeHead(status, upRes.statusMessage, responseHeaders(upRes.rawHeaders));
      pump(upRes, res, rec, fault).catch((err: Error) => {
        // The upstream's body broke off: pass the break on rather than end the response cleanly.
        rec.upstreamError = err.message;
        res.destroy();
      });
    });
    req.on('data', (chunk: Buffer) => {
      rec.bytesIn += chunk.length;
    });
    req.pipe(upReq);
  };

  const server = createServer((req, res) => {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const rec: ProxiedRequest = { seq: ++seq, method, path, status: 0, bytesIn: 0, bytesOut: 0, done: false, aborted: false };
    if (req.headers.range !== undefined) rec.range = req.headers.range;
    records.push(rec);
    inFlight++;
    res.on('close', () => finish(rec, res));
    const active = pick(method, path);
    const rule = active?.rule;
    if (rule?.action === 'reset') {
      rec.fault = 'reset';
      req.socket.resetAndDestroy();
    } else if (rule?.action === 'status') {
      rec.fault = 'status';
      answer(req, res, rec, rule);
    } else {
      forward(req, res, rec, rule && isBodyFault(rule) ? active : undefined);
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = `127.0.0.1:${port}`;
  proxyOrigin = `http://${host}`;
  let closing: Promise<void> | undefined;

  return {
    url: proxyOrigin,
    host,
    upstream: up.origin,
    get requests() {
      return records;
    },
    count: (filter) => records.filter((r) => matches(filter, r.method, r.path)).length,
    rule: (rule) => {
      checkRule(rule);
      const active: ActiveRule = { rule: { ...rule }, hits: 0 };
      rules.push(active);
      return {
        get hits() {
          return active.hits;
        },
        get remaining() {
          return active.rule.times === undefined ? undefined : active.rule.times - active.hits;
        },
        remove: () => {
          rules = rules.filter((r) => r !== active);
        },
      };
    },
    clearRules: () => {
      rules = [];
    },
    clearRequests: () => {
      records = [];
    },
    reset: () => {
      rules = [];
      records = [];
    },
    settled: (timeoutMs = 5_000) => {
      if (inFlight === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const wake = (): void => {
          clearTimeout(timer);
          idleWaiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(() => {
          idleWaiters.delete(wake);
          reject(new Error(`fault proxy: ${inFlight} exchange(s) still in flight after ${timeoutMs} ms`));
        }, timeoutMs);
        idleWaiters.add(wake);
      });
    },
    close: () => {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
        agent.destroy();
      });
      return closing;
    },
  };
}
