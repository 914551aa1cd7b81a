// ws README, "Use the Node.js streams API": stdin to the socket, the socket to stdout.
import WebSocket, { createWebSocketStream } from 'simpatico-ws';

const ws = new WebSocket(process.env.URL);

const duplex = createWebSocketStream(ws, { encoding: 'utf8' });

duplex.on('error', console.error);

duplex.pipe(process.stdout);
process.stdin.pipe(duplex);
