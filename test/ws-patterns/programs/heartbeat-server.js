// ws FAQ, "How to detect and close broken connections?": ping every client; one that has not
// answered the last ping is terminated. (An interval of 100 ms instead of 30 s.)
import { WebSocketServer } from 'simpatico-ws';

function heartbeat() {
  this.isAlive = true;
}

const wss = new WebSocketServer({ port: 0 });
wss.on('listening', () => console.log('listening %d', wss.address().port));

wss.on('connection', function connection(ws, req) {
  ws.name = req.url;
  ws.isAlive = true;
  ws.on('error', console.error);
  ws.on('pong', heartbeat);
});

const interval = setInterval(function ping() {
  wss.clients.forEach(function each(ws) {
    if (ws.isAlive === false) {
      console.log('terminating %s', ws.name);
      return ws.terminate();
    }

    ws.isAlive = false;
    ws.ping();
  });
}, 100);

wss.on('close', function close() {
  clearInterval(interval);
});
