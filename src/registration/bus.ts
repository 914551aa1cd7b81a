/**
 * The bus between nodes: what a {@link RegistrationHub} needs so that one key space spans many
 * processes. A hub routes to the connections it holds itself; everything it routes is also offered
 * to the other nodes through its bus, and the bus says how many of them took it, so that a key
 * nobody holds anywhere is answered "unknown recipient" at once.
 *
 * Two implementations: {@link MemoryBus} (in one process: the default, a node alone, which is the
 * single-process server exactly) and `RedisBus` (./redis-bus.ts: Redis pub/sub, over a client the
 * user passes in, so that this package never imports `redis`).
 *
 * Delivery is at most once, in order per publisher, with no history: a node that is not
 * subscribed when a message is published never sees it.
 */

/** Where a bus hands what other nodes published: to the connections of `to`, or (undefined) to all. */
export type BusDeliver = (to: string | undefined, text: string) => void;

/** One node's end of the bus. A hub calls `open` once, then the others as keys come and go. */
export interface Bus {
  /** Where messages from other nodes go from now on (their own publications never come back). */
  open(deliver: BusDeliver): void;
  /**
   * This node now holds a connection for `key`: deliver what other nodes publish to it. A promise
   * means the hub waits for it before telling the client `accepted: true` (so the key is routable
   * from every node by then); it must settle, and never reject.
   */
  subscribe(key: string): void | Promise<void>;
  /** This node holds no connection for `key` any more. */
  unsubscribe(key: string): void;
  /**
   * Offers `text` to the other nodes: to those holding `to`, or (undefined) to all. Returns how
   * many other nodes received it (0: nobody else holds `to`), or a promise of it, which rejects
   * when the bus cannot tell (it is down): the hub then answers the sender with an error.
   */
  publish(to: string | undefined, text: string): number | Promise<number>;
}

/**
 * A bus inside one process. `new MemoryBus()` is a node alone — what a hub uses by default: nothing
 * leaves the process and every answer is synchronous. `bus.peer()` makes another node on the same
 * bus, for several hubs in one process (to try a cluster's routing without Redis).
 */
export class MemoryBus implements Bus {
  private deliver: BusDeliver | undefined;
  private readonly keys = new Set<string>();

  constructor(private readonly group: Set<MemoryBus> = new Set()) {
    group.add(this);
  }

  /** Another node on this bus. */
  peer(): MemoryBus {
    return new MemoryBus(this.group);
  }

  open(deliver: BusDeliver): void {
    this.deliver = deliver;
  }

  subscribe(key: string): void {
    this.keys.add(key);
  }

  unsubscribe(key: string): void {
    this.keys.delete(key);
  }

  publish(to: string | undefined, text: string): number {
    let received = 0;
    for (const node of this.group) {
      if (node === this || node.deliver === undefined || (to !== undefined && !node.keys.has(to))) continue;
      received++;
      node.deliver(to, text);
    }
    return received;
  }

  /** Leaves the bus: other nodes no longer reach this one. */
  close(): void {
    this.group.delete(this);
  }
}
