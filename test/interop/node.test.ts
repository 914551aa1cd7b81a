// Interop: our server against the two Node clients nobody here wrote — Node's built-in WebSocket
// (undici; a child process, as Node 20 needs --experimental-websocket) and the ws library's client
// (in this process) — both running the same WHATWG-API cases as the browser (peers/whatwg-cases.js).
// test/server/server.test.ts already covers these clients on a few messages; this is the full matrix.
import t from 'tap';
import WsWebSocket from 'ws';
import { PLAN, WAIT, checkPlan, interopServer, loadPeerScripts, peer, runPlanPeer, type PlanResults } from './fixtures.js';
import { within } from '../conformance/harness.js';

t.test("Node's built-in WebSocket runs the whole plan", async (t) => {
  const srv = await interopServer(t);
  const flags = Number(process.versions.node.split('.')[0]) < 22 ? ['--experimental-websocket'] : [];
  const results = await runPlanPeer(t, "Node's WebSocket peer", process.execPath, [...flags, peer('node-websocket.mjs'), srv.url, JSON.stringify(PLAN)]);
  if (typeof results.unavailable === 'string') {
    // Only a Node without any WebSocket gets here; the project's Node 20+ always has one.
    t.fail(results.unavailable);
    return;
  }
  await checkPlan(t, results, srv, { refusesUnselected: true });
});

t.test('the ws client runs the whole plan', async (t) => {
  const srv = await interopServer(t);
  const { makeCases, runPlan } = await loadPeerScripts();
  const results = (await within(runPlan(makeCases(WsWebSocket), srv.url, PLAN), 'the ws client to run the plan', 2 * WAIT)) as PlanResults;
  await checkPlan(t, results, srv, { refusesUnselected: true });
});
