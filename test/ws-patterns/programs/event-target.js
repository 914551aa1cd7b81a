// ws doc, the EventTarget interface: onopen, onmessage, addEventListener, event objects.
import WebSocket from 'simpatico-ws';

const ws = new WebSocket(process.env.URL);

ws.onopen = (event) => {
  console.log('%s', event.type);
  ws.send('hi');
};
ws.addEventListener('message', (event) => console.log('once: %s', event.data), { once: true });
ws.onmessage = (event) => {
  console.log('%s: %s', event.type, event.data);
  if (event.data === 'second') ws.close(1000, 'done');
};
ws.onclose = (event) => console.log('%s %d %s clean=%s', event.type, event.code, event.reason, event.wasClean);
ws.onerror = (event) => console.log('error', event.message);
