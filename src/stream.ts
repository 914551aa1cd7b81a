/**
 * `createWebSocketStream(ws)`: a connection as a Node Duplex stream, as ws offers it — every message
 * is a chunk read; every chunk written is sent as a message; ending the stream closes the
 * connection. Backpressure goes both ways: a reader that stops asking pauses the socket, and writes
 * wait for 'drain' when `send` reports the buffer full.
 */
import { Duplex, type DuplexOptions } from 'node:stream';
import { WebSocket } from './websocket.js';

export function createWebSocketStream(ws: WebSocket, options: DuplexOptions = {}): Duplex {
  let resumeOnRead = false;
  const stream = new Duplex({
    autoDestroy: true,
    emitClose: true,
    ...options,
    read() {
      if (resumeOnRead) {
        resumeOnRead = false;
        ws.resume();
      }
    },
    write(chunk: Buffer | string, _encoding, callback) {
      if (ws.readyState === WebSocket.CONNECTING) {
        ws.once('open', () => stream._write(chunk, _encoding, callback));
        return;
      }
      // Buffers go as binary (the stream's decodeStrings turns strings into them unless told not to).
      ws.send(chunk, { binary: typeof chunk !== 'string' }, callback);
    },
    final(callback) {
      if (ws.readyState === WebSocket.CONNECTING) {
        ws.once('open', () => stream._final(callback));
        return;
      }
      if (ws.readyState === WebSocket.CLOSED) return callback();
      ws.once('close', () => callback());
      ws.close();
    },
    destroy(error, callback) {
      if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
      callback(error);
    },
  });
  ws.on('message', (data) => {
    if (!stream.push(data) && !ws.isPaused) {
      resumeOnRead = true;
      ws.pause();
    }
  });
  ws.once('close', () => {
    if (!stream.destroyed) stream.push(null);
  });
  ws.on('error', (error) => stream.destroy(error));
  return stream;
}
