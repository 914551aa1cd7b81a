// The option checker: every mistake is a WS_ERR_INVALID_OPTION that names the option, the value
// with its type, and what is accepted.
import t from 'tap';
import { checkOptions, describeValue, rule } from '../src/options.js';

const rules = {
  maxPayload: rule.bytes(1),
  closeTimeout: rule.milliseconds(1),
  retries: rule.integer(0, 10),
  rate: rule.positive(),
  secure: rule.boolean,
  verify: rule.function,
  host: rule.string,
  tls: rule.object,
  protocols: rule.either(rule.strings, rule.function),
  policy: rule.oneOf('skip', 'close'),
  anything: rule.any,
};
const where = 'new Thing()';

t.test('valid options and undefined values pass', async (t) => {
  checkOptions(where, undefined, rules);
  checkOptions(where, {}, rules);
  checkOptions(where, { maxPayload: 1, closeTimeout: 0.5 + 1, retries: 10, rate: 0.1, secure: false, verify: () => 1 }, rules);
  checkOptions(where, { host: 'h', tls: {}, protocols: ['a'], policy: 'close', anything: null, maxPayload: undefined }, rules);
  checkOptions(where, { protocols: () => 'a', typo: undefined }, rules);
  t.pass();
});

t.test('each mistake names the option, the value and its type, and what is accepted', async (t) => {
  const cases: [unknown, RegExp][] = [
    [{ maxPayload: '1048576' }, /option maxPayload must be a whole number of bytes from 1 to 2\^53 - 1; got "1048576" \(a string\)/],
    [{ maxPayload: 1.5 }, /got 1\.5 \(a number\)/],
    [{ closeTimeout: Infinity }, /closeTimeout must be a number of milliseconds from 1 to 2\^31 - 1; got Infinity/],
    [{ retries: -1 }, /retries must be a whole number from 0 to 10/],
    [{ rate: 0 }, /rate must be a number above 0/],
    [{ secure: 'yes' }, /secure must be true or false/],
    [{ verify: null }, /verify must be a function; got null/],
    [{ host: 5n }, /got 5 \(a bigint\)/],
    [{ tls: [] }, /tls must be an object; got an array of 0/],
    [{ protocols: 5 }, /protocols must be an array of strings, or a function; got 5 \(a number\)/],
    [{ policy: 'drop' }, /policy must be one of "skip", "close"/],
    [{ maxPayLoad: 1 }, /unknown option "maxPayLoad"; did you mean "maxPayload"\? Known options: maxPayload, /],
    [{ maxpayload: 1 }, /did you mean "maxPayload"/],
    [{ maxPaylod: 1 }, /did you mean "maxPayload"/],
    [{ zzzzzzzz: 1 }, /unknown option "zzzzzzzz" Known options/],
    [5, /new Thing\(\): options must be an object, got 5 \(a number\)/],
    [null, /options must be an object, got null/],
  ];
  for (const [options, message] of cases) {
    t.throws(() => checkOptions(where, options, rules), { code: 'WS_ERR_INVALID_OPTION', side: 'local', message }, String(message));
  }
});

t.test('a name another library uses differently gets that advice', async (t) => {
  t.throws(() => checkOptions(where, { handleProtocols: () => 'x' }, rules, { handleProtocols: 'use protocols here' }), {
    code: 'WS_ERR_INVALID_OPTION',
    message: 'new Thing(): option handleProtocols — use protocols here',
  });
});

t.test('values are described with their type', async (t) => {
  t.equal(describeValue('x'.repeat(50)), `"${'x'.repeat(40)}…" (a string)`);
  t.equal(describeValue(true), 'true (a boolean)');
  t.equal(describeValue(() => 1), 'a function');
  t.equal(describeValue(undefined), 'undefined');
  t.equal(describeValue(Symbol('s')), 'a symbol');
  t.equal(describeValue({}), 'an object');
  t.equal(describeValue([1, 2]), 'an array of 2');
});
