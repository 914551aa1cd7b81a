// The seed's first step: "create two client websockets, and treat one as a server the other as a
// client". The server role runs inside a plain client, behind a relay that only broadcasts; the
// other client is the ordinary Node client. Nothing in the protocol knows where it runs.
import t from 'tap';
import { once } from 'node:events';
import { WebSocketServer } from '../../src/server/server.js';
import { connect } from '../../src/client/connect.js';
import { register } from '../../src/registration/client.js';
import { hostOfUrl } from '../../src/registration/core/crypto.js';
import { RegistrationServerRole, type ServerAction } from '../../src/registration/core/server-role.js';
import { nodeCrypto } from '../../src/registration/node-crypto.js';

t.test('the server role inside a client, through a broadcast relay', async (t) => {
  // The relay: every text goes to every other connection. No registration logic at all.
  const relay = new WebSocketServer({ port: 0 });
  relay.on('connection', (ws) => ws.on('message', (data) => relay.broadcast(data, { except: ws })));
  await relay.ready;
  t.teardown(() => relay.close());

  // The "server": a client connection that runs the server role for the one peer it hears from.
  const host = hostOfUrl(relay.url);
  const role = new RegistrationServerRole<string>({ crypto: nodeCrypto, heartbeatInterval: 0 });
  const serverSide = await connect(relay.url);
  const closes: ServerAction<string>[] = [];
  const apply = (actions: ServerAction<string>[]) => {
    for (const a of actions) {
      // The relay broadcasts anyway: one text for one recipient or many is sent once.
      if (a.type === 'send' || a.type === 'broadcast') serverSide.send(a.text);
      else if (a.type === 'close') closes.push(a);
    }
  };
  let opened = false;
  serverSide.on('message', (data) => {
    // The relay has no connection events to pass on: the peer's first message stands for its open.
    if (!opened) {
      opened = true;
      apply(role.open('peer', host, Date.now()));
      return;
    }
    role.receive('peer', String(data), Date.now()).then(apply);
  });

  // The client: the ordinary Node client, unchanged, signing for the relay's host.
  const ws = await connect(relay.url);
  const keyPair = await nodeCrypto.generateKeyPair();
  const registering = register(ws, keyPair);
  ws.send(JSON.stringify({ hello: 'anyone serving?' }));
  const me = await registering;
  t.same(role.keys(), [me.publicKey], 'the role inside the client registered the key');

  // Routing through the role: to its own key, with a spoofed from that the role replaces.
  const got = once(me, 'message');
  ws.send(JSON.stringify({ to: me.publicKey, from: 'someone-important', data: 'round trip' }));
  t.same(await got, ['round trip', me.publicKey]);
  t.same(closes, []);
  ws.close();
  serverSide.close();
});
