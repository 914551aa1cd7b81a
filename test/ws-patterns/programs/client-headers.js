// ws doc, options.headers and options.origin: extra request headers, and the Origin a browser
// would send.
import WebSocket from 'simpatico-ws';

const ws = new WebSocket(process.env.URL, {
  headers: { Authorization: 'Bearer abc', 'X-Client': 'pattern' },
  origin: 'https://app.example',
});

ws.on('message', (data) => {
  console.log('server saw: %s', data);
  ws.close();
});
