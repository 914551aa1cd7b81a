/**
 * The learner's commands: `simpatico-ws explain` (frames or a key, field by field) and
 * `simpatico-ws trace` (a relay that prints a live conversation). Exit status: 0 when all is well,
 * 1 when explained bytes break a rule (or a runtime failure), 2 for input or usage that cannot be
 * read — always with one line on stderr, never a stack trace.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { buildClientRequest } from '../handshake/index.js';
import { stopped } from '../signals.js';
import { explainKey } from './accept.js';
import { type Explanation, explainFrames } from './explain.js';
import { InputError, parseHex, readText } from './input.js';
import { TraceRelay } from './relay.js';
import { traceLines } from './trace-text.js';
import type { Side } from './words.js';

/** Where the commands write and read (the CLI's `CliIO`, and stdin for `explain -`). */
export interface LearnIO {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Aborting it stops `trace` as Ctrl-C does. */
  signal?: AbortSignal;
  /** Read by `explain -`; default process.stdin. */
  stdin?: AsyncIterable<Uint8Array>;
}

export const EXPLAIN_USAGE = `Usage: simpatico-ws explain [--from client|server] HEX...
       simpatico-ws explain [--from client|server] -      (hex on stdin)
       simpatico-ws explain --key BASE64

Decodes WebSocket frames (RFC 6455 §5) field by field: FIN, RSV1-3, the opcode,
MASK, the length and its form, the masking key, the payload masked and unmasked,
and what it says (text, close code). A frame that breaks a rule is explained:
which rule, which section, and the close code a receiver answers with. Hex may
be spaced or not, in one argument or several.

With --key, shows how a server computes Sec-WebSocket-Accept from the client's
Sec-WebSocket-Key (RFC 6455 §4.2.2), or why the key is invalid.

Options:
  --from client|server   who sent the frames, to check the masking rule (§5.1);
                         without it, the first frame's MASK bit decides
  --key BASE64           explain the accept computation for this key
  --help                 show this help

Exit status: 0 valid, 1 the bytes (or the key) break a rule, 2 unreadable input
or bad usage.`;

export const TRACE_USAGE = `Usage: simpatico-ws trace TARGET [--port P] [--host H] [--json] [--ca FILE]

Listens on a local port and relays every client that connects to TARGET (a
ws:// or wss:// URL), printing the whole conversation as it happens: the HTTP
request and response (with Sec-WebSocket-Accept checked), every frame both ways,
fragmented messages reassembled, pings and pongs, the closing handshake, the
connection's states (CONNECTING, OPEN, CLOSING, CLOSED) and who closed TCP
first. The first line is the URL to connect to; each later line starts with its
connection number.

The relay passes every byte on exactly as it came, both ways: the trace never
changes the conversation, not even the Host header. The target sees the Host
your client sent (the relay's address), so a target that routes by Host or
checks Origin may answer differently than when called directly. Clients speak
plain ws:// to the relay; for a wss:// target, the relay speaks TLS to the
target. Ctrl-C stops it.

Options:
  --port P    port to listen on; 0 picks a free one (default 0)
  --host H    address to listen on (default 127.0.0.1)
  --json      one JSON object per event and line, for tools; the first is
              {"event":"listening","url":...}
  --ca FILE   trust this PEM certificate (authority) for a wss:// target,
              e.g. a test server's self-signed certificate
  --help      show this help`;

/** Runs `explain` or `trace`; resolves to the exit status. */
export async function main(command: 'explain' | 'trace', argv: string[], io: LearnIO): Promise<number> {
  try {
    return command === 'explain' ? await explain(argv, io) : await trace(argv, io);
  } catch (error) {
    const usage = error instanceof InputError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true;
    io.err(`simpatico-ws ${command}: ${(error as Error).message}`);
    return usage ? 2 : 1;
  }
}

async function explain(argv: string[], io: LearnIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      from: { type: 'string' },
      key: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    io.out(EXPLAIN_USAGE);
    return 0;
  }
  const from = values.from;
  if (from !== undefined && from !== 'client' && from !== 'server') {
    throw new InputError(`--from must be client or server, not '${from}'.`);
  }
  let result: Explanation;
  if (values.key !== undefined) {
    if (positionals.length > 0 || from !== undefined) throw new InputError('--key takes no frames and no --from: explain a key, or frames, not both.');
    result = explainKey(values.key);
  } else {
    if (positionals.length === 0) {
      io.err(EXPLAIN_USAGE);
      return 2;
    }
    let text: string;
    if (positionals.includes('-')) {
      if (positionals.length > 1) throw new InputError("'-' reads all the hex from stdin: give no other hex with it.");
      text = await readText(io.stdin ?? process.stdin);
    } else {
      text = positionals.join(' ');
    }
    result = explainFrames(parseHex(text.trim()), { from: from as Side | undefined });
  }
  for (const line of result.lines) io.out(line);
  return result.valid ? 0 : 1;
}

async function trace(argv: string[], io: LearnIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      json: { type: 'boolean', default: false },
      ca: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    io.out(TRACE_USAGE);
    return 0;
  }
  if (positionals.length !== 1) {
    io.err(TRACE_USAGE);
    return 2;
  }
  const [target] = positionals as [string];
  if (!/^wss?:/i.test(target)) throw new InputError(`TARGET must be a ws:// or wss:// URL, not '${target}'.`);
  try {
    buildClientRequest(target);
  } catch (error) {
    throw new InputError(`TARGET: ${(error as Error).message}.`);
  }
  if (!/^\d+$/.test(values.port) || Number(values.port) > 65535) {
    throw new InputError(`--port must be a whole number from 0 to 65535, not '${values.port}'.`);
  }
  let ca: Buffer | undefined;
  if (values.ca !== undefined) {
    try {
      ca = await readFile(values.ca);
    } catch (error) {
      throw new InputError(`cannot read --ca ${values.ca}: ${(error as Error).message}`);
    }
  }
  const print = values.json
    ? (event: object): void => io.out(JSON.stringify(event))
    : (event: Parameters<typeof traceLines>[0]): void => {
        for (const line of traceLines(event)) io.out(line);
      };
  const relay = new TraceRelay({ target, port: Number(values.port), host: values.host, ca }, print);
  await relay.ready;
  print({ event: 'listening', url: relay.url, target });
  await stopped(io.signal);
  await relay.close();
  return 0;
}
