// ws doc, send(data, callback): called once the data is written, or with the error that kept it
// from being sent (here, a send after close()).
import WebSocket from 'simpatico-ws';

const ws = new WebSocket(process.env.URL);

ws.on('open', () => {
  ws.send('first', (err) => console.log('first: %s', err ? 'failed' : 'written'));
  ws.close();
  ws.send('too late', (err) => console.log('too late: %s', err instanceof Error ? 'error' : 'written'));
});
