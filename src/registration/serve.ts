/**
 * `simpatico-ws serve`: the Simpatico Registration Protocol server and its demo page (`npm start`).
 *
 * One URL does both, as the seed's page expects: GET `/` without an upgrade answers the demo page
 * (and the browser modules beside it); the same URL with an upgrade is the registration endpoint.
 */

import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { WebSocketServer } from '../server/server.js';
import { MAX_MESSAGE_BYTES, MAX_MILLISECONDS, MAX_RETRIES } from './core/server-options.js';
import { SERVER_DEFAULTS, MIN_MESSAGE_BYTES } from './core/server-role.js';
import { HUB_DEFAULTS, RegistrationHub, type RegistrationHubOptions } from './hub.js';
import { RedisBus, type RedisClientLike } from './redis-bus.js';
import { demoHttpHandler, loadWebFiles } from './static.js';
import { stopped } from '../signals.js';
import { Log, logServer } from '../log.js';
import { traceTo } from '../trace.js';

/** Where `serve` writes, and what stops it besides SIGINT and SIGTERM (the CLI's `CliIO`). */
export interface ServeIO {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Aborting it stops the server as Ctrl-C does. */
  signal?: AbortSignal;
}

const s = (ms: number) => String(ms / 1000);

export const SERVE_USAGE = `Usage: simpatico-ws serve [options]

Serves the registration demo page at / and, on the same URL, the Simpatico Registration
Protocol endpoint. Prints the URL once listening; Ctrl-C stops it. Times are in seconds and may
be fractional.

Options:
  --port N                  port to listen on, 0 for any free one (default: $PORT or 8080)
  --host H                  address to listen on (default: $HOST or 127.0.0.1)
  --expected-host H         host[:port] that signatures must name; repeat for several. Default,
                            on a loopback address only: the names it is reachable at
                            (127.0.0.1:PORT, localhost:PORT, [::1]:PORT); on any other
                            address it is required
  --heartbeat SECONDS       heartbeat challenge interval, 0 for none (default ${s(SERVER_DEFAULTS.heartbeatInterval)})
  --heartbeat-timeout SECONDS  time to answer a heartbeat challenge (default ${s(SERVER_DEFAULTS.heartbeatTimeout)})
  --register-timeout SECONDS   time a new connection has to register (default ${s(SERVER_DEFAULTS.registerTimeout)})
  --nonce-ttl SECONDS       how long a challenge can be answered (default ${s(SERVER_DEFAULTS.nonceTtl)})
  --retries N               further attempts after a refused answer (default ${SERVER_DEFAULTS.retries})
  --max-message BYTES       largest message, at least ${MIN_MESSAGE_BYTES}; larger closes with 1009 (default ${SERVER_DEFAULTS.maxMessageBytes})
  --rate MESSAGES_PER_SECOND  sustained messages per connection; faster closes with 1008 (default ${SERVER_DEFAULTS.rate})
  --burst N                 messages allowed at once before the rate applies (default 2 x rate)
  --fanout DELIVERIES_PER_SECOND  sustained deliveries per sender, a broadcast to N costs N;
                            over it the message is refused with an error reply (default ${SERVER_DEFAULTS.fanout})
  --fanout-burst N          deliveries allowed at once before the fan-out rate applies (default 2 x fanout)
  --refusals-per-minute N   refused answers per address (IPv6: per /64) before new connections
                            from it are answered 429 with Retry-After (default ${HUB_DEFAULTS.refusalsPerMinute})
  --max-connections N       connections at once, more are answered 503 (default 1024)
  --max-connections-per-address N  connections at once from one IP address, more get 429
                            (default a quarter of --max-connections, at most 256; behind a proxy
                            every client has the proxy's address)
  --max-handshakes-per-address N   opening handshakes in progress at once from one address, more
                            get 429 (default 32)
  --log text|json           how refusals, protocol errors and limits are reported on stderr,
                            one line each, at most 20 a second (default text)
  --quiet                   report only the URL, the hosts signatures must name and Redis going
                            down and coming back (no registered/unregistered line per key)
  --trace                   print every connection's heads and frames on stderr, as 'trace' does
  --redis redis://HOST:PORT  one node of many: keys registered on any node sharing this Redis
                            are routable from every one (needs the redis package: npm install redis)
  --tls-cert FILE           serve https:// and wss:// with this PEM certificate (chain) ...
  --tls-key FILE            ... and this PEM private key; browsers need a secure context
                            (https, or http on localhost) for WebCrypto Ed25519
  --help                    show this help`;

/** Parses a number of seconds (fractional allowed) into milliseconds, as many as a timer can wait. */
function seconds(name: string, value: string, allowZero: boolean): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || (!allowZero && n === 0) || n * 1000 > MAX_MILLISECONDS) {
    throw new UsageError(
      `${name} must be a number of seconds ${allowZero ? 'of 0 or more' : 'above 0'} and at most ${MAX_MILLISECONDS / 1000}, not '${value}'.`,
    );
  }
  return n * 1000;
}

function whole(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) throw new UsageError(`${name} must be a whole number from ${min} to ${max}, not '${value}'.`);
  return n;
}

function positiveNumber(name: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !(n > 0 && n <= Number.MAX_SAFE_INTEGER)) {
    throw new UsageError(`${name} must be a number above 0 and at most 2^53 - 1, not '${value}'.`);
  }
  return n;
}

/**
 * Whether `host` (as given to --host) is a loopback address: 127.0.0.0/8 (RFC 1122 §3.2.1.3), also
 * IPv4-mapped, ::1 (RFC 4291 §2.5.3), or the name localhost (RFC 6761 §6.3).
 */
export function isLoopbackHost(host: string): boolean {
  const bare = (host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host).toLowerCase();
  if (bare === 'localhost' || bare === '::1') return true;
  const v4 = bare.startsWith('::ffff:') ? bare.slice(7) : bare;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

/**
 * The hosts a browser or client may name when it reaches a loopback server on `port`: what it puts
 * in `Host` for `http://127.0.0.1:PORT/`, `http://localhost:PORT/` and `http://[::1]:PORT/`, and the
 * bound address itself. The port is left out on the scheme's default, as URLs leave it out.
 */
export function loopbackHosts(address: string, port: number, secure: boolean): string[] {
  const suffix = port === (secure ? 443 : 80) ? '' : `:${port}`;
  const own = address.includes(':') ? `[${address}]` : address;
  return [...new Set(['127.0.0.1', 'localhost', '[::1]', own])].map((name) => name + suffix);
}

class UsageError extends Error {}

function checkRedisUrl(value: string): void {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'redis:' && url.protocol !== 'rediss:') || url.hostname === '') {
    throw new UsageError(`--redis must be a redis:// or rediss:// URL (redis://HOST:PORT), not '${value}'.`);
  }
}

/** The Redis URL as it may be printed: its password, if any, left out. */
function shownUrl(value: string): string {
  const url = new URL(value);
  if (url.password !== '') url.password = '***';
  return url.toString();
}

/** The parsed command line. */
export interface ServeConfig {
  port: number;
  host: string;
  maxConnections: number;
  maxConnectionsPerAddress: number;
  maxHandshakesPerAddress: number;
  /** How refusals are reported on stderr; undefined with --quiet. */
  log: 'text' | 'json' | undefined;
  /** --trace: every connection's bytes explained on stderr. */
  trace: boolean;
  protocol: RegistrationHubOptions;
  /** Paths of the PEM certificate and key, to serve https:// and wss://. */
  tls?: { cert: string; key: string };
  /** --redis: the URL of the Redis that the nodes of one key space share. */
  redis?: string;
}

/** Parses `serve`'s arguments (and PORT / HOST from `env`). Throws a usage error for bad ones. */
export function parseServeArgs(argv: string[], env: Record<string, string | undefined> = process.env): ServeConfig | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'expected-host': { type: 'string', multiple: true },
      heartbeat: { type: 'string' },
      'heartbeat-timeout': { type: 'string' },
      'register-timeout': { type: 'string' },
      'nonce-ttl': { type: 'string' },
      retries: { type: 'string' },
      'max-message': { type: 'string' },
      rate: { type: 'string' },
      burst: { type: 'string' },
      fanout: { type: 'string' },
      'fanout-burst': { type: 'string' },
      'refusals-per-minute': { type: 'string' },
      'max-connections': { type: 'string' },
      'max-connections-per-address': { type: 'string' },
      'max-handshakes-per-address': { type: 'string' },
      log: { type: 'string' },
      quiet: { type: 'boolean', default: false },
      trace: { type: 'boolean', default: false },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      redis: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const protocol: RegistrationHubOptions = {};
  if (values['expected-host'] !== undefined) {
    if (values['expected-host'].some((h) => h.trim() === '')) throw new UsageError('--expected-host must name a host[:port], not an empty string.');
    protocol.expectedHosts = values['expected-host'];
  }
  if (values.heartbeat !== undefined) protocol.heartbeatInterval = seconds('--heartbeat', values.heartbeat, true);
  if (values['heartbeat-timeout'] !== undefined) protocol.heartbeatTimeout = seconds('--heartbeat-timeout', values['heartbeat-timeout'], false);
  if (values['register-timeout'] !== undefined) protocol.registerTimeout = seconds('--register-timeout', values['register-timeout'], false);
  if (values['nonce-ttl'] !== undefined) protocol.nonceTtl = seconds('--nonce-ttl', values['nonce-ttl'], false);
  if (values.retries !== undefined) protocol.retries = whole('--retries', values.retries, 0, MAX_RETRIES);
  if (values['max-message'] !== undefined) {
    protocol.maxMessageBytes = whole('--max-message', values['max-message'], MIN_MESSAGE_BYTES, MAX_MESSAGE_BYTES);
  }
  if (values.rate !== undefined) protocol.rate = positiveNumber('--rate', values.rate);
  if (values.burst !== undefined) protocol.burst = whole('--burst', values.burst, 1, 1e9);
  if (values.fanout !== undefined) protocol.fanout = positiveNumber('--fanout', values.fanout);
  if (values['fanout-burst'] !== undefined) protocol.fanoutBurst = whole('--fanout-burst', values['fanout-burst'], 1, 1e9);
  if (values['refusals-per-minute'] !== undefined) {
    protocol.refusalsPerMinute = whole('--refusals-per-minute', values['refusals-per-minute'], 1, 1e9);
  }
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) {
    throw new UsageError('--tls-cert and --tls-key go together: give both, or neither for plain http and ws.');
  }
  if (values.redis !== undefined) checkRedisUrl(values.redis);
  const host = values.host ?? env.HOST ?? '127.0.0.1';
  // A signature names the host the client meant. Taking that from each request's Host header lets
  // a relay hand a victim's signature to this server under its own connection; on loopback the
  // names are known, elsewhere only the operator knows them.
  if (protocol.expectedHosts === undefined && !isLoopbackHost(host)) {
    throw new UsageError(
      `${host} is not a loopback address, so the names clients reach this server by are not known: give ` +
        `--expected-host with each host[:port] they put in the URL (e.g. --expected-host chat.example.com).`,
    );
  }
  const maxConnections = whole('--max-connections', values['max-connections'] ?? '1024', 1, 1e9);
  if (values.log !== undefined && values.log !== 'text' && values.log !== 'json') {
    throw new UsageError(`--log must be text or json, not '${values.log}'.`);
  }
  return {
    port: whole(values.port !== undefined ? '--port' : 'PORT', values.port ?? env.PORT ?? '8080', 0, 65535),
    host,
    maxConnections,
    // One address holds at most a quarter of the slots: a household or office behind one NAT
    // never meets it in normal use; one attacker cannot take every slot.
    maxConnectionsPerAddress:
      values['max-connections-per-address'] === undefined
        ? Math.max(1, Math.min(256, Math.floor(maxConnections / 4)))
        : whole('--max-connections-per-address', values['max-connections-per-address'], 1, 1e9),
    maxHandshakesPerAddress: whole('--max-handshakes-per-address', values['max-handshakes-per-address'] ?? '32', 1, 1e9),
    log: values.quiet ? undefined : ((values.log ?? 'text') as 'text' | 'json'),
    trace: values.trace,
    protocol,
    ...(values['tls-cert'] !== undefined && { tls: { cert: values['tls-cert'], key: values['tls-key'] as string } }),
    ...(values.redis !== undefined && { redis: values.redis }),
  };
}

/** Where the browser build (tsconfig.browser.json) puts the modules: <package>/dist/web. */
const WEB_ROOT = fileURLToPath(new URL('../../dist/web/', import.meta.url));

/** What `serve` uses of the `redis` package (node-redis v4 or later). */
export interface RedisModule {
  createClient(options: object): RedisClientLike & { connect(): Promise<unknown>; disconnect(): Promise<unknown> };
}

/** Loads `redis` from where simpatico-ws is installed. The name is a variable: nothing here depends on it at build time. */
const loadRedis = (): Promise<RedisModule> => {
  const name = 'redis';
  return import(name) as Promise<RedisModule>;
};

/** Connects to Redis for --redis; failures are one line on stderr and `undefined`. */
async function connectRedis(url: string, io: ServeIO, load: () => Promise<RedisModule>) {
  let redis: RedisModule;
  try {
    redis = await load();
  } catch (error) {
    const code = (error as { code?: string }).code ?? (error as Error).message;
    io.err(`simpatico-ws serve: --redis needs the redis package (node-redis 4 or later), which cannot be loaded (${code}): run 'npm install redis'.`);
    return undefined;
  }
  let started = false;
  const client = redis.createClient({
    url,
    // A command while Redis is away fails at once rather than waiting for it to return: a sender
    // is told "other nodes unreachable" instead of waiting.
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 2000,
      // At start, give up after a few tries (the operator gets an exit code); once running, try
      // forever, at most half a second apart, so a Redis that is back is used again within a second.
      reconnectStrategy: (retries: number, cause: Error) => (started ? Math.min(50 * 2 ** retries, 500) : retries < 2 ? 100 : cause),
    },
  });
  // The bus reports the state (one line when down, one when back); each failed retry is no news.
  client.on('error', () => {});
  try {
    await client.connect();
    started = true;
    const bus = await new RedisBus(client).connect();
    return { client, bus };
  } catch (error) {
    io.err(`simpatico-ws serve: cannot connect to Redis at ${shownUrl(url)}: ${(error as Error).message}`);
    return undefined;
  }
}

/**
 * Runs `simpatico-ws serve` with `argv` (the arguments after `serve`). Resolves to the exit code
 * once the server has shut down (SIGINT, SIGTERM or `io.signal`): 0, 1 on failure, 2 on bad usage.
 */
export async function main(
  argv: string[],
  io: ServeIO = { out: console.log, err: console.error },
  webRoot = WEB_ROOT,
  load: () => Promise<RedisModule> = loadRedis,
): Promise<number> {
  let config: ServeConfig | 'help';
  try {
    config = parseServeArgs(argv);
  } catch (error) {
    io.err(`simpatico-ws serve: ${(error as Error).message}\nRun 'simpatico-ws serve --help' for the options.`);
    return 2;
  }
  if (config === 'help') {
    io.out(SERVE_USAGE);
    return 0;
  }
  let tls: { cert: Buffer; key: Buffer } | undefined;
  if (config.tls !== undefined) {
    try {
      tls = { cert: await readFile(config.tls.cert), key: await readFile(config.tls.key) };
    } catch (error) {
      io.err(`simpatico-ws serve: cannot read the TLS certificate or key: ${(error as Error).message}`);
      return 1;
    }
  }
  const redis = config.redis === undefined ? undefined : await connectRedis(config.redis, io, load);
  if (config.redis !== undefined && redis === undefined) return 1;
  const closeRedis = async () => {
    if (redis === undefined) return;
    await redis.bus.close();
    await redis.client.disconnect();
  };
  const files = await loadWebFiles(webRoot);
  if (files.size === 0) io.err(`simpatico-ws serve: no browser modules in ${webRoot}; run 'npm run build' first. The page will not work.`);
  let server: WebSocketServer;
  // Made once the port is known (the expected hosts name it). No request can be verified before:
  // the first one is read from a socket only after `ready` has resolved and this function resumed.
  let hub: RegistrationHub;
  try {
    server = new WebSocketServer({
      port: config.port,
      host: config.host,
      maxConnections: config.maxConnections,
      maxConnectionsPerAddress: config.maxConnectionsPerAddress,
      maxHandshakesPerAddress: config.maxHandshakesPerAddress,
      ...(config.trace && { trace: traceTo(io.err) }),
      // The connection layer refuses oversized messages (1009) before they are even buffered.
      maxPayload: config.protocol.maxMessageBytes ?? SERVER_DEFAULTS.maxMessageBytes,
      httpHandler: demoHttpHandler(files),
      verifyClient: (request) => hub.verifyClient(request),
      // The protocol's JSON compresses well; the memory-bounded mode keeps no zlib state per
      // connection and compresses a broadcast once (RFC 7692 §7.1.1).
      perMessageDeflate: true,
      ...(tls !== undefined && { tls }),
    });
  } catch (error) {
    // Only TLS material that node:tls refuses (not PEM, or a key that does not match) gets here.
    io.err(`simpatico-ws serve: ${(error as Error).message}`);
    await closeRedis();
    return 1;
  }
  try {
    await server.ready;
  } catch (error) {
    io.err(`simpatico-ws serve: cannot listen on ${config.host}:${config.port}: ${(error as Error).message}`);
    await closeRedis();
    return 1;
  }
  const { address, port } = server.address();
  // Without --expected-host the address is a loopback one (parseServeArgs refuses any other).
  const expectedHosts = config.protocol.expectedHosts ?? loopbackHosts(address, port, tls !== undefined);
  // Every value was checked while parsing, so the hub accepts them.
  hub = new RegistrationHub({ ...config.protocol, expectedHosts, ...(redis !== undefined && { bus: redis.bus }) });
  if (redis !== undefined) {
    const at = shownUrl(config.redis as string);
    redis.bus.on('down', (error) =>
      io.err(`simpatico-ws serve: Redis at ${at} is unreachable (${error.message}): messages reach this node's connections only until it is back`),
    );
    redis.bus.on('up', () => io.err(`simpatico-ws serve: Redis at ${at} is back: routing across nodes again`));
    io.out(`simpatico-ws serve: one node of many, through Redis at ${at} (node ${redis.bus.id})`);
  }
  hub.attach(server);
  if (config.log !== undefined) {
    logServer(server, new Log({ format: config.log, write: io.err }));
    // A line per key costs a console call and a write each (about a tenth of a registration's CPU
    // in a profile): printed unless --quiet, which is how a busy server runs.
    hub.on('registered', (key) => io.out(`registered ${key}`));
    hub.on('unregistered', (key) => io.out(`unregistered ${key}`));
  }
  const url = server.url.replace(/^ws/, 'http');
  io.out(`simpatico-ws serve: the registration demo is at ${url} (WebSocket endpoint ${server.url})`);
  io.out(`simpatico-ws serve: signatures must name ${expectedHosts.join(', ')}`);
  await stopped(io.signal);
  hub.detach();
  await server.close();
  await closeRedis();
  io.out('simpatico-ws serve: stopped');
  return 0;
}

