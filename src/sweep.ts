/**
 * One clock for every connection of the process: a periodic sweep instead of a timer per
 * connection.
 *
 * A connection has at most a handful of deadlines (the opening handshake, a frame that has started,
 * the heartbeat's Pong, the closing handshake); each keeps the earliest as a number, and the sweep
 * calls it back once that time has passed. A `setTimeout` per connection would cost an object, a
 * closure and a place in Node's timer lists for each of 10,000 idle connections; a number costs
 * eight bytes. The price is precision: a deadline fires up to one tick late. The tick is a quarter of
 * the shortest timeout any armed connection uses, between 5 and 250 ms — so the defaults (seconds)
 * sweep four times a second, and only a test's 100 ms timers sweep faster.
 *
 * The sweep's timer is unref'd: a pending deadline never keeps the process alive on its own.
 */

/**
 * The sweep's clock: whole milliseconds since the process started. Small integers, so a deadline
 * kept in a field costs no heap number (a `Date.now()` value would not fit V8's small integers).
 */
export function now(): number {
  return Math.floor(performance.now());
}

/** Something with a deadline: the sweep calls `expire` once `deadline` (a {@link now} time) has passed. */
export interface Timed {
  deadline: number;
  expire(now: number): void;
}

const MIN_TICK = 5;
const MAX_TICK = 250;

const armed = new Set<Timed>();
let tick = MAX_TICK;
let timer: NodeJS.Timeout | undefined;

/**
 * Keeps `item` under watch until {@link disarm}. `timeout` is the shortest delay it will ask for
 * (its smallest configured timeout): the sweep ticks fast enough for it.
 */
export function arm(item: Timed, timeout: number): void {
  armed.add(item);
  const wanted = Math.min(MAX_TICK, Math.max(MIN_TICK, Math.floor(timeout / 4)));
  if (timer === undefined || wanted < tick) {
    tick = timer === undefined ? wanted : Math.min(tick, wanted);
    clearInterval(timer);
    timer = setInterval(sweep, tick).unref();
  }
}

/** Stops watching `item`; when nothing is armed the sweep stops (and its tick resets). */
export function disarm(item: Timed): void {
  armed.delete(item);
  if (armed.size === 0 && timer !== undefined) {
    clearInterval(timer);
    timer = undefined;
    tick = MAX_TICK;
  }
}

/** How many items are watched and how often (for tests and the benchmarks). */
export function sweepStatus(): { armed: number; tick: number; running: boolean } {
  return { armed: armed.size, tick, running: timer !== undefined };
}

function sweep(): void {
  const time = now();
  for (const item of armed) {
    if (item.deadline <= time) item.expire(time);
  }
}
