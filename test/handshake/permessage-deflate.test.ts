// Negotiating permessage-deflate (RFC 7692 §5, §7.1): the server's answer to every parameter and
// every malformed offer, the client's offer, and the client's strict check of the answer.
import t from 'tap';
import { WebSocketError } from '../../src/errors.js';
import {
  acceptDeflateAnswer,
  answerDeflateOffer,
  buildClientRequest,
  deflateClientPolicy,
  deflateOffer,
  deflateServerPolicy,
  negotiateDeflate,
  parseExtensions,
  validateServerResponse,
  validateUpgrade,
  type DeflateClientOptions,
  type DeflateParameters,
  type DeflateServerOptions,
  type ExtensionOffer,
} from '../../src/handshake/index.js';
import { SEED_RESPONSE, parseResponse } from './helpers.js';

function offers(header: string): ExtensionOffer[] {
  const parsed = parseExtensions(header);
  if (parsed instanceof WebSocketError) throw parsed;
  return parsed;
}

const defaults: DeflateParameters = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };

/** The server's answer to `header` under `options`: [response, params] or undefined when declined. */
function serverAnswer(header: string, options: DeflateServerOptions = {}): [string, DeflateParameters] | undefined {
  const agreement = negotiateDeflate(offers(header), deflateServerPolicy(options));
  return agreement === undefined ? undefined : [agreement.response, agreement.params];
}

t.test('policies: defaults, `true`, and every invalid option named', async (t) => {
  t.strictSame(deflateServerPolicy(), { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 });
  t.strictSame(deflateServerPolicy(true), deflateServerPolicy({}));
  t.ok(Object.isFrozen(deflateServerPolicy()));
  t.strictSame(deflateClientPolicy(), { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: undefined, clientMaxWindowBits: true });
  t.strictSame(deflateClientPolicy(true), deflateClientPolicy({}));
  t.strictSame(deflateClientPolicy({ serverMaxWindowBits: 9, clientMaxWindowBits: false, serverNoContextTakeover: true, clientNoContextTakeover: true }), {
    serverNoContextTakeover: true,
    clientNoContextTakeover: true,
    serverMaxWindowBits: 9,
    clientMaxWindowBits: false,
  });
  const invalid = { code: 'WS_ERR_INVALID_OPTION', side: 'local' };
  t.throws(() => deflateServerPolicy({ serverMaxWindowBits: 16 }), {
    ...invalid,
    message: 'perMessageDeflate: option serverMaxWindowBits must be a whole number from 8 to 15; got 16 (a number).',
  });
  t.throws(() => deflateServerPolicy({ clientMaxWindowBits: 7 }, 'new WebSocketServer()'), {
    ...invalid,
    message: 'new WebSocketServer(): option clientMaxWindowBits must be a whole number from 8 to 15; got 7 (a number).',
  });
  t.throws(() => deflateServerPolicy({ serverNoContextTakeover: 'yes' } as never), { ...invalid, message: /serverNoContextTakeover must be true or false; got "yes" \(a string\)/ });
  t.throws(() => deflateServerPolicy({ clientMaxWindowBits: true } as never), { ...invalid, message: /clientMaxWindowBits must be a whole number from 8 to 15; got true/ });
  t.throws(() => deflateServerPolicy({ serverMaxWindowBit: 10 } as never), { ...invalid, message: /unknown option "serverMaxWindowBit"; did you mean "serverMaxWindowBits"\?/ });
  t.throws(() => deflateServerPolicy(null as never), { ...invalid, message: /options must be an object, got null/ });
  t.throws(() => deflateClientPolicy({ clientMaxWindowBits: 16 }), {
    ...invalid,
    message: 'perMessageDeflate: option clientMaxWindowBits must be a whole number from 8 to 15, or true or false; got 16 (a number).',
  });
  t.throws(() => deflateClientPolicy({ serverMaxWindowBits: 8.5 }), { ...invalid, message: /serverMaxWindowBits must be a whole number from 8 to 15; got 8.5/ });
  t.throws(() => deflateClientPolicy({ threshold: 10 } as never), { ...invalid, message: /unknown option "threshold"/ });
});

t.test('server: each parameter of an offer, under the default policy', async (t) => {
  const cases: Array<[string, string, Partial<DeflateParameters>]> = [
    ['permessage-deflate', 'permessage-deflate', {}],
    // What Chromium and Firefox send.
    ['permessage-deflate; client_max_window_bits', 'permessage-deflate', {}],
    ['permessage-deflate; server_no_context_takeover', 'permessage-deflate; server_no_context_takeover', { serverNoContextTakeover: true }],
    // §7.1.1.2: the client promised; answering it lets the server drop its inflater between messages.
    ['permessage-deflate; client_no_context_takeover', 'permessage-deflate; client_no_context_takeover', { clientNoContextTakeover: true }],
    // §7.1.2.1: accepting server_max_window_bits means answering it, with the same or a smaller value.
    ['permessage-deflate; server_max_window_bits=10', 'permessage-deflate; server_max_window_bits=10', { serverMaxWindowBits: 10 }],
    ['permessage-deflate; server_max_window_bits=15', 'permessage-deflate; server_max_window_bits=15', {}],
    ['permessage-deflate; server_max_window_bits=9', 'permessage-deflate; server_max_window_bits=9', { serverMaxWindowBits: 9 }],
    // 8 is honoured with zlib's 9-bit window, whose back-references stay within 250 bytes (see the codec's tests).
    ['permessage-deflate; server_max_window_bits=8', 'permessage-deflate; server_max_window_bits=8', { serverMaxWindowBits: 8 }],
    ['permessage-deflate; server_max_window_bits="12"', 'permessage-deflate; server_max_window_bits=12', { serverMaxWindowBits: 12 }],
    // The client limits itself; the answer need not repeat it.
    ['permessage-deflate; client_max_window_bits=10', 'permessage-deflate', { clientMaxWindowBits: 10 }],
    ['permessage-deflate; client_max_window_bits=8', 'permessage-deflate', { clientMaxWindowBits: 8 }],
    [
      'permessage-deflate; client_max_window_bits=9; server_max_window_bits=11; client_no_context_takeover; server_no_context_takeover',
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=11',
      { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 11, clientMaxWindowBits: 9 },
    ],
  ];
  for (const [header, response, params] of cases) {
    t.strictSame(serverAnswer(header), [response, { ...defaults, ...params }], header);
  }
});

t.test('server: the policy tightens the answer, and may add what the client did not offer', async (t) => {
  const chrome = 'permessage-deflate; client_max_window_bits';
  const cases: Array<[string, DeflateServerOptions, string | undefined, Partial<DeflateParameters>?]> = [
    // The memory-bounded mode: no state kept between messages in either direction, with every browser.
    [chrome, { serverNoContextTakeover: true, clientNoContextTakeover: true }, 'permessage-deflate; server_no_context_takeover; client_no_context_takeover', { serverNoContextTakeover: true, clientNoContextTakeover: true }],
    ['permessage-deflate', { serverNoContextTakeover: true }, 'permessage-deflate; server_no_context_takeover', { serverNoContextTakeover: true }],
    ['permessage-deflate', { clientNoContextTakeover: true }, 'permessage-deflate; client_no_context_takeover', { clientNoContextTakeover: true }],
    // §7.1.2.1: the server may state its window even when not asked.
    ['permessage-deflate', { serverMaxWindowBits: 10 }, 'permessage-deflate; server_max_window_bits=10', { serverMaxWindowBits: 10 }],
    ['permessage-deflate; server_max_window_bits=12', { serverMaxWindowBits: 10 }, 'permessage-deflate; server_max_window_bits=10', { serverMaxWindowBits: 10 }],
    ['permessage-deflate; server_max_window_bits=9', { serverMaxWindowBits: 10 }, 'permessage-deflate; server_max_window_bits=9', { serverMaxWindowBits: 9 }],
    // §7.1.2.2: the client's window can be limited only when the offer names client_max_window_bits.
    [chrome, { clientMaxWindowBits: 10 }, 'permessage-deflate; client_max_window_bits=10', { clientMaxWindowBits: 10 }],
    ['permessage-deflate; client_max_window_bits=12', { clientMaxWindowBits: 10 }, 'permessage-deflate; client_max_window_bits=10', { clientMaxWindowBits: 10 }],
    ['permessage-deflate; client_max_window_bits=9', { clientMaxWindowBits: 10 }, 'permessage-deflate', { clientMaxWindowBits: 9 }],
    ['permessage-deflate; client_max_window_bits=10', { clientMaxWindowBits: 10 }, 'permessage-deflate', { clientMaxWindowBits: 10 }],
    ['permessage-deflate', { clientMaxWindowBits: 10 }, undefined],
    ['permessage-deflate; client_max_window_bits=15', { clientMaxWindowBits: 14 }, 'permessage-deflate; client_max_window_bits=14', { clientMaxWindowBits: 14 }],
    [
      chrome,
      { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 9, clientMaxWindowBits: 8 },
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=8',
      { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 9, clientMaxWindowBits: 8 },
    ],
  ];
  for (const [header, policy, response, params] of cases) {
    const expected = response === undefined ? undefined : [response, { ...defaults, ...params }];
    t.strictSame(serverAnswer(header, policy), expected, `${header} under ${JSON.stringify(policy)}`);
  }
  t.strictSame(answerDeflateOffer(offers('permessage-deflate')[0] as ExtensionOffer, deflateServerPolicy({ clientMaxWindowBits: 10 })), {
    ok: false,
    reason: 'the offer has no client_max_window_bits, so the client cannot be held to the 10-bit window this server allows',
  });
});

t.test('server: a malformed offer is declined with its reason, and the next offer is taken', async (t) => {
  const declined: Array<[string, string]> = [
    ['server_max_window_bits=16', 'server_max_window_bits needs a value from 8 to 15 without leading zeros, got 16'],
    ['server_max_window_bits=7', 'server_max_window_bits needs a value from 8 to 15 without leading zeros, got 7'],
    ['server_max_window_bits=0', 'server_max_window_bits needs a value from 8 to 15 without leading zeros, got 0'],
    ['server_max_window_bits=08', 'server_max_window_bits needs a value from 8 to 15 without leading zeros, got 08'],
    ['server_max_window_bits=010', 'server_max_window_bits needs a value from 8 to 15 without leading zeros, got 010'],
    ['server_max_window_bits=abc', 'server_max_window_bits needs a value from 8 to 15 without leading zeros, got abc'],
    ['server_max_window_bits=+9', 'server_max_window_bits needs a value from 8 to 15 without leading zeros, got +9'],
    ['server_max_window_bits=9.0', 'server_max_window_bits needs a value from 8 to 15 without leading zeros, got 9.0'],
    ['server_max_window_bits', 'server_max_window_bits needs a value from 8 to 15 without leading zeros, got none'],
    ['client_max_window_bits=16', 'client_max_window_bits needs a value from 8 to 15 without leading zeros (or none), got 16'],
    ['client_max_window_bits=07', 'client_max_window_bits needs a value from 8 to 15 without leading zeros (or none), got 07'],
    ['client_max_window_bits=abc', 'client_max_window_bits needs a value from 8 to 15 without leading zeros (or none), got abc'],
    ['server_no_context_takeover=1', 'server_no_context_takeover takes no value, got server_no_context_takeover=1'],
    ['client_no_context_takeover="x"', 'client_no_context_takeover takes no value, got client_no_context_takeover=x'],
    ['server_no_context_takeover; server_no_context_takeover', 'parameter server_no_context_takeover appears twice'],
    ['client_no_context_takeover; client_no_context_takeover', 'parameter client_no_context_takeover appears twice'],
    ['server_max_window_bits=10; server_max_window_bits=10', 'parameter server_max_window_bits appears twice'],
    ['client_max_window_bits; client_max_window_bits=10', 'parameter client_max_window_bits appears twice'],
    ['x_unknown', 'unknown parameter x_unknown'],
    ['Server_No_Context_Takeover', 'unknown parameter Server_No_Context_Takeover'],
    ['client_max_window_bits; mux=1', 'unknown parameter mux'],
  ];
  const policy = deflateServerPolicy();
  for (const [params, reason] of declined) {
    const header = `permessage-deflate; ${params}`;
    t.strictSame(answerDeflateOffer(offers(header)[0] as ExtensionOffer, policy), { ok: false, reason }, header);
    t.equal(serverAnswer(header), undefined, `${header}: nothing accepted`);
    t.strictSame(serverAnswer(`${header}, permessage-deflate; client_no_context_takeover`), [
      'permessage-deflate; client_no_context_takeover',
      { ...defaults, clientNoContextTakeover: true },
    ], `${header}: the next offer is taken`);
  }
  t.strictSame(answerDeflateOffer({ name: 'x-other', params: [] }, policy), { ok: false, reason: 'x-other is not permessage-deflate' });
});

t.test('server: the first usable offer wins, other extensions are passed over', async (t) => {
  t.equal(serverAnswer(''), undefined);
  t.equal(serverAnswer('x-webkit-deflate-frame, x-other; a=1'), undefined);
  t.equal(serverAnswer('Permessage-Deflate'), undefined, 'another name is another extension');
  t.strictSame(serverAnswer('x-other, permessage-deflate; server_max_window_bits=10, permessage-deflate'), [
    'permessage-deflate; server_max_window_bits=10',
    { ...defaults, serverMaxWindowBits: 10 },
  ]);
  t.strictSame(serverAnswer('permessage-deflate; client_max_window_bits=99, permessage-deflate; server_max_window_bits=08, permessage-deflate; server_no_context_takeover'), [
    'permessage-deflate; server_no_context_takeover',
    { ...defaults, serverNoContextTakeover: true },
  ]);
  // With a policy that needs client_max_window_bits, an offer without it is passed over for one with it.
  t.strictSame(serverAnswer('permessage-deflate, permessage-deflate; client_max_window_bits', { clientMaxWindowBits: 12 }), [
    'permessage-deflate; client_max_window_bits=12',
    { ...defaults, clientMaxWindowBits: 12 },
  ]);
});

t.test('server: validateUpgrade accepts through the policy; several headers are one list', async (t) => {
  const base = {
    method: 'GET',
    url: '/',
    httpVersion: '1.1',
    headers: {
      host: 'h',
      upgrade: 'websocket',
      connection: 'Upgrade',
      'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      'sec-websocket-version': '13',
    },
  };
  const withOffer = (value: string | string[]) => ({ ...base, headers: { ...base.headers, 'sec-websocket-extensions': value } });
  const policy = deflateServerPolicy({ serverNoContextTakeover: true });
  t.match(validateUpgrade(withOffer('permessage-deflate; client_max_window_bits'), { perMessageDeflate: policy }), {
    ok: true,
    deflate: { response: 'permessage-deflate; server_no_context_takeover', params: { ...defaults, serverNoContextTakeover: true } },
  });
  t.match(validateUpgrade(withOffer('permessage-deflate')), { ok: true, deflate: undefined }, 'no policy: nothing accepted');
  // node:http gives repeated fields as an array: the second header's offer is taken after the first is declined.
  t.match(validateUpgrade(withOffer(['permessage-deflate; server_max_window_bits=16', 'permessage-deflate; client_max_window_bits=9']), { perMessageDeflate: policy }), {
    ok: true,
    deflate: { response: 'permessage-deflate; server_no_context_takeover', params: { ...defaults, serverNoContextTakeover: true, clientMaxWindowBits: 9 } },
  });
  t.match(validateUpgrade(withOffer('permessage-deflate; server_no_context_takeover; server_no_context_takeover'), { perMessageDeflate: policy }), {
    ok: true,
    deflate: undefined,
  }, 'a repeated parameter declines the offer, it does not refuse the handshake');
  // §9.1: a header that breaks the grammar is still a 400.
  t.match(validateUpgrade(withOffer('permessage-deflate; server_max_window_bits=1 0'), { perMessageDeflate: policy }), {
    ok: false,
    error: { code: 'WS_ERR_HANDSHAKE_EXTENSIONS', status: 400, side: 'remote' },
  });
});

t.test('client: the offer for each option', async (t) => {
  const cases: Array<[DeflateClientOptions | true, string]> = [
    [true, 'permessage-deflate; client_max_window_bits'],
    [{}, 'permessage-deflate; client_max_window_bits'],
    [{ clientMaxWindowBits: false }, 'permessage-deflate'],
    [{ clientMaxWindowBits: 10 }, 'permessage-deflate; client_max_window_bits=10'],
    [{ serverMaxWindowBits: 8 }, 'permessage-deflate; server_max_window_bits=8; client_max_window_bits'],
    [{ serverNoContextTakeover: true }, 'permessage-deflate; server_no_context_takeover; client_max_window_bits'],
    [{ clientNoContextTakeover: true, clientMaxWindowBits: false }, 'permessage-deflate; client_no_context_takeover'],
    [
      { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 12, clientMaxWindowBits: 9 },
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=9',
    ],
  ];
  for (const [options, offer] of cases) t.equal(deflateOffer(deflateClientPolicy(options)), offer, JSON.stringify(options));

  const request = (options: Parameters<typeof buildClientRequest>[1]): string => buildClientRequest('ws://h/', options).request.toString('latin1');
  t.match(request({ perMessageDeflate: deflateClientPolicy() }), /\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n/);
  t.match(request({ extensions: 'x-a', perMessageDeflate: deflateClientPolicy() }), /\r\nSec-WebSocket-Extensions: x-a, permessage-deflate; client_max_window_bits\r\n/);
  t.equal(request({ extensions: 'x-a' }).match(/Sec-WebSocket-Extensions: (.*)\r\n/)?.[1], 'x-a');
});

t.test('client: the answers it accepts, and the parameters then in force', async (t) => {
  const cases: Array<[DeflateClientOptions, string, Partial<DeflateParameters> | undefined]> = [
    [{}, '', undefined],
    [{}, 'x-other', undefined],
    [{}, 'permessage-deflate', {}],
    // §7.1.1.1, §7.1.1.2: the server may add either no_context_takeover unasked.
    [{}, 'permessage-deflate; server_no_context_takeover; client_no_context_takeover', { serverNoContextTakeover: true, clientNoContextTakeover: true }],
    // §7.1.2.1: the server may state its window unasked.
    [{}, 'permessage-deflate; server_max_window_bits=9', { serverMaxWindowBits: 9 }],
    [{}, 'permessage-deflate; client_max_window_bits=10', { clientMaxWindowBits: 10 }],
    [{ clientMaxWindowBits: 12 }, 'permessage-deflate', { clientMaxWindowBits: 12 }],
    [{ clientMaxWindowBits: 12 }, 'permessage-deflate; client_max_window_bits=12', { clientMaxWindowBits: 12 }],
    [{ clientMaxWindowBits: 12 }, 'permessage-deflate; client_max_window_bits=8', { clientMaxWindowBits: 8 }],
    [{ serverMaxWindowBits: 10 }, 'permessage-deflate; server_max_window_bits=10', { serverMaxWindowBits: 10 }],
    [{ serverMaxWindowBits: 10 }, 'permessage-deflate; server_max_window_bits=8', { serverMaxWindowBits: 8 }],
    [{ serverNoContextTakeover: true }, 'permessage-deflate; server_no_context_takeover', { serverNoContextTakeover: true }],
    // §7.1.1.2: what we offered binds us, even when the answer leaves it out.
    [{ clientNoContextTakeover: true }, 'permessage-deflate', { clientNoContextTakeover: true }],
    [{ clientMaxWindowBits: false }, 'permessage-deflate; server_max_window_bits=15', {}],
    [{}, 'permessage-deflate; server_max_window_bits="11"', { serverMaxWindowBits: 11 }],
  ];
  for (const [options, answer, params] of cases) {
    const result = acceptDeflateAnswer(offers(answer), deflateClientPolicy(options));
    t.strictSame(result, params === undefined ? undefined : { ...defaults, ...params }, `${answer} to ${JSON.stringify(options)}`);
  }
});

t.test('client: every answer the RFC forbids fails with WS_ERR_HANDSHAKE_EXTENSIONS', async (t) => {
  const prefix = "the server's permessage-deflate answer is invalid: ";
  const cases: Array<[DeflateClientOptions, string, string]> = [
    [{}, 'permessage-deflate, permessage-deflate', 'permessage-deflate is accepted more than once, and only one extension may use RSV1'],
    [{}, 'permessage-deflate; x=1', 'unknown parameter x'],
    [{}, 'permessage-deflate; server_no_context_takeover; server_no_context_takeover', 'parameter server_no_context_takeover appears twice'],
    [{}, 'permessage-deflate; server_max_window_bits=10; server_max_window_bits=10', 'parameter server_max_window_bits appears twice'],
    [{}, 'permessage-deflate; client_no_context_takeover=true', 'client_no_context_takeover takes no value, got client_no_context_takeover=true'],
    [{}, 'permessage-deflate; server_max_window_bits', 'server_max_window_bits needs a value from 8 to 15 without leading zeros, got none'],
    [{}, 'permessage-deflate; server_max_window_bits=16', 'server_max_window_bits needs a value from 8 to 15 without leading zeros, got 16'],
    [{}, 'permessage-deflate; server_max_window_bits=09', 'server_max_window_bits needs a value from 8 to 15 without leading zeros, got 09'],
    // §7.1.2.2: in an answer, client_max_window_bits states a limit, so it has a value.
    [{}, 'permessage-deflate; client_max_window_bits', 'client_max_window_bits needs a value from 8 to 15 without leading zeros, got none'],
    [{}, 'permessage-deflate; client_max_window_bits=7', 'client_max_window_bits needs a value from 8 to 15 without leading zeros, got 7'],
    [{ clientMaxWindowBits: false }, 'permessage-deflate; client_max_window_bits=10', 'client_max_window_bits is there although we did not offer it'],
    [{ clientMaxWindowBits: 10 }, 'permessage-deflate; client_max_window_bits=11', 'client_max_window_bits=11 is more than the 10 we offered'],
    [{ serverMaxWindowBits: 10 }, 'permessage-deflate', 'we asked for server_max_window_bits=10 and the answer does not grant it'],
    [{ serverMaxWindowBits: 10 }, 'permessage-deflate; server_max_window_bits=11', 'server_max_window_bits=11 is more than the 10 we asked for'],
    [{ serverNoContextTakeover: true }, 'permessage-deflate', 'we asked for server_no_context_takeover and the answer does not grant it'],
  ];
  for (const [options, answer, reason] of cases) {
    const result = acceptDeflateAnswer(offers(answer), deflateClientPolicy(options));
    t.type(result, WebSocketError, answer);
    t.match(result, { code: 'WS_ERR_HANDSHAKE_EXTENSIONS', side: 'remote', closeCode: undefined, status: undefined, message: prefix + reason }, answer);
  }
});

t.test('client: validateServerResponse runs the check when it offered the extension', async (t) => {
  const response = (extensions?: string) => {
    const text = extensions === undefined ? SEED_RESPONSE : SEED_RESPONSE.replace('\r\n\r\n', `\r\nSec-WebSocket-Extensions: ${extensions}\r\n\r\n`);
    const outcome = parseResponse(text);
    if (outcome.state !== 'complete') throw new Error('test response did not parse');
    return outcome.head;
  };
  const key = 'dGhlIHNhbXBsZSBub25jZQ==';
  const policy = deflateClientPolicy();
  t.strictSame(validateServerResponse(response('permessage-deflate; client_max_window_bits=11'), { key, perMessageDeflate: policy }), {
    ok: true,
    protocol: undefined,
    extensions: [{ name: 'permessage-deflate', params: [['client_max_window_bits', '11']] }],
    deflate: { ...defaults, clientMaxWindowBits: 11 },
  });
  t.strictSame(validateServerResponse(response(), { key, perMessageDeflate: policy }), { ok: true, protocol: undefined, extensions: [], deflate: undefined }, 'declined: compression is off');
  t.match(validateServerResponse(response('permessage-deflate; client_max_window_bits'), { key, perMessageDeflate: policy }), {
    ok: false,
    error: { code: 'WS_ERR_HANDSHAKE_EXTENSIONS', side: 'remote', message: /client_max_window_bits needs a value/ },
  });
  t.match(validateServerResponse(response('permessage-deflate'), { key }), {
    ok: false,
    error: { code: 'WS_ERR_HANDSHAKE_EXTENSIONS', message: 'the server accepted extension permessage-deflate, which we did not offer' },
  }, 'not offered at all');
  t.match(validateServerResponse(response('x-a, permessage-deflate'), { key, extensions: ['x-a'], perMessageDeflate: policy }), {
    ok: true,
    deflate: defaults,
  });
  t.match(validateServerResponse(response('x-b, permessage-deflate'), { key, extensions: ['x-a'], perMessageDeflate: policy }), {
    ok: false,
    error: { message: 'the server accepted extension x-b, which we did not offer' },
  });
});

// Every client policy against every server policy: whenever the server accepts the client's offer,
// the client accepts the answer with the same parameters, and they keep every bound of both sides.
t.test('every client option against every server option: one agreement, both sides honoured', async (t) => {
  const bits = [8, 9, 10, 11, 12, 13, 14, 15];
  const clients: DeflateClientOptions[] = [];
  for (const serverNoContextTakeover of [false, true]) {
    for (const clientNoContextTakeover of [false, true]) {
      for (const serverMaxWindowBits of [undefined, ...bits]) {
        for (const clientMaxWindowBits of [false, true, ...bits]) {
          clients.push({ serverNoContextTakeover, clientNoContextTakeover, serverMaxWindowBits, clientMaxWindowBits });
        }
      }
    }
  }
  const servers: DeflateServerOptions[] = [];
  for (const serverNoContextTakeover of [false, true]) {
    for (const clientNoContextTakeover of [false, true]) {
      for (const serverMaxWindowBits of bits) {
        for (const clientMaxWindowBits of bits) servers.push({ serverNoContextTakeover, clientNoContextTakeover, serverMaxWindowBits, clientMaxWindowBits });
      }
    }
  }
  const problems: string[] = [];
  let accepted = 0;
  for (const client of clients) {
    const clientPolicy = deflateClientPolicy(client);
    const offer = offers(deflateOffer(clientPolicy));
    for (const server of servers) {
      const agreement = negotiateDeflate(offer, deflateServerPolicy(server));
      const label = `${JSON.stringify(client)} x ${JSON.stringify(server)}`;
      const limitable = client.clientMaxWindowBits !== false;
      if (agreement === undefined) {
        // The only reason to decline a well-formed offer: a client window the client cannot be held to.
        if (limitable || server.clientMaxWindowBits === 15) problems.push(`declined: ${label}`);
        continue;
      }
      accepted++;
      const p = agreement.params;
      const clientLimit = typeof client.clientMaxWindowBits === 'number' ? client.clientMaxWindowBits : 15;
      if (acceptDeflateAnswer(offers(agreement.response), clientPolicy) === undefined) problems.push(`client saw no answer: ${label}`);
      else if (JSON.stringify(acceptDeflateAnswer(offers(agreement.response), clientPolicy)) !== JSON.stringify(p)) problems.push(`sides disagree: ${label}`);
      if (p.serverMaxWindowBits > Math.min(server.serverMaxWindowBits as number, client.serverMaxWindowBits ?? 15)) problems.push(`server window: ${label}`);
      if (p.clientMaxWindowBits > Math.min(server.clientMaxWindowBits as number, clientLimit)) problems.push(`client window: ${label}`);
      if ((client.serverNoContextTakeover || server.serverNoContextTakeover) && !p.serverNoContextTakeover) problems.push(`server takeover: ${label}`);
      if ((client.clientNoContextTakeover || server.clientNoContextTakeover) && !p.clientNoContextTakeover) problems.push(`client takeover: ${label}`);
    }
  }
  t.strictSame(problems.slice(0, 5), []);
  t.equal(clients.length * servers.length, 360 * 256);
  // Declined only: the 36 clients that do not offer client_max_window_bits, against the 224 servers that limit it.
  t.equal(accepted, 360 * 256 - 36 * 224);
});
