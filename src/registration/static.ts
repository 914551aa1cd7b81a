/**
 * The plain-HTTP side of `simpatico-ws serve`: the demo page at `/`, the compiled browser modules
 * beside it and the protocol document the page links to (`/registration/PROTOCOL.md`, which the
 * build copies from src/registration), from memory. The files are read once at start-up into a
 * map keyed by URL path, so a request can only ever name one of them: no path from a client
 * reaches the file system.
 */

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HttpRequest, HttpResponse } from '../server/server.js';
import { DEMO_PAGE, DEMO_PAGE_CSP } from './page.js';

/**
 * What each kind of file is served as. Markdown goes as plain text: text/markdown (RFC 7763) is
 * its type, but browsers offer to download it rather than show it, and the page links to it to be read.
 */
const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
};

/** The content type of a file served by name, or undefined for a kind that is not served. */
const typeOf = (path: string): string | undefined => TYPES[path.slice(path.lastIndexOf('.'))];

/**
 * Reads every `.js` and `.md` file under `root` (the browser build's output, dist/web) into a map
 * from URL path (`/registration/browser/demo.js`) to contents. A missing `root` gives an empty map.
 */
export async function loadWebFiles(root: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const walk = async (dir: string, prefix: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.isDirectory()) await walk(join(dir, entry.name), `${prefix}${entry.name}/`);
      else if (typeOf(entry.name) !== undefined) files.set(`${prefix}${entry.name}`, await readFile(join(dir, entry.name)));
    }
  };
  await walk(root, '/');
  return files;
}

const COMMON_HEADERS = {
  'cache-control': 'no-cache',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/** The `httpHandler` for the demo: GET/HEAD of `/`, `/index.html` and the module files; 404, 405 otherwise. */
export function demoHttpHandler(files: ReadonlyMap<string, Buffer>): (req: HttpRequest) => HttpResponse {
  return (req) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return { status: 405, headers: { ...COMMON_HEADERS, allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }, body: 'Method not allowed\n' };
    }
    const query = req.url.indexOf('?');
    const path = query === -1 ? req.url : req.url.slice(0, query);
    if (path === '/' || path === '/index.html') {
      return {
        status: 200,
        headers: { ...COMMON_HEADERS, 'content-type': 'text/html; charset=utf-8', 'content-security-policy': DEMO_PAGE_CSP },
        body: DEMO_PAGE,
      };
    }
    const file = files.get(path);
    if (file !== undefined) {
      // Only files of a served kind were loaded, so every one has its type.
      return { status: 200, headers: { ...COMMON_HEADERS, 'content-type': typeOf(path) as string }, body: file };
    }
    return { status: 404, headers: { ...COMMON_HEADERS, 'content-type': 'text/plain; charset=utf-8' }, body: 'Not found\n' };
  };
}
