// Runs the WHATWG cases with Node's built-in WebSocket (behind --experimental-websocket on Node 20,
// global from Node 22). Usage: node [--experimental-websocket] node-websocket.mjs URL PLAN_JSON
// Prints one JSON object: each case's observations, or { error } for a case that threw.
import { makeCases } from './whatwg-cases.js';
import { runPlan } from './plan.js';

const [url, plan] = process.argv.slice(2);
if (url === undefined || plan === undefined) {
  // Also what a test runner sees when it loads every file of the folder: nothing to run.
  console.error('usage: node [--experimental-websocket] node-websocket.mjs URL PLAN_JSON');
} else if (typeof WebSocket !== 'function') {
  console.log(JSON.stringify({ unavailable: `no global WebSocket in Node ${process.version}` }));
} else {
  console.log(JSON.stringify(await runPlan(makeCases(WebSocket), url, JSON.parse(plan))));
}
