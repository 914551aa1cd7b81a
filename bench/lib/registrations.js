// The registrations/s measurement both registration benchmarks make (bench/cluster.js with the package's client, bench/registration.js with the raw-socket one of loadgen-registration.js).

/**
 * Registers `count` clients at `url`, 10 at a time, each closed once accepted (connect, challenge,
 * Ed25519 answer verified, accepted).
 * @param {(url: string) => Promise<{ close(): void }>} connectAndRegister registers one client: the package's, or a raw-socket one
 * @param {string} url @param {number} count
 * @returns {Promise<{ rate: number, count: number, seconds: number }>}
 */
export async function registrations(connectAndRegister, url, count) {
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 10 }, async () => {
      while (next < count) {
        next++;
        const r = await connectAndRegister(url);
        r.close();
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  return { rate: count / seconds, count, seconds };
}
