/**
 * A {@link Bus} over Redis pub/sub, for hubs in many processes or on many machines: one channel
 * per registered key, subscribed while this node holds a connection for it, and one channel for
 * broadcasts, which every node subscribes. `PUBLISH` answers how many subscribers received a
 * message, so a key no node holds is known at once (0).
 *
 * It takes a node-redis client (the `redis` package, v4 or later) that the user made: this
 * package never imports `redis`. The client publishes; a duplicate of it (same address, same
 * options) subscribes, since a connection in subscriber mode can do nothing else (RESP2).
 *
 * Faults, as the hub sees them:
 * - Redis unreachable: `publish` rejects at once when the client is not ready, or after `timeout`
 *   when Redis does not answer (a client with an offline queue would otherwise hold the command
 *   until Redis returns); `subscribe` settles after at most `timeout` either way, and the key is
 *   subscribed again once Redis is back.
 * - Redis back, possibly empty (restarted without persistence): every channel this node holds is
 *   subscribed again on the subscriber's `ready`, whatever the client restored by itself.
 * - `down` and `up` events, once per change, for the one log line each.
 */

import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { checkOptions, rule } from '../options.js';
import type { Bus, BusDeliver } from './bus.js';
import { DURATION_RULE } from './core/server-options.js';

/** What RedisBus uses of a node-redis client's subscriber (the client's `duplicate()`). */
export interface RedisSubscriberLike {
  readonly isReady: boolean;
  readonly isOpen: boolean;
  connect(): Promise<unknown>;
  subscribe(channel: string, listener: (message: string, channel: string) => void): Promise<unknown>;
  unsubscribe(channel: string, listener: (message: string, channel: string) => void): Promise<unknown>;
  disconnect(): Promise<unknown>;
  on(event: string, listener: (...args: any[]) => void): unknown;
}

/** What RedisBus uses of a node-redis client (`createClient()` of the `redis` package, v4 or later). */
export interface RedisClientLike {
  readonly isReady: boolean;
  publish(channel: string, message: string): Promise<number>;
  duplicate(): RedisSubscriberLike;
  on(event: string, listener: (...args: any[]) => void): unknown;
  off(event: string, listener: (...args: any[]) => void): unknown;
}

/** Options of a {@link RedisBus}. */
export interface RedisBusOptions {
  /** Prefix of every channel name, to share one Redis with other applications (default `simpatico:`). */
  prefix?: string;
  /**
   * Milliseconds a publish or a subscribe waits for Redis before giving up (default 1000): a
   * sender learns "other nodes unreachable" at most this long after sending.
   */
  timeout?: number;
}

/** Events of a {@link RedisBus}. */
export interface RedisBusEvents {
  /** Redis became unreachable: messages reach this node's connections only, until `up`. */
  down: [error: Error];
  /** Redis is back and every key this node holds is subscribed again. */
  up: [];
}

const RULES = {
  prefix: rule.string,
  timeout: DURATION_RULE,
};

/** Bytes of the node id in front of every message: how a node knows its own publications. */
const ID_LENGTH = 16;

/** The bus over Redis. `await bus.connect()`, then pass it as the hub's `bus`. */
export class RedisBus extends EventEmitter<RedisBusEvents> implements Bus {
  /** This node's id (random): what it puts in front of what it publishes, to skip its own. */
  readonly id = randomBytes(ID_LENGTH / 2).toString('hex');
  private readonly prefix: string;
  private readonly timeout: number;
  private readonly all: string;
  private subscriber: RedisSubscriberLike | undefined;
  private deliver: BusDeliver = () => {};
  /** Channels this node holds (the broadcast one once connected, a key's while it has a connection). */
  private readonly channels = new Set<string>();
  private up = false;
  private resubscribing = false;
  private closed = false;
  /** Why Redis is unreachable, for the `down` event and the publishes refused meanwhile. */
  private lastError = new Error('Redis is not connected');
  private readonly listener = (message: string, channel: string): void => this.receive(message, channel);
  private readonly onError = (error: Error) => {
    this.lastError = error;
    this.check();
  };
  private readonly onChange = () => this.check();

  /** @throws WebSocketError `WS_ERR_INVALID_OPTION` for an option of the wrong type, range or name. */
  constructor(
    private readonly client: RedisClientLike,
    options: RedisBusOptions = {},
  ) {
    super();
    checkOptions('new RedisBus()', options, RULES);
    this.prefix = options.prefix ?? 'simpatico:';
    this.timeout = options.timeout ?? 1000;
    this.all = `${this.prefix}all`;
  }

  /** Whether Redis is reachable and every channel this node holds is subscribed. */
  get isUp(): boolean {
    return this.up;
  }

  /**
   * Opens the subscriber connection (a duplicate of the client) and subscribes the broadcast
   * channel. Rejects when Redis cannot be reached. The client itself is the caller's to connect.
   */
  async connect(): Promise<this> {
    const subscriber = this.client.duplicate();
    this.subscriber = subscriber;
    subscriber.on('error', this.onError);
    for (const event of ['end', 'reconnecting']) subscriber.on(event, this.onChange);
    for (const event of ['end', 'reconnecting', 'ready']) this.client.on(event, this.onChange);
    this.client.on('error', this.onError);
    await subscriber.connect();
    this.channels.add(this.all);
    await subscriber.subscribe(this.all, this.listener);
    // From now on every reconnection subscribes everything again before the bus counts as up.
    subscriber.on('ready', () => this.resubscribe());
    this.check();
    return this;
  }

  open(deliver: BusDeliver): void {
    this.deliver = deliver;
  }

  subscribe(key: string): Promise<void> {
    const channel = this.channel(key);
    this.channels.add(channel);
    return this.settle(this.subscriber!.subscribe(channel, this.listener));
  }

  unsubscribe(key: string): void {
    const channel = this.channel(key);
    this.channels.delete(channel);
    void this.settle(this.subscriber!.unsubscribe(channel, this.listener));
  }

  publish(to: string | undefined, text: string): Promise<number> {
    if (!this.client.isReady) return Promise.reject(this.lastError);
    const channel = to === undefined ? this.all : this.channel(to);
    // This node counts among the receivers of a channel it holds; the others are what the hub asks.
    const self = this.channels.has(channel) ? 1 : 0;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Redis did not answer within ${this.timeout} ms`)), this.timeout);
      this.client.publish(channel, this.id + text).then(
        (n) => (clearTimeout(timer), resolve(Math.max(0, n - self))),
        (error: Error) => (clearTimeout(timer), reject(error)),
      );
    });
  }

  /** Unsubscribes and closes the subscriber connection; the client stays the caller's. */
  async close(): Promise<void> {
    this.closed = true;
    this.client.off('error', this.onError);
    for (const event of ['end', 'reconnecting', 'ready']) this.client.off(event, this.onChange);
    const subscriber = this.subscriber;
    if (subscriber?.isOpen) await subscriber.disconnect();
  }

  private channel(key: string): string {
    return `${this.prefix}key:${key}`;
  }

  private receive(message: string, channel: string): void {
    if (message.startsWith(this.id)) return;
    const to = channel === this.all ? undefined : channel.slice(this.prefix.length + 4);
    this.deliver(to, message.slice(ID_LENGTH));
  }

  /** Resolves once `command` settles or `timeout` passes, whichever is first; never rejects. */
  private settle(command: Promise<unknown>): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, this.timeout);
      const done = () => (clearTimeout(timer), resolve());
      command.then(done, done);
    });
  }

  /**
   * The subscriber is connected again: Redis may have restarted empty, and a key subscribed while
   * it was away never reached it. Subscribing a channel again is harmless (Redis keeps one
   * subscription per connection and channel), so every one this node holds is.
   */
  private resubscribe(): void {
    this.resubscribing = true;
    const subscriber = this.subscriber!;
    void Promise.all([...this.channels].map((channel) => this.settle(subscriber.subscribe(channel, this.listener)))).then(() => {
      this.resubscribing = false;
      this.check();
    });
  }

  private check(): void {
    if (this.closed) return;
    const up = this.client.isReady && this.subscriber!.isReady && !this.resubscribing;
    if (up === this.up) return;
    this.up = up;
    if (up) this.emit('up');
    else this.emit('down', this.lastError);
  }
}
