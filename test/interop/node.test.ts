// Interop: our server against the two Node clients nobody here wrote — Node's built-in WebSocket
// (undici; a child process, as Node 20 needs --experimental-websocket) and the ws library's client
// (in this process) — both running the same WHATWG-API cases as the browser (peers/whatwg-cases.js).
// test/server/server.test.ts already covers these clients on a few messages; this is the full matrix.
import t from 'tap';
import WsWebSocket from 'ws';
import { COMPRESSION_MODES, PLAN, WAIT, checkPlan, interopServer, loadPeerScripts, peer, runPlanPeer, type PlanResults } from './fixtures.js';
import { within } from '../conformance/harness.js';

/**
 * Node 20's WebSocket (undici) closes the connection (1006) on a compressed message that inflates
 * past 4 MiB — its own bound, met with ws's server just the same — so with compression on it runs
 * the binary case up to 4 MiB.
 */
const UNDICI_INFLATE_LIMIT = 4 * 1024 * 1024;

for (const { name, mode } of COMPRESSION_MODES) t.test(`Node's built-in WebSocket runs the whole plan (${name})`, async (t) => {
  const srv = await interopServer(t, mode);
  const flags = Number(process.versions.node.split('.')[0]) < 22 ? ['--experimental-websocket'] : [];
  const sizes = mode === false ? PLAN.sizes : PLAN.sizes.map((n) => Math.min(n, UNDICI_INFLATE_LIMIT));
  if (mode !== false) console.log(`# Node's WebSocket with compression: binary up to ${UNDICI_INFLATE_LIMIT} bytes (undici's own inflate limit)`);
  const plan = { ...PLAN, sizes };
  const results = await runPlanPeer(t, "Node's WebSocket peer", process.execPath, [...flags, peer('node-websocket.mjs'), srv.url, JSON.stringify(plan)]);
  if (typeof results.unavailable === 'string') {
    // Only a Node without any WebSocket gets here; the project's Node 20+ always has one.
    t.fail(results.unavailable);
    return;
  }
  await checkPlan(t, results, srv, { refusesUnselected: true, sizes });
});

for (const { name, mode } of COMPRESSION_MODES) t.test(`the ws client runs the whole plan (${name})`, async (t) => {
  const srv = await interopServer(t, mode);
  const { makeCases, runPlan } = await loadPeerScripts();
  const results = (await within(runPlan(makeCases(WsWebSocket), srv.url, PLAN), 'the ws client to run the plan', 2 * WAIT)) as PlanResults;
  await checkPlan(t, results, srv, { refusesUnselected: true });
});
