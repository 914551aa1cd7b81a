// The examples of RFC 7692 §7.2.3, byte for byte, through the Deflater and the Inflater.
import t from 'tap';
import { Deflater, Inflater, ZlibPool } from '../../src/deflate/index.js';
import { decodeDeflate } from './helpers.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const HELLO = Buffer.from('Hello');
const pool = new ZlibPool();

function inflated(inflater: Inflater, ...pieces: Buffer[]): string {
  const out: Buffer[] = [];
  for (const piece of pieces) {
    const result = inflater.write(piece);
    if (!Array.isArray(result)) throw result;
    out.push(...result);
  }
  const last = inflater.end();
  if (!Array.isArray(last)) throw last;
  return Buffer.concat([...out, ...last]).toString('latin1');
}

t.test('§7.2.3.1: "Hello" in one compressed DEFLATE block, in one frame or two', async (t) => {
  const deflater = new Deflater({ pool });
  t.same(deflater.deflate(HELLO), hex('f2 48 cd c9 c9 07 00'), 'compressed as the RFC shows');
  t.equal(inflated(new Inflater({ pool }), hex('f2 48 cd c9 c9 07 00')), 'Hello');
  // The fragmented form: 0x41 0x03 f2 48 cd, then 0x80 0x04 c9 c9 07 00.
  t.equal(inflated(new Inflater({ pool }), hex('f2 48 cd'), hex('c9 c9 07 00')), 'Hello');
});

t.test('§7.2.3.2: the second "Hello" refers back into the first with context takeover', async (t) => {
  const deflater = new Deflater({ pool });
  t.same(deflater.deflate(HELLO), hex('f2 48 cd c9 c9 07 00'));
  t.same(deflater.deflate(HELLO), hex('f2 00 11 00 00'), 'a back-reference to the previous message');
  const inflater = new Inflater({ pool });
  t.equal(inflated(inflater, hex('f2 48 cd c9 c9 07 00')), 'Hello');
  t.equal(inflated(inflater, hex('f2 00 11 00 00')), 'Hello');

  // Without takeover each message is compressed alone, and a back-reference into the previous
  // message is an error for an inflater that reset its window.
  const fresh = new Deflater({ pool, noContextTakeover: true });
  t.same(fresh.deflate(HELLO), hex('f2 48 cd c9 c9 07 00'));
  t.same(fresh.deflate(HELLO), hex('f2 48 cd c9 c9 07 00'), 'the same bytes again');
  const resetting = new Inflater({ pool, noContextTakeover: true });
  t.equal(inflated(resetting, hex('f2 48 cd c9 c9 07 00')), 'Hello');
  t.match(resetting.inflate(hex('f2 00 11 00 00')), { code: 'WS_ERR_INVALID_COMPRESSED_DATA', closeCode: 1007, message: /invalid distance too far back/ });
});

t.test('§7.2.3.3: a DEFLATE block with no compression', async (t) => {
  t.equal(inflated(new Inflater({ pool }), hex('00 05 00 fa ff 48 65 6c 6c 6f 00')), 'Hello');
});

t.test('§7.2.3.4: a DEFLATE block with BFINAL set, then one more octet', async (t) => {
  const message = hex('f3 48 cd c9 c9 07 00 00');
  t.equal(inflated(new Inflater({ pool }), message), 'Hello');
  // Every split of it, and the next message on the same inflater (the stream restarted).
  for (let i = 1; i < message.length; i++) {
    const inflater = new Inflater({ pool });
    t.equal(inflated(inflater, message.subarray(0, i), message.subarray(i)), 'Hello', `split at ${i}`);
    t.equal(inflated(inflater, hex('f2 48 cd c9 c9 07 00')), 'Hello', 'the inflater goes on after the final block');
  }
});

t.test('§7.2.3.5: two DEFLATE blocks in one message', async (t) => {
  t.equal(inflated(new Inflater({ pool }), hex('f2 48 05 00 00 00 ff ff ca c9 c9 07 00')), 'Hello');
});

t.test('§7.2.3.6: an empty fragment, and an empty message', async (t) => {
  // A sender that flushed "Hello" completely (00 00 ff ff kept inside the message) ends the
  // message with a fragment holding only the header bits of an empty stored block: 0x00.
  t.equal(inflated(new Inflater({ pool }), hex('f2 48 cd c9 c9 07 00 00 00 ff ff'), hex('00')), 'Hello');
  const deflater = new Deflater({ pool });
  t.same(deflater.deflate(Buffer.alloc(0)), hex('00'), 'an empty message compresses to 0x00');
  t.equal(inflated(new Inflater({ pool }), hex('00')), '');
  // An RSV1 message with no payload at all (no sender makes one, §7.2.1) is taken as empty,
  // and the inflater is left as it was.
  const inflater = new Inflater({ pool });
  t.equal(inflated(inflater), '');
  t.equal(inflater.holdsEngine, false, 'no engine was needed');
  t.equal(inflated(inflater, hex('f2 48 cd c9 c9 07 00')), 'Hello');
});

t.test('the independent decoder agrees on every example', async (t) => {
  t.same(decodeDeflate(hex('f2 48 cd c9 c9 07 00 00 00 ff ff')).output, HELLO);
  t.same(decodeDeflate(hex('f2 00 11 00 00 00 00 ff ff'), HELLO), { output: HELLO, maxDistance: 5, final: false });
  t.same(decodeDeflate(hex('00 05 00 fa ff 48 65 6c 6c 6f 00 00 00 ff ff')).output, HELLO);
  t.same(decodeDeflate(hex('f3 48 cd c9 c9 07 00')), { output: HELLO, maxDistance: 0, final: true });
  t.same(decodeDeflate(hex('f2 48 05 00 00 00 ff ff ca c9 c9 07 00 00 00 ff ff')).output, HELLO);
});
