// The public surface of simpatico-ws/registration: everything the README names is exported.
import t from 'tap';
import * as registration from '../../src/registration/index.js';

t.test('the registration entry point exports the public API', async (t) => {
  // The demo's HTTP side (demoHttpHandler, loadWebFiles) is serve.ts's, not part of the API.
  t.same(Object.keys(registration).sort(), [
    'CLIENT_ERROR',
    'CLOSE',
    'CLOSE_REASON',
    'ClientSession',
    'FORWARD_OVERHEAD',
    'HUB_DEFAULTS',
    'MAX_DEPTH',
    'MIN_MESSAGE_BYTES',
    'MemoryBus',
    'Phase',
    'REJECT_REASON',
    'REPLY_ERROR',
    'RedisBus',
    'Registration',
    'RegistrationClientRole',
    'RegistrationErrorCode',
    'RegistrationHub',
    'RegistrationServerRole',
    'SERVER_DEFAULTS',
    'SIGNATURE_DOMAIN',
    'connectAndRegister',
    'decodeBase64url',
    'encodeBase64url',
    'hostOfUrl',
    'isSmallOrderKey',
    'keyPairFromSeed',
    'nodeCrypto',
    'normalizeHost',
    'register',
    'registrationMessage',
    'webCrypto',
  ]);
  t.equal(registration.SIGNATURE_DOMAIN, 'simpatico-registration-v1');
  t.same(registration.CLOSE, { POLICY: 1008, TOO_BIG: 1009, UNSUPPORTED: 1003, INTERNAL: 1011 });
  t.equal(registration.MAX_DEPTH, 32);
  t.equal(registration.FORWARD_OVERHEAD, 53);
  t.same(registration.HUB_DEFAULTS, { maxBufferedAmount: 1024 * 1024, refusalsPerMinute: 30 });
  t.same(registration.Phase, { CHALLENGED: 'challenged', REGISTERED: 'registered', HEARTBEAT: 'heartbeat' });
});
