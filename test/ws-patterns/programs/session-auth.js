// ws examples/express-session-parse, without express: a login over HTTP sets a session cookie; the
// upgrade is accepted only with a live session, and each user's socket is kept in a map
// (clientTracking: false, as the example sets it).
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { WebSocketServer } from 'simpatico-ws';

const sessions = new Map(); // session id -> user id
const sockets = new Map(); // user id -> WebSocket

function sessionOf(req) {
  const cookie = /(?:^|;\s*)sid=([^;]+)/.exec(req.headers.cookie ?? '');
  return cookie === null ? undefined : sessions.get(cookie[1]);
}

const server = createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/login') {
    const sid = randomUUID();
    sessions.set(sid, 'user-' + (sessions.size + 1));
    res.setHeader('Set-Cookie', `sid=${sid}; HttpOnly`);
    res.end(JSON.stringify({ result: 'OK', message: 'Session updated' }));
  } else {
    res.statusCode = 404;
    res.end();
  }
});

const wss = new WebSocketServer({ clientTracking: false, noServer: true });

server.on('upgrade', function (request, socket, head) {
  socket.on('error', console.error);
  const userId = sessionOf(request);
  if (!userId) {
    socket.write('HTTP/1.1 401 Unauthorized\r\n\r\n');
    socket.destroy();
    return;
  }
  socket.removeListener('error', console.error);
  wss.handleUpgrade(request, socket, head, function (ws) {
    wss.emit('connection', ws, request, userId);
  });
});

wss.on('connection', function (ws, request, userId) {
  sockets.set(userId, ws);
  ws.on('message', function (message) {
    console.log(`Received message ${message} from user ${userId}`);
    ws.send(`${userId}, your sockets: ${sockets.size}`);
  });
  ws.on('close', function () {
    sockets.delete(userId);
  });
});

server.listen(0, '127.0.0.1', () => console.log('listening %d', server.address().port));
