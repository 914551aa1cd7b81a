/** simpatico-ws: a WebSocket implementation for Node.js with zero runtime dependencies. */
export const VERSION = '0.1.0';
