// ws FAQ, the client's side of a heartbeat: a server that stops pinging is given up on.
// (The server pings every 50 ms here; the client waits 500 ms instead of 30 s + 1 s.)
import WebSocket from 'simpatico-ws';

let pings = 0;

function heartbeat() {
  clearTimeout(this.pingTimeout);
  this.pingTimeout = setTimeout(() => {
    console.log('no ping for a while: terminating');
    this.terminate();
  }, 500);
}

const client = new WebSocket(process.env.URL);

client.on('error', console.error);
client.on('open', heartbeat);
client.on('ping', heartbeat);
client.on('ping', () => pings++);
client.on('close', function clear(code) {
  clearTimeout(this.pingTimeout);
  console.log('pings %d, closed %d', pings, code);
});
