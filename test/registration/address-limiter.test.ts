// Refused answers per address (core/address-limiter.ts) and the token bucket under it: the keys
// addresses count under, the arithmetic of the bucket, and the bound on what is remembered.
import t from 'tap';
import { AddressLimiter, MAX_ADDRESSES, addressKey } from '../../src/registration/core/address-limiter.js';
import { TokenBucket } from '../../src/registration/core/token-bucket.js';

t.test('addresses count as IPv4, IPv4-mapped as IPv4, IPv6 by /64', async (t) => {
  const cases: [string, string][] = [
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['::FFFF:127.0.0.2', '127.0.0.2'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002:aaaa:bbbb:cccc:dddd', '2001:db8:1:2::/64'],
    ['2001:DB8:1:2::1', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['2001:db8:1::', '2001:db8:1:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['::', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['64:ff9b::192.0.2.1', '64:ff9b:0:0::/64'],
  ];
  for (const [address, key] of cases) t.equal(addressKey(address), key, address);
  t.equal(addressKey('2001:db8:1:2::a'), addressKey('2001:db8:1:2:ffff::b'), 'one /64, one count');
  t.not(addressKey('2001:db8:1:2::a'), addressKey('2001:db8:1:3::a'));
});

t.test('the bucket: refill, overdraft, a debt of at most one burst, the wait, full', async (t) => {
  const b = new TokenBucket(2, 4, 0); // 2 per second, 4 at most
  t.equal(b.balance(0), 4);
  t.equal(b.full(0), true);
  t.equal(b.take(0, 3), true);
  t.equal(b.take(0, 3), true, 'one token left is enough, and it may overdraw');
  t.equal(b.balance(0), -2);
  t.equal(b.take(0), false);
  t.equal(b.waitFor(0), 1500, '3 tokens to repay at 2/s');
  t.equal(b.balance(1500), 1);
  t.equal(b.waitFor(1500), 0);
  b.charge(1500, 100);
  t.equal(b.balance(1500), -4, 'charge stops at a debt of one burst');
  t.equal(b.balance(1000), -4, 'a clock that goes backwards refills nothing');
  t.equal(b.balance(10_000), 4, 'never more than the burst');
  t.equal(b.full(10_000), true);
});

t.test('30 a minute: the 31st refusal closes the address for 2 s; others are not affected', async (t) => {
  const limiter = new AddressLimiter(30);
  t.equal(limiter.wait('198.51.100.1', 0), 0, 'an address never seen');
  for (let i = 0; i < 29; i++) limiter.charge('198.51.100.1', 0);
  t.equal(limiter.wait('198.51.100.1', 0), 0, '29 refusals: one token left');
  limiter.charge('198.51.100.1', 0);
  t.equal(limiter.wait('198.51.100.1', 0), 2000, '30: one token comes back in 2 s (30 per 60 s)');
  t.equal(limiter.wait('198.51.100.2', 0), 0, 'another address');
  t.equal(limiter.wait('::ffff:198.51.100.1', 0), 2000, 'the same address, IPv4-mapped');
  t.equal(limiter.wait('198.51.100.1', 2000), 0);
  // Connections already open keep failing: the debt grows, at most a minute's worth.
  for (let i = 0; i < 100; i++) limiter.charge('198.51.100.1', 2000);
  t.equal(limiter.wait('198.51.100.1', 2000), 62_000, 'a debt of 30 plus one token: 62 s');
  t.equal(limiter.size, 1);
  t.equal(limiter.wait('198.51.100.1', 2000 + 60_000 + 60_000), 0, 'refilled after two minutes');
  t.equal(limiter.size, 0, 'and forgotten');
});

t.test('memory is bounded: refilled addresses go first, then the oldest', async (t) => {
  const limiter = new AddressLimiter(30);
  const address = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  // Every address at its limit, so that one still remembered must wait 2 s.
  for (let i = 0; i < MAX_ADDRESSES; i++) for (let k = 0; k < 30; k++) limiter.charge(address(i), 0);
  t.equal(limiter.size, MAX_ADDRESSES);
  t.equal(limiter.wait(address(0), 0), 2000);
  limiter.charge('192.0.2.1', 0);
  t.equal(limiter.size, MAX_ADDRESSES, 'none refilled yet: the oldest makes room');
  t.equal(limiter.wait(address(0), 0), 0, 'the oldest was forgotten');
  t.equal(limiter.wait(address(1), 0), 2000, 'the next one is still remembered');
  // A minute later every bucket has refilled: the next new address clears them all at once.
  limiter.charge('192.0.2.2', 60_000);
  t.equal(limiter.size, 1, 'every refilled address forgotten');
  t.equal(limiter.wait(address(1), 60_000), 0);
});
