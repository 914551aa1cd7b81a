// Shared by the registration tests: drive the two sans-I/O roles against each other with real
// Ed25519 (node:crypto), and pick actions out of their outputs.
import { RegistrationClientRole, type ClientEvent } from '../../src/registration/core/client-role.js';
import { RegistrationServerRole, type ServerAction, type ServerRoleOptions } from '../../src/registration/core/server-role.js';
import { nodeCrypto } from '../../src/registration/node-crypto.js';

export const HOST = 'chat.example:8080';

export function server(options: Partial<ServerRoleOptions> = {}) {
  return new RegistrationServerRole<string>({ crypto: nodeCrypto, ...options });
}

export async function client(host = HOST) {
  const keyPair = await nodeCrypto.generateKeyPair();
  return new RegistrationClientRole({ crypto: nodeCrypto, keyPair, host });
}

/** Texts sent to `conn`, parsed. */
export function sentTo(actions: ServerAction<string>[], conn: string): any[] {
  return actions.filter((a) => a.type === 'send' && a.conn === conn).map((a) => JSON.parse((a as { text: string }).text));
}

export function closeOf(actions: ServerAction<string>[]) {
  return actions.find((a) => a.type === 'close') as { code: number; reason: string; conn: string } | undefined;
}

export function textOf(events: ClientEvent[]): string {
  const send = events.find((e) => e.type === 'send') as { text: string } | undefined;
  if (send === undefined) throw new Error('no send event in ' + JSON.stringify(events));
  return send.text;
}

/** Opens `conn` and runs the registration to acceptance; returns the client role. */
export async function registered(s: RegistrationServerRole<string>, conn: string, now = 0, c?: RegistrationClientRole) {
  const cl = c ?? (await client());
  const [challenge] = sentTo(s.open(conn, HOST, now), conn);
  const answer = textOf(await cl.receive(JSON.stringify(challenge)));
  const out = await s.receive(conn, answer, now);
  const [accepted] = sentTo(out, conn);
  const events = await cl.receive(JSON.stringify(accepted));
  if (events[0]?.type !== 'accepted') throw new Error('not accepted: ' + JSON.stringify(accepted));
  return cl;
}
