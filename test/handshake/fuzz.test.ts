// Seeded random and mutated input: nothing but the module's typed errors ever comes out, and the
// parser's answer is the same in every chunking. A failure prints its seed and input to replay.
import t from 'tap';
import { WebSocketError } from '../../src/errors.js';
import {
  acceptKey,
  formatExtensions,
  parseExtensions,
  parseTokenList,
  validateServerResponse,
  validateUpgrade,
  type HeadParserOptions,
} from '../../src/handshake/index.js';
import { SEED_REQUEST, SEED_RESPONSE, everyByte, parseRequest, parseResponse, prng, randomCuts, splitResponse } from './helpers.js';

const SEED = 0x5eed6455;
const REQUEST_ERRORS = new Set(['WS_ERR_INVALID_REQUEST_LINE', 'WS_ERR_INVALID_HEADER', 'WS_ERR_HEAD_TOO_LARGE', 'WS_ERR_TOO_MANY_HEADERS']);
const RESPONSE_ERRORS = new Set(['WS_ERR_INVALID_STATUS_LINE', 'WS_ERR_INVALID_HEADER', 'WS_ERR_HEAD_TOO_LARGE', 'WS_ERR_TOO_MANY_HEADERS']);

const REQUESTS = [
  SEED_REQUEST,
  SEED_REQUEST.replace('\r\n\r\n', '\r\nSec-WebSocket-Protocol: chat, superchat\r\nOrigin: http://example.com\r\n\r\n'),
  SEED_REQUEST.replace('\r\n\r\n', '\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits="15", x\r\n\r\n'),
  SEED_REQUEST.replace('Connection: Upgrade', 'Connection: keep-alive, Upgrade'),
  'GET / HTTP/1.1\r\nHost: a\r\n\r\n',
];
const RESPONSES = [SEED_RESPONSE, SEED_RESPONSE.replace('\r\n\r\n', '\r\nSec-WebSocket-Protocol: chat\r\n\r\n'), 'HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n'];
/** Bytes that matter to the grammar, more likely than random ones. */
const INTERESTING = [0x0d, 0x0a, 0x20, 0x09, 0x3a, 0x2c, 0x3b, 0x3d, 0x22, 0x5c, 0x00, 0x7f, 0x80, 0xff, 0x2f, 0x61];

function mutate(random: () => number, input: Buffer): Buffer {
  let bytes = Buffer.from(input);
  const rounds = 1 + Math.floor(random() * 4);
  for (let r = 0; r < rounds; r++) {
    const at = Math.floor(random() * (bytes.length + 1));
    const pick = (): number => (random() < 0.6 ? (INTERESTING[Math.floor(random() * INTERESTING.length)] as number) : Math.floor(random() * 256));
    switch (Math.floor(random() * 6)) {
      case 0: // replace a byte
        if (at < bytes.length) bytes[at] = pick();
        break;
      case 1: // insert a byte
        bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from([pick()]), bytes.subarray(at)]);
        break;
      case 2: // delete a byte
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1)]);
        break;
      case 3: // duplicate a slice (repeated lines, repeated headers)
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at, at + 1 + Math.floor(random() * 40)), bytes.subarray(at)]);
        break;
      case 4: // truncate
        bytes = bytes.subarray(0, at);
        break;
      default: // append trailing bytes (pipelined data)
        bytes = Buffer.concat([bytes, Buffer.from(Array.from({ length: Math.floor(random() * 8) }, pick))]);
    }
  }
  return bytes;
}

t.test('mutated requests: typed errors only, same answer in every chunking, complete refusals', async (t) => {
  const random = prng(SEED);
  let complete = 0;
  let errors = 0;
  let accepted = 0;
  const failures: string[] = [];
  for (let i = 0; i < 3000; i++) {
    const input = mutate(random, Buffer.from(REQUESTS[i % REQUESTS.length] as string, 'latin1'));
    const options: HeadParserOptions | undefined = i % 7 === 0 ? { maxHeadSize: 64, maxHeaderCount: 3 } : undefined;
    const replay = `seed ${SEED}, case ${i}: ${JSON.stringify(input.toString('latin1'))}`;
    try {
      const whole = parseRequest(input, [], options);
      const cuts = randomCuts(random, input.length);
      if (JSON.stringify(parseRequest(input, cuts, options)) !== JSON.stringify(whole)) failures.push(`chunking ${cuts}: ${replay}`);
      if (i % 10 === 0 && JSON.stringify(parseRequest(input, everyByte(input.length), options)) !== JSON.stringify(whole)) {
        failures.push(`byte by byte: ${replay}`);
      }
      if (whole.state === 'error') {
        errors++;
        if (!REQUEST_ERRORS.has(whole.code) || (whole.status !== 400 && whole.status !== 431)) failures.push(`error ${whole.code}/${whole.status}: ${replay}`);
      } else if (whole.state === 'complete') {
        complete++;
        const decision = validateUpgrade(whole.head, { protocols: ['chat'] });
        if (decision.ok) {
          accepted++;
          if (decision.accept !== acceptKey(decision.key)) failures.push(`accept: ${replay}`);
        } else {
          const { head, body } = splitResponse(decision.response);
          if (!(decision.error instanceof WebSocketError) || !decision.error.code.startsWith('WS_ERR_HANDSHAKE_') || head.status !== decision.error.status) {
            failures.push(`refusal ${decision.error.code}: ${replay}`);
          }
          if (Number(head.headers['content-length']) !== Buffer.byteLength(body)) failures.push(`content-length: ${replay}`);
        }
      }
    } catch (error) {
      failures.push(`threw ${String(error)}: ${replay}`);
    }
  }
  t.strictSame(failures.slice(0, 5), [], 'no failures');
  t.comment(`3000 mutated requests: ${complete} complete (${accepted} accepted), ${errors} errors`);
  t.ok(complete > 300 && errors > 300 && accepted > 100, 'the mutations reach both outcomes and the validator');
});

t.test('mutated responses: typed errors only, same answer in every chunking', async (t) => {
  const random = prng(SEED + 1);
  const failures: string[] = [];
  let complete = 0;
  for (let i = 0; i < 1500; i++) {
    const input = mutate(random, Buffer.from(RESPONSES[i % RESPONSES.length] as string, 'latin1'));
    const replay = `seed ${SEED + 1}, case ${i}: ${JSON.stringify(input.toString('latin1'))}`;
    try {
      const whole = parseResponse(input);
      if (JSON.stringify(parseResponse(input, randomCuts(random, input.length))) !== JSON.stringify(whole)) failures.push(`chunking: ${replay}`);
      if (whole.state === 'error' && (!RESPONSE_ERRORS.has(whole.code) || whole.status !== undefined)) failures.push(`error ${whole.code}: ${replay}`);
      if (whole.state === 'complete') {
        complete++;
        const check = validateServerResponse(whole.head, { key: 'dGhlIHNhbXBsZSBub25jZQ==', protocols: ['chat'] });
        if (!check.ok && !(check.error instanceof WebSocketError)) failures.push(`check: ${replay}`);
      }
    } catch (error) {
      failures.push(`threw ${String(error)}: ${replay}`);
    }
  }
  t.strictSame(failures.slice(0, 5), [], 'no failures');
  t.ok(complete > 100, `${complete} mutated responses parsed completely`);
});

t.test('random bytes: never a throw', async (t) => {
  const random = prng(SEED + 2);
  const failures: string[] = [];
  for (let i = 0; i < 1000; i++) {
    const input = Buffer.from(Array.from({ length: Math.floor(random() * 200) }, () => Math.floor(random() * 256)));
    try {
      const request = parseRequest(input, randomCuts(random, input.length));
      const response = parseResponse(input, randomCuts(random, input.length));
      if (request.state === 'error' && !REQUEST_ERRORS.has(request.code)) failures.push(request.code);
      if (response.state === 'error' && !RESPONSE_ERRORS.has(response.code)) failures.push(response.code);
    } catch (error) {
      failures.push(`threw ${String(error)} on ${input.toString('hex')}`);
    }
  }
  t.strictSame(failures, []);
});

t.test('random extension headers: a list or a typed error; valid lists round-trip', async (t) => {
  const random = prng(SEED + 3);
  const alphabet = ['a', 'b', 'x-y', ' ', '\t', ',', ';', '=', '"', '\\', '1', '__proto__', 'é', '\x00', '/'];
  const failures: string[] = [];
  let lists = 0;
  for (let i = 0; i < 3000; i++) {
    const value = Array.from({ length: Math.floor(random() * 12) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
    try {
      const parsed = parseExtensions(value);
      parseTokenList(value);
      if (parsed instanceof WebSocketError) {
        if (parsed.code !== 'WS_ERR_HANDSHAKE_EXTENSIONS' || parsed.status !== 400) failures.push(`${parsed.code}: ${JSON.stringify(value)}`);
      } else {
        lists++;
        const again = parseExtensions(formatExtensions(parsed));
        if (JSON.stringify(again) !== JSON.stringify(parsed)) failures.push(`round trip: ${JSON.stringify(value)}`);
      }
    } catch (error) {
      failures.push(`threw ${String(error)}: ${JSON.stringify(value)}`);
    }
  }
  t.strictSame(failures.slice(0, 5), []);
  t.ok(lists > 300, `${lists} values parsed as lists`);
});
