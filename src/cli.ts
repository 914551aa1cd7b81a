#!/usr/bin/env node
/**
 * The `simpatico-ws` command.
 *
 *   simpatico-ws echo [options]
 *   simpatico-ws client-echo URL [options]
 *   simpatico-ws serve [options]          (the registration demo; see `serve --help`)
 *   simpatico-ws explain HEX… | --key KEY (frames or a key, field by field; see src/learn)
 *   simpatico-ws trace TARGET [options]   (a relay that prints the conversation)
 *   simpatico-ws --version
 *
 * One exit-code convention for every command (EXIT_CODES): 0 success, 1 a runtime failure, 2 a
 * usage error. A usage error is anything the command line itself got wrong, found before any
 * socket is opened: an unknown command or flag, a flag value out of range, a URL that is not one.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { WebSocketServer } from './server/server.js';
import { connect } from './client/connect.js';
import { CONNECTION_DEFAULTS } from './server/settings.js';
import { isToken } from './handshake/tokens.js';
import { WebSocketError } from './errors.js';
import { Log, logServer, type LogFormat } from './log.js';
import { stopped } from './signals.js';
import { traceTo, type Tracer } from './trace.js';

/** Where the command writes, and what stops a server it runs (besides SIGINT and SIGTERM). */
export interface CliIO {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Aborting it stops a running server as Ctrl-C does. */
  signal?: AbortSignal;
}

/** The exit codes every command follows, as every --help states them. */
export const EXIT_CODES = `Exit codes:
  0  success (a server stopped by Ctrl-C, a connection closed normally)
  1  runtime failure: cannot listen, cannot connect, a connection that ended abnormally
  2  usage error: unknown command or flag, a bad flag value`;

const USAGE = `Usage: simpatico-ws <command> [options]
       simpatico-ws --version

Commands:
  echo          run an echo server (text echoed as text, binary as binary)
  client-echo   connect to a server and echo every message back until it closes
  serve         run the Simpatico Registration Protocol server and its demo page
  explain       decode frames (hex) or a Sec-WebSocket-Key field by field, to learn the protocol
  trace         relay clients to a server and print the whole conversation as it happens

Run 'simpatico-ws <command> --help' for a command's options.

${EXIT_CODES}`;

const s = (ms: number): string => String(ms / 1000);

/** The options both echoes take, for their help. */
const CONNECTION_HELP = `  --max-payload BYTES   largest message accepted; larger ones close with 1009 (default ${CONNECTION_DEFAULTS.maxPayload})
  --max-message BYTES   the same limit, by the name 'serve' gives it
  --heartbeat SECONDS   ping a peer silent this long, drop it if no answer in as long again;
                        0 for none (default ${s(CONNECTION_DEFAULTS.heartbeatInterval)})
  --permessage-deflate  compress messages (RFC 7692) when the peer agrees; a server answers in
                        the memory-bounded mode (no context takeover either way)
  --trace               print every connection's heads and frames on stderr, as 'trace' does`;

const ECHO_USAGE = `Usage: simpatico-ws echo [options]

Runs a WebSocket echo server and prints its ws:// URL once listening. Ctrl-C stops it.
Every refused handshake and every connection closed for its peer's fault is reported on
stderr, one line each (at most 20 a second; the rest are counted).

Options:
  --port N              port to listen on; 0 picks a free one (default 9001)
  --host H              address to listen on (default 127.0.0.1)
  --protocol NAME       a subprotocol to accept; repeat for several, in order of preference:
                        the first one the client also offers is selected (RFC 6455 §4.2.2)
${CONNECTION_HELP}
  --max-connections N   connections at once; more are answered 503 (default 1024)
  --log text|json       how refusals are reported on stderr (default text)
  --quiet               report nothing but the URL
  --help                show this help

${EXIT_CODES}`;

const CLIENT_ECHO_USAGE = `Usage: simpatico-ws client-echo URL [options]

Connects to URL (ws:// or wss://) and echoes every message back until the connection closes.
It ends normally (exit 0) when the closing handshake completes with 1000 (Normal Closure),
1001 (Going Away: the server is shutting down) or no code at all (1005). Any other close
code, even in a clean closing handshake (1011 Internal Error, 1008 Policy Violation, ...),
is the server ending the session for a failure, and so is a connection that drops: exit 1.

Options:
${CONNECTION_HELP}
  --help                show this help

${EXIT_CODES}`;

/** The flags of the connection options, as parseArgs wants them. */
const CONNECTION_FLAGS = {
  'max-payload': { type: 'string' },
  'max-message': { type: 'string' },
  heartbeat: { type: 'string' },
  'permessage-deflate': { type: 'boolean', default: false },
  trace: { type: 'boolean', default: false },
} as const;

/** Reads the connection flags: --max-payload (or --max-message) in bytes, --heartbeat in seconds. */
function connectionFlags(
  values: { 'max-payload'?: string; 'max-message'?: string; heartbeat?: string; 'permessage-deflate'?: boolean; trace?: boolean },
  io: CliIO,
): {
  maxPayload: number;
  heartbeatInterval: number;
  perMessageDeflate: boolean;
  trace: Tracer | undefined;
} {
  if (values['max-payload'] !== undefined && values['max-message'] !== undefined) {
    throw new UsageError('--max-payload and --max-message are the same limit: give one.');
  }
  const size = values['max-payload'] ?? values['max-message'];
  const name = values['max-payload'] !== undefined ? '--max-payload' : '--max-message';
  return {
    maxPayload: size === undefined ? CONNECTION_DEFAULTS.maxPayload : integer(name, size, 1, Number.MAX_SAFE_INTEGER),
    heartbeatInterval: values.heartbeat === undefined ? CONNECTION_DEFAULTS.heartbeatInterval : seconds('--heartbeat', values.heartbeat),
    perMessageDeflate: values['permessage-deflate'] === true,
    trace: values.trace === true ? traceTo(io.err) : undefined,
  };
}

/** A mistake in the command line itself: exit 2, with a pointer to the command's help. */
class UsageError extends Error {}

/** Whether `error` is the command line's fault: exit 2 rather than 1. */
function isUsageError(error: unknown): boolean {
  if (error instanceof UsageError) return true;
  // node:util parseArgs: an unknown flag, a flag without its value, a stray positional.
  if (String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS_')) return true;
  // The URL given to client-echo is not a ws:// or wss:// URL.
  return error instanceof WebSocketError && error.code === 'WS_ERR_INVALID_URL';
}

/** The version in the package.json beside this module's folder (src/ or dist/), not the cwd's. */
function version(): string {
  return JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
}

/** Runs the command line; resolves to the process exit code (see EXIT_CODES). */
export async function main(argv: string[], io: CliIO = defaultIO()): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'echo':
        return await echo(rest, io);
      case 'client-echo':
        return await clientEcho(rest, io);
      case 'serve': {
        const serve = await import('./registration/serve.js');
        return await withExitCodes((io) => serve.main(rest, io), io);
      }
      case 'explain':
      case 'trace': {
        const learn = await import('./learn/commands.js');
        return await withExitCodes((io) => learn.main(command, rest, io), io);
      }
      case '--version':
      case '-v':
        io.out(version());
        return 0;
      case '--help':
      case '-h':
      case undefined:
        (command === undefined ? io.err : io.out)(USAGE);
        return command === undefined ? 2 : 0;
      default:
        io.err(`simpatico-ws: unknown command '${command}'. Run 'simpatico-ws --help'.`);
        return 2;
    }
  } catch (error) {
    if (!isUsageError(error)) {
      io.err(`simpatico-ws ${command}: ${(error as Error).message}`);
      return 1;
    }
    io.err(`simpatico-ws ${command}: ${(error as Error).message}\nRun 'simpatico-ws ${command} --help' for the options.`);
    return 2;
  }
}

/**
 * Runs a command whose help text lives in its own module (serve, explain, trace), and states the
 * exit codes after that help when the text does not state them itself: every --help states them.
 */
async function withExitCodes(run: (io: CliIO) => Promise<number>, io: CliIO): Promise<number> {
  let help = false;
  let stated = false;
  const code = await run({
    ...io,
    out: (text) => {
      help ||= text.startsWith('Usage: ');
      stated ||= /^Exit (codes|status)/m.test(text);
      io.out(text);
    },
  });
  if (help && !stated) io.out(`\n${EXIT_CODES}`);
  return code;
}

async function echo(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '9001' },
      host: { type: 'string', default: '127.0.0.1' },
      protocol: { type: 'string', multiple: true },
      ...CONNECTION_FLAGS,
      'max-connections': { type: 'string', default: '1024' },
      log: { type: 'string', default: 'text' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    io.out(ECHO_USAGE);
    return 0;
  }
  const format = logFormat(values.log);
  // RFC 6455 §4.1: a subprotocol name is a token; any other name could never be offered.
  const bad = values.protocol?.find((name) => !isToken(name));
  if (bad !== undefined) throw new UsageError(`--protocol must be a token (letters, digits and !#$%&'*+-.^_\`|~), not '${bad}'.`);
  const server = new WebSocketServer({
    port: integer('--port', values.port, 0, 65535),
    host: values.host,
    ...(values.protocol !== undefined && { protocols: values.protocol }),
    ...connectionFlags(values, io),
    maxConnections: integer('--max-connections', values['max-connections'], 1, 1e9),
  });
  if (!values.quiet) logServer(server, new Log({ format, write: io.err }));
  server.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  await server.ready;
  io.out(server.url);
  await stopped(io.signal);
  await server.close();
  return 0;
}

async function clientEcho(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { ...CONNECTION_FLAGS, help: { type: 'boolean', default: false } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    io.out(CLIENT_ECHO_USAGE);
    return 0;
  }
  if (positionals.length !== 1) {
    io.err(CLIENT_ECHO_USAGE);
    return 2;
  }
  const ws = await connect(positionals[0], connectionFlags(values, io));
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  io.out(`connected to ${positionals[0]}; echoing until the server closes`);
  const [code, reason, wasClean] = await new Promise<[number, string, boolean]>((resolve) =>
    ws.once('close', (...args) => resolve(args)),
  );
  if (!wasClean) {
    io.err(`simpatico-ws client-echo: the connection closed abnormally (${code}).`);
    return 1;
  }
  // 1000 and 1001 are the two codes of an ending that is nobody's failure (RFC 6455 §7.4.1), and
  // 1005 is a Close frame without a code; every other code reports a problem.
  if (code === 1000 || code === 1001 || code === 1005) return 0;
  io.err(`simpatico-ws client-echo: the server closed the connection with ${code}${reason === '' ? '' : ` '${reason}'`}, which is not a normal closure.`);
  return 1;
}

/** Parses a number of seconds (fractions allowed, 0 included) into milliseconds. */
export function seconds(name: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n * 1000 > 2 ** 31 - 1) {
    throw new UsageError(`${name} must be a number of seconds from 0 to 2147483, not '${value}'.`);
  }
  return n * 1000;
}

function logFormat(value: string): LogFormat {
  if (value !== 'text' && value !== 'json') throw new UsageError(`--log must be text or json, not '${value}'.`);
  return value;
}

/** Parses a whole number option within [min, max], or throws a one-line error that names it. */
export function integer(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) {
    throw new UsageError(`${name} must be a whole number from ${min} to ${max}, not '${value}'.`);
  }
  return n;
}

function defaultIO(): CliIO {
  return { out: (line) => console.log(line), err: (line) => console.error(line) };
}

// Run when executed as a program (also through npm's bin symlink), not when imported by tests.
/* c8 ignore next -- argv[1] is missing only under `node -e` or a REPL, never when run as the command */
const invoked = process.argv[1] === undefined ? '' : realpathSync(process.argv[1]);
if (invoked === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
