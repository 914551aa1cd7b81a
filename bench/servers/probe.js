// Preloaded into every benchmark server with `node --expose-gc --import ./bench/servers/probe.js <server>`.
//
// The harness must read a server's memory the same way for every implementation, including the
// `simpatico-ws echo` command, which knows nothing about benchmarks. This module rides along in the
// server's process and answers one IPC question: "collect garbage, then tell me your memory".
// It does nothing else and holds no reference that would keep the process alive, so the server
// still exits on its own when it receives SIGTERM.

/** @typedef {{ type: 'memory', id: number }} MemoryQuery */

if (typeof process.send === 'function') {
  process.on('message', (/** @type {MemoryQuery} */ msg) => {
    if (!msg || msg.type !== 'memory') return;
    const collect = /** @type {undefined | (() => void)} */ (globalThis.gc);
    // Several passes: the first one can leave weak references and finalisers that the next frees.
    if (collect) for (let i = 0; i < 3; i++) collect();
    const m = process.memoryUsage();
    const cpu = process.cpuUsage();
    process.send?.({
      type: 'memory',
      id: msg.id,
      gc: typeof collect === 'function',
      rss: m.rss,
      heapUsed: m.heapUsed,
      heapTotal: m.heapTotal,
      external: m.external,
      arrayBuffers: m.arrayBuffers,
      cpuUserUs: cpu.user,
      cpuSystemUs: cpu.system,
      info: /** @type {any} */ (globalThis).__benchServerInfo ?? null,
    });
  });
  // Adding a 'message' listener refs the IPC channel; unref it so that the channel alone never keeps
  // a server alive after it closed its listener.
  /** @type {any} */ (process).channel?.unref?.();
}
