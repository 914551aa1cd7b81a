// A client that reconnects when the connection closes, with a growing delay (ws's issue threads and
// its FAQ's heartbeat lead here): the server restarts once; the second connection stays.
import WebSocket from 'simpatico-ws';

let attempt = 0;

function connect() {
  attempt++;
  const ws = new WebSocket(process.env.URL);
  ws.on('error', () => {});
  ws.on('open', () => console.log('connected, attempt %d', attempt));
  ws.on('message', (data) => {
    console.log('message %s', data);
    if (String(data) === 'stay') ws.close();
  });
  ws.on('close', (code) => {
    console.log('closed %d', code);
    if (code === 1012 && attempt < 5) setTimeout(connect, 50 * attempt);
  });
}

connect();
