// ws README, "Client authentication": the http server's 'upgrade' handler authenticates first.
import { createServer } from 'node:http';
import { WebSocketServer } from 'simpatico-ws';

function onSocketError(err) {
  console.error(err);
}

// A stand-in for a real check: a bearer token names the user.
const USERS = { 'token-of-ada': 'ada' };
function authenticate(request, next) {
  const token = (request.headers.authorization ?? '').replace(/^Bearer /, '');
  setImmediate(() => next(null, USERS[token]));
}

const server = createServer();
const wss = new WebSocketServer({ noServer: true });

wss.on('connection', function connection(ws, request, client) {
  ws.on('error', console.error);
  ws.on('message', function message(data) {
    console.log(`Received message ${data} from user ${client}`);
    ws.send(`hello ${client}`);
  });
});

server.on('upgrade', function upgrade(request, socket, head) {
  socket.on('error', onSocketError);

  authenticate(request, function next(err, client) {
    if (err || !client) {
      console.log('refused');
      socket.write('HTTP/1.1 401 Unauthorized\r\n\r\n');
      socket.destroy();
      return;
    }

    socket.removeListener('error', onSocketError);

    wss.handleUpgrade(request, socket, head, function done(ws) {
      wss.emit('connection', ws, request, client);
    });
  });
});

server.listen(0, '127.0.0.1', () => console.log('listening %d', server.address().port));
