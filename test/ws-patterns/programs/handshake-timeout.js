// ws doc, options.handshakeTimeout: a server that accepts TCP and never answers is given up on.
import WebSocket from 'simpatico-ws';

const ws = new WebSocket(process.env.URL, { handshakeTimeout: 200 });

ws.on('error', () => console.log('error event'));
ws.on('open', () => console.log('opened?'));
ws.on('close', (code) => console.log('closed %d', code));
