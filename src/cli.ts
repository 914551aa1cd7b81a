#!/usr/bin/env node
/**
 * The `simpatico-ws` command.
 *
 *   simpatico-ws echo [options]
 *   simpatico-ws client-echo URL [options]
 *   simpatico-ws serve [options]          (the registration demo; see `serve --help`)
 *   simpatico-ws explain HEX… | --key KEY (frames or a key, field by field; see src/learn)
 *   simpatico-ws trace TARGET [options]   (a relay that prints the conversation)
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { WebSocketServer } from './server/server.js';
import { connect } from './client/connect.js';
import { CONNECTION_DEFAULTS } from './server/settings.js';
import { Log, logServer, type LogFormat } from './log.js';
import { stopped } from './signals.js';

/** Where the command writes, and what stops a server it runs (besides SIGINT and SIGTERM). */
export interface CliIO {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Aborting it stops a running server as Ctrl-C does. */
  signal?: AbortSignal;
}

const USAGE = `Usage: simpatico-ws <command> [options]

Commands:
  echo          run an echo server (text echoed as text, binary as binary)
  client-echo   connect to a server and echo every message back until it closes
  serve         run the Simpatico Registration Protocol server and its demo page
  explain       decode frames (hex) or a Sec-WebSocket-Key field by field, to learn the protocol
  trace         relay clients to a server and print the whole conversation as it happens

Run 'simpatico-ws <command> --help' for a command's options.`;

const s = (ms: number): string => String(ms / 1000);

/** The options both echoes take, for their help. */
const CONNECTION_HELP = `  --max-payload BYTES   largest message accepted; larger ones close with 1009 (default ${CONNECTION_DEFAULTS.maxPayload})
  --max-message BYTES   the same limit, by the name 'serve' gives it
  --heartbeat SECONDS   ping a peer silent this long, drop it if no answer in as long again;
                        0 for none (default ${s(CONNECTION_DEFAULTS.heartbeatInterval)})`;

const ECHO_USAGE = `Usage: simpatico-ws echo [options]

Runs a WebSocket echo server and prints its ws:// URL once listening. Ctrl-C stops it.
Every refused handshake and every connection closed for its peer's fault is reported on
stderr, one line each (at most 20 a second; the rest are counted).

Options:
  --port N              port to listen on; 0 picks a free one (default 9001)
  --host H              address to listen on (default 127.0.0.1)
${CONNECTION_HELP}
  --max-connections N   connections at once; more are answered 503 (default 1024)
  --log text|json       how refusals are reported on stderr (default text)
  --quiet               report nothing but the URL
  --help                show this help`;

const CLIENT_ECHO_USAGE = `Usage: simpatico-ws client-echo URL [options]

Connects to URL (ws:// or wss://), echoes every message back until the server closes,
and exits 0 after a clean close, 1 otherwise.

Options:
${CONNECTION_HELP}
  --help                show this help`;

/** The flags of the connection options, as parseArgs wants them. */
const CONNECTION_FLAGS = {
  'max-payload': { type: 'string' },
  'max-message': { type: 'string' },
  heartbeat: { type: 'string' },
} as const;

/** Reads the connection flags: --max-payload (or --max-message) in bytes, --heartbeat in seconds. */
function connectionFlags(values: { 'max-payload'?: string; 'max-message'?: string; heartbeat?: string }): {
  maxPayload: number;
  heartbeatInterval: number;
} {
  if (values['max-payload'] !== undefined && values['max-message'] !== undefined) {
    throw new Error('--max-payload and --max-message are the same limit: give one.');
  }
  const size = values['max-payload'] ?? values['max-message'];
  const name = values['max-payload'] !== undefined ? '--max-payload' : '--max-message';
  return {
    maxPayload: size === undefined ? CONNECTION_DEFAULTS.maxPayload : integer(name, size, 1, Number.MAX_SAFE_INTEGER),
    heartbeatInterval: values.heartbeat === undefined ? CONNECTION_DEFAULTS.heartbeatInterval : seconds('--heartbeat', values.heartbeat),
  };
}

/** Runs the command line; resolves to the process exit code. */
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
        return await serve.main(rest, io);
      }
      case 'explain':
      case 'trace': {
        const learn = await import('./learn/commands.js');
        return await learn.main(command, rest, io);
      }
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
    io.err(`simpatico-ws ${command}: ${(error as Error).message}`);
    return 1;
  }
}

async function echo(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '9001' },
      host: { type: 'string', default: '127.0.0.1' },
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
  const server = new WebSocketServer({
    port: integer('--port', values.port, 0, 65535),
    host: values.host,
    ...connectionFlags(values),
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
  const ws = await connect(positionals[0], connectionFlags(values));
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  const [code, , wasClean] = await new Promise<[number, string, boolean]>((resolve) =>
    ws.once('close', (...args) => resolve(args)),
  );
  if (!wasClean) io.err(`simpatico-ws client-echo: the connection closed abnormally (${code}).`);
  return wasClean ? 0 : 1;
}

/** Parses a number of seconds (fractions allowed, 0 included) into milliseconds. */
export function seconds(name: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n * 1000 > 2 ** 31 - 1) {
    throw new Error(`${name} must be a number of seconds from 0 to 2147483, not '${value}'.`);
  }
  return n * 1000;
}

function logFormat(value: string): LogFormat {
  if (value !== 'text' && value !== 'json') throw new Error(`--log must be text or json, not '${value}'.`);
  return value;
}

/** Parses a whole number option within [min, max], or throws a one-line error that names it. */
export function integer(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) {
    throw new Error(`${name} must be a whole number from ${min} to ${max}, not '${value}'.`);
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
