// The public surface of simpatico-ws/registration: everything the README names is exported.
import t from 'tap';
import * as registration from '../../src/registration/index.js';

t.test('the registration entry point exports the public API', async (t) => {
  t.same(Object.keys(registration).sort(), [
    'CLIENT_ERROR',
    'CLOSE',
    'CLOSE_REASON',
    'MIN_MESSAGE_BYTES',
    'REJECT_REASON',
    'REPLY_ERROR',
    'Registration',
    'RegistrationClientRole',
    'RegistrationHub',
    'RegistrationServerRole',
    'SERVER_DEFAULTS',
    'SIGNATURE_DOMAIN',
    'connectAndRegister',
    'decodeBase64url',
    'demoHttpHandler',
    'encodeBase64url',
    'hostOfUrl',
    'isSmallOrderKey',
    'keyPairFromSeed',
    'loadWebFiles',
    'nodeCrypto',
    'normalizeHost',
    'register',
    'registrationMessage',
    'webCrypto',
  ]);
  t.equal(registration.SIGNATURE_DOMAIN, 'simpatico-registration-v1');
  t.same(registration.CLOSE, { POLICY: 1008, TOO_BIG: 1009, UNSUPPORTED: 1003 });
});
