/**
 * The demo page, after the user's seed: the same markup and element ids (`run-connect`,
 * `run-send`, `message-container`), plus this page's public key (`public-key`) and a "send to
 * key" form (`send-to-key`, `send-to-text`, `run-send-to`). The script is the compiled browser
 * module, fetched relative to the page (no inline script, so a strict Content-Security-Policy holds).
 */
export const DEMO_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>simpatico-ws: registration demo</title>
</head>
<body>
<div style="max-width: 800px; margin: 0 auto; padding: 20px; font-family: monospace;">
  <h1>socket Demo</h1>
  <button id="run-connect">Connect</button>
  <button id="run-send">Send</button>
  <p>Public key: <code id="public-key"></code></p>
  <p>
    <input id="send-to-key" placeholder="recipient public key" size="48" autocomplete="off">
    <input id="send-to-text" placeholder="message" value="hi" autocomplete="off">
    <button id="run-send-to">Send to key</button>
  </p>
  <pre id="message-container" style="background: #f4f4f4; padding: 15px; margin-top: 20px; height: 500px; overflow: auto; border: 1px solid #ddd; white-space: pre-wrap; overflow-wrap: anywhere;"></pre>
</div>
<script type="module" src="registration/browser/demo.js"></script>
</body>
</html>
`;

/**
 * The page's Content-Security-Policy: scripts only from this origin, connections only back to it
 * (CSP3 'self' covers ws: and wss: on the same host), the seed's inline styles, nothing else.
 */
export const DEMO_PAGE_CSP =
  "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
