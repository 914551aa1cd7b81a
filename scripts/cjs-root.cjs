'use strict';
// require('simpatico-ws'): the WebSocket class itself, as ws's root is, so that code written for ws
// (`const WebSocket = require('ws'); new WebSocket.Server(...)`) runs unchanged. Every named export
// of src/index.ts is also a property of the class, so `const { connect } = require('simpatico-ws')`
// works too. The ESM entry (dist/esm/index.js) imports this same file: the class has one identity
// and one shape however the package is loaded. Copied to dist/cjs/root.js by scripts/build-entries.js.
const lib = require('./index.js');

const WebSocket = lib.WebSocket;
for (const [name, value] of Object.entries(lib)) {
  if (name === 'default') continue;
  if (Object.prototype.hasOwnProperty.call(WebSocket, name)) {
    // A static the class declares itself (WebSocket.WebSocketServer, as in ws): it must be the export.
    if (WebSocket[name] !== value) throw new Error(`simpatico-ws: WebSocket.${name} is not the export '${name}'.`);
    continue;
  }
  Object.defineProperty(WebSocket, name, { value, enumerable: true });
}
module.exports = WebSocket;
