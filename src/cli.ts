#!/usr/bin/env node
/**
 * The `simpatico-ws` command.
 *
 *   simpatico-ws echo [--port N] [--host H] [--max-payload BYTES]
 *   simpatico-ws client-echo URL
 *   simpatico-ws serve [options]          (the registration demo; see `serve --help`)
 *   simpatico-ws explain HEX… | --key KEY (frames or a key, field by field; see src/learn)
 *   simpatico-ws trace TARGET [options]   (a relay that prints the conversation)
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { WebSocketServer } from './server/server.js';
import { connect } from './client/connect.js';
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

const ECHO_USAGE = `Usage: simpatico-ws echo [--port N] [--host H] [--max-payload BYTES]

Runs a WebSocket echo server and prints its ws:// URL once listening. Ctrl-C stops it.

Options:
  --port N              port to listen on; 0 picks a free one (default 9001)
  --host H              address to listen on (default 127.0.0.1)
  --max-payload BYTES   largest message accepted; larger ones close with 1009 (default 1048576)
  --help                show this help`;

const CLIENT_ECHO_USAGE = `Usage: simpatico-ws client-echo URL

Connects to URL (ws:// or wss://), echoes every message back until the server closes,
and exits 0 after a clean close, 1 otherwise.`;

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
      'max-payload': { type: 'string', default: '1048576' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    io.out(ECHO_USAGE);
    return 0;
  }
  const server = new WebSocketServer({
    port: integer('--port', values.port, 0, 65535),
    host: values.host,
    maxPayload: integer('--max-payload', values['max-payload'], 1, Number.MAX_SAFE_INTEGER),
  });
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
    options: { help: { type: 'boolean', default: false } },
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
  const ws = await connect(positionals[0]);
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  const [code, , wasClean] = await new Promise<[number, string, boolean]>((resolve) =>
    ws.once('close', (...args) => resolve(args)),
  );
  if (!wasClean) io.err(`simpatico-ws client-echo: the connection closed abnormally (${code}).`);
  return wasClean ? 0 : 1;
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
