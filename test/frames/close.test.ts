// Close payloads (RFC 6455 §5.5.1, §7.4): which codes may be sent, encoding and decoding.
import t from 'tap';
import { WebSocketError } from '../../src/errors.js';
import { CloseCode, FrameErrorCode, MAX_CLOSE_REASON_BYTES, decodeClosePayload, encodeClosePayload, isValidCloseCode } from '../../src/frames/index.js';
import { hex } from './helpers.js';

t.test('isValidCloseCode: 1000–1003, 1007–1014, 3000–4999 and nothing else', (t) => {
  const valid: number[] = [];
  for (let code = -1; code <= 6000; code++) if (isValidCloseCode(code)) valid.push(code);
  const expected: number[] = [];
  for (let code = 1000; code <= 1003; code++) expected.push(code);
  for (let code = 1007; code <= 1014; code++) expected.push(code);
  for (let code = 3000; code <= 4999; code++) expected.push(code);
  t.same(valid, expected);
  t.notOk(isValidCloseCode(1000.5));
  t.notOk(isValidCloseCode(NaN));
  t.equal(CloseCode.Normal, 1000);
  t.equal(CloseCode.TlsHandshake, 1015);
  t.end();
});

t.test('encodeClosePayload', (t) => {
  t.same(encodeClosePayload(), Buffer.alloc(0));
  t.same(encodeClosePayload(undefined, ''), Buffer.alloc(0));
  t.same(encodeClosePayload(1000), hex('03 e8'));
  t.same(encodeClosePayload(4999, 'é'), hex('13 87 c3 a9'));
  const longest = 'é'.repeat(61) + 'x'; // 123 bytes
  t.equal(encodeClosePayload(1001, longest).length, 125);
  t.equal(MAX_CLOSE_REASON_BYTES, 123);
  t.throws(() => encodeClosePayload(1001, longest + 'x'), { code: FrameErrorCode.CloseReasonTooLong, side: 'local' });
  for (const bad of [1005, 1006, 1015, 999, 2000, 5000, 1000.5]) {
    t.throws(() => encodeClosePayload(bad), { code: FrameErrorCode.InvalidCloseCode, side: 'local' }, `${bad}`);
  }
  t.throws(() => encodeClosePayload(undefined, 'why'), { code: FrameErrorCode.InvalidCloseCode });
  t.end();
});

t.test('decodeClosePayload', (t) => {
  t.same(decodeClosePayload(Buffer.alloc(0)), { code: 1005, reason: '' });
  t.same(decodeClosePayload(hex('03 e8')), { code: 1000, reason: '' });
  t.same(decodeClosePayload(encodeClosePayload(3000, 'done ✓')), { code: 3000, reason: 'done ✓' });
  const one = decodeClosePayload(hex('03'));
  t.ok(one instanceof WebSocketError);
  t.match(one, { code: FrameErrorCode.InvalidClosePayload, closeCode: 1002, side: 'remote' });
  t.match(decodeClosePayload(hex('03 ed')), { code: FrameErrorCode.InvalidCloseCode, closeCode: 1002 });
  t.match(decodeClosePayload(hex('03 e8 c3')), { code: FrameErrorCode.InvalidUtf8, closeCode: 1007 });
  t.end();
});
