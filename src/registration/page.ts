/**
 * The demo page, after the user's seed: the same markup and element ids (`run-connect`,
 * `run-send`, `message-container`), plus this page's public key (`public-key`), a "send to key"
 * form (`send-to-key`, `send-to-text`, `run-send-to`), the page's identity (`identity`, kept in
 * the browser on request: `keep-key`, replaced by `run-new-identity`), and beside the log the
 * protocol panel (`protocol-panel`) with a link to the protocol document. The script is the
 * compiled browser module, fetched relative to the page (no inline script, so a strict
 * Content-Security-Policy holds). The layout is one column up to 900 px and needs no horizontal
 * scroll at 360 px: long keys and signatures wrap anywhere, inputs shrink, buttons wrap.
 */
export const DEMO_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>simpatico-ws: registration demo</title>
<style>
  *, *::before, *::after { box-sizing: border-box; }
  body { margin: 0; font-family: monospace; }
  .demo { max-width: 1200px; margin: 0 auto; padding: 20px; }
  .row { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin: 8px 0; }
  .row input { flex: 1 1 14em; min-width: 0; font-family: inherit; }
  code, .entry { overflow-wrap: anywhere; }
  .columns { display: grid; grid-template-columns: minmax(0, 1fr); gap: 20px; margin-top: 20px; }
  .columns > section { min-width: 0; }
  .columns h2 { font-size: 1em; margin: 0 0 8px; }
  .pane { background: #f4f4f4; padding: 15px; margin: 0; height: 500px; overflow: auto; border: 1px solid #ddd; white-space: pre-wrap; overflow-wrap: anywhere; }
  .entry { margin: 0 0 12px; }
  .entry .what { font-weight: bold; }
  .entry .wire { color: #555; }
  .entry .wire.in::before { content: "\\2190\\00a0"; }
  .entry .wire.out::before { content: "\\2192\\00a0"; }
  .entry dl { margin: 4px 0 0; display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 2px 8px; }
  .entry dt { color: #555; }
  .entry dd { margin: 0; overflow-wrap: anywhere; }
  .status-refused { color: #a00; }
  @media (min-width: 900px) { .columns { grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); } }
  @media (max-width: 480px) { .demo { padding: 10px; } .pane { padding: 8px; height: 360px; } }
</style>
</head>
<body>
<div class="demo">
  <h1>socket Demo</h1>
  <div class="row">
    <button id="run-connect">Connect</button>
    <button id="run-send">Send</button>
    <button id="run-new-identity">New identity</button>
    <label><input type="checkbox" id="keep-key"> keep this key in this browser</label>
  </div>
  <p>Identity: <code id="identity"></code> <span id="identity-status"></span></p>
  <p>Public key: <code id="public-key"></code></p>
  <div class="row">
    <input id="send-to-key" placeholder="recipient public key" autocomplete="off">
    <input id="send-to-text" placeholder="message" value="hi" autocomplete="off">
    <button id="run-send-to">Send to key</button>
  </div>
  <div class="columns">
    <section>
      <h2>Log</h2>
      <pre id="message-container" class="pane"></pre>
    </section>
    <section>
      <h2>Protocol</h2>
      <p>Every text the server sends, and what this page signs to answer a challenge, as
        <a id="protocol-link" href="registration/PROTOCOL.md">the protocol document</a> defines them.</p>
      <div id="protocol-panel" class="pane" role="log"></div>
    </section>
  </div>
</div>
<script type="module" src="registration/browser/demo.js"></script>
</body>
</html>
`;

/**
 * The page's Content-Security-Policy: scripts only from this origin, connections only back to it
 * (CSP3 'self' covers ws: and wss: on the same host), the page's inline styles, nothing else.
 */
export const DEMO_PAGE_CSP =
  "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
