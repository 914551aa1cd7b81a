/**
 * Resolves on SIGINT, SIGTERM or the abort of `signal`, whichever comes first (at once if `signal`
 * is already aborted): how the command's servers know to shut down cleanly.
 */
export function stopped(signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
    if (signal?.aborted) done();
    else signal?.addEventListener('abort', done);
  });
}
