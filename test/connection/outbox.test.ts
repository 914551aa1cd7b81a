// The outgoing byte queue: frames batched into few chunks, large payloads not copied.
import t from 'tap';
import { Outbox } from '../../src/connection/outbox.js';

const unmaskAll = (bytes: Buffer, key: Buffer): Buffer => Buffer.from(bytes.map((b, i) => b ^ key[i & 3]));

t.test('consecutive small frames leave as one chunk', async (t) => {
  const box = new Outbox(false);
  for (let i = 0; i < 100; i++) box.frame(0x2, Buffer.from([i]), true);
  t.equal(box.bytes, 300);
  const chunks = box.take();
  t.equal(chunks.length, 1);
  t.equal(chunks[0].length, 300);
  t.same(chunks[0].subarray(297), Buffer.from([0x82, 0x01, 99]));
  t.equal(box.bytes, 0);
  t.same(box.take(), [], 'empty after take');
});

t.test('a large unmasked payload is queued by reference, not copied', async (t) => {
  const box = new Outbox(false);
  const big = Buffer.alloc(100_000, 7);
  box.frame(0x2, Buffer.from('a'), true);
  box.frame(0x2, big, true);
  box.frame(0x2, Buffer.from('b'), true);
  const chunks = box.take();
  t.equal(chunks.length, 3);
  t.same(chunks[0], Buffer.from([0x82, 0x01, 0x61, 0x82, 0x7f, 0, 0, 0, 0, 0, 0x01, 0x86, 0xa0]));
  t.equal(chunks[1], big, 'the very same Buffer');
  t.same(chunks[2], Buffer.from([0x82, 0x01, 0x62]));
  t.equal(box.bytes, 0);
});

t.test('a masked frame never modifies the caller buffer', async (t) => {
  for (const size of [5, 100_000]) {
    const box = new Outbox(true);
    const payload = Buffer.alloc(size, 0x41);
    box.frame(0x2, payload, true);
    const bytes = Buffer.concat(box.take());
    t.ok(payload.every((b) => b === 0x41), `payload of ${size} untouched`);
    const headerSize = size < 126 ? 2 : size < 65536 ? 4 : 10;
    t.equal(bytes[1] & 0x80, 0x80, 'mask bit set');
    const key = bytes.subarray(headerSize, headerSize + 4);
    t.same(unmaskAll(bytes.subarray(headerSize + 4), key), payload, `masked payload of ${size} unmasks`);
  }
});

t.test('text is encoded straight into the slab, masked or not', async (t) => {
  const plain = new Outbox(false);
  plain.text('héllo', true, 0x1);
  t.same(Buffer.concat(plain.take()), Buffer.concat([Buffer.from([0x81, 6]), Buffer.from('héllo')]));
  const masked = new Outbox(true);
  masked.text('héllo', true, 0x1);
  const bytes = Buffer.concat(masked.take());
  t.same(unmaskAll(bytes.subarray(6), bytes.subarray(2, 6)).toString(), 'héllo');
  const long = new Outbox(false);
  const text = 'é'.repeat(20_000);
  long.text(text, true, 0x1);
  const longBytes = Buffer.concat(long.take());
  t.equal(longBytes.subarray(4).toString(), text, 'long text takes the Buffer path');
});

t.test('two outboxes writing in turn keep their own bytes in order', async (t) => {
  const a = new Outbox(false);
  const b = new Outbox(false);
  a.frame(0x1, Buffer.from('a1'), true);
  b.frame(0x1, Buffer.from('b1'), true);
  a.frame(0x1, Buffer.from('a2'), true);
  b.raw(Buffer.from([0x81, 0x02, 0x62, 0x32]));
  t.same(Buffer.concat(a.take()).toString('latin1'), '\x81\x02a1\x81\x02a2');
  t.same(Buffer.concat(b.take()).toString('latin1'), '\x81\x02b1\x81\x02b2');
});

t.test('filling the slab moves on to a new one without losing bytes', async (t) => {
  const box = new Outbox(false);
  // 1,000-byte payloads are copied next to their headers; 100 of them overflow a 64 KiB slab.
  const payload = Buffer.alloc(1000, 1);
  const expected: Buffer[] = [];
  for (let i = 0; i < 100; i++) {
    box.frame(0x2, payload, true);
    expected.push(Buffer.from([0x82, 126, 0x03, 0xe8]), payload);
  }
  const chunks = box.take();
  t.ok(chunks.length >= 2, 'more than one slab was used');
  t.same(Buffer.concat(chunks), Buffer.concat(expected));
});

t.test('raw frames: small ones are copied, large ones queued by reference', async (t) => {
  const box = new Outbox(false);
  const large = Buffer.alloc(20_000, 3);
  box.raw(Buffer.from([0x81, 0x00]));
  box.raw(large);
  const chunks = box.take();
  t.same(chunks[0], Buffer.from([0x81, 0x00]));
  t.equal(chunks[1], large);
});

t.test('take(true) copies the slab regions out; payloads queued by reference stay as they are', async (t) => {
  const box = new Outbox(false);
  const big = Buffer.alloc(20000, 1);
  box.frame(0x2, Buffer.from('hi'), true);
  box.frame(0x2, big, true);
  const chunks = box.take(true);
  t.equal(chunks.length, 2);
  t.equal(chunks[0].buffer.byteLength, chunks[0].length, 'the slab region was copied into memory of its own');
  t.same(chunks[0], Buffer.from([0x82, 0x02, 0x68, 0x69, 0x82, 0x7e, 0x4e, 0x20]));
  t.equal(chunks[1], big, "a large payload is still the caller's buffer");
  box.frame(0x1, Buffer.from('x'), true);
  t.equal(box.take()[0].buffer.byteLength, 64 * 1024, 'without detach, a view of the slab');
});
