// Command-line arguments shared by the benchmark echo servers: `--host H --port P`, loopback by default.

/**
 * @param {string[]} argv
 * @returns {{ host: string, port: number }}
 */
export function parseServerArgs(argv) {
  let host = '127.0.0.1';
  let port = 0;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--host' && i + 1 < argv.length) host = argv[++i];
    else if (argv[i] === '--port' && i + 1 < argv.length) port = Number(argv[++i]);
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`invalid --port ${port}`);
  return { host, port };
}
