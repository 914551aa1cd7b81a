/**
 * The WHATWG side of a {@link WebSocket}: `addEventListener`, `removeEventListener` and the `onopen`
 * / `onmessage` / `onclose` / `onerror` properties, with event objects shaped like the browser's
 * (`MessageEvent.data`, `CloseEvent.code`, …), as ws offers them. They sit on top of the Node
 * events: each browser-style listener is a Node listener that builds its event object.
 */
import type { EventEmitter } from 'node:events';

/** The events a browser-style listener can hear. */
export type WebSocketEventType = 'open' | 'message' | 'close' | 'error';

/** A WHATWG-style event: its `type` and the socket it happened on. */
export class WsEvent {
  readonly type: string;
  readonly target: unknown;
  constructor(type: string, target: unknown) {
    this.type = type;
    this.target = target;
  }
}

export class MessageEvent extends WsEvent {
  /** A string for text; binary as `binaryType` says (Buffer, ArrayBuffer, or Buffer[]). */
  readonly data: unknown;
  constructor(target: unknown, data: unknown) {
    super('message', target);
    this.data = data;
  }
}

export class CloseEvent extends WsEvent {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
  constructor(target: unknown, code: number, reason: string, wasClean: boolean) {
    super('close', target);
    this.code = code;
    this.reason = reason;
    this.wasClean = wasClean;
  }
}

export class ErrorEvent extends WsEvent {
  readonly error: unknown;
  readonly message: string;
  constructor(target: unknown, error: unknown) {
    super('error', target);
    this.error = error;
    // What the facade emits with 'error' is always an Error (a WebSocketError or the socket's own).
    this.message = (error as Error).message;
  }
}

/** A function, or an object with `handleEvent` (the DOM's EventListener). */
export type EventListenerLike = ((event: never) => void) | { handleEvent(event: never): void };

/** Marks the Node listener made for a browser-style one: which listener, and whether it was an `onX` property. */
const kListener = Symbol('simpatico-ws:listener');
const kAttribute = Symbol('simpatico-ws:attribute');
type Wrapper = ((...args: unknown[]) => void) & { [kListener]: EventListenerLike; [kAttribute]: boolean };

/** The event object for `type` from the Node event's arguments. */
function toEvent(target: unknown, type: WebSocketEventType, args: unknown[]): WsEvent {
  switch (type) {
    case 'message':
      return new MessageEvent(target, args[0]);
    case 'close':
      return new CloseEvent(target, args[0] as number, args[1] as string, args[2] as boolean);
    case 'error':
      return new ErrorEvent(target, args[0]);
    default:
      return new WsEvent(type, target);
  }
}

function isEventType(type: string): type is WebSocketEventType {
  return type === 'open' || type === 'message' || type === 'close' || type === 'error';
}

/**
 * `addEventListener(type, listener, { once })`. A listener added twice is called once (as in the
 * DOM); unknown event types are ignored, as a browser's WebSocket ignores them.
 */
export function addEventListener(
  emitter: EventEmitter,
  type: string,
  listener: EventListenerLike | null | undefined,
  options: { once?: boolean } = {},
  attribute = false,
): void {
  if (!isEventType(type) || listener === null || listener === undefined) return;
  for (const existing of emitter.listeners(type) as Wrapper[]) {
    if (existing[kListener] === listener && existing[kAttribute] === attribute) return;
  }
  const wrapper = function (this: unknown, ...args: unknown[]): void {
    const event = toEvent(emitter, type, args);
    if (typeof listener === 'function') (listener as (e: WsEvent) => void).call(emitter, event);
    else (listener.handleEvent as (e: WsEvent) => void).call(listener, event);
  } as Wrapper;
  wrapper[kListener] = listener;
  wrapper[kAttribute] = attribute;
  if (options.once === true) emitter.once(type, wrapper);
  else emitter.on(type, wrapper);
}

/** `removeEventListener(type, listener)`: removes what `addEventListener` added. */
export function removeEventListener(emitter: EventEmitter, type: string, listener: EventListenerLike | null | undefined, attribute = false): void {
  if (!isEventType(type)) return;
  for (const existing of emitter.rawListeners(type) as Wrapper[]) {
    // (A `once` listener's raw listener wraps ours; Node keeps it as `.listener`.)
    const wrapper = ((existing as unknown as { listener?: Wrapper }).listener ?? existing) as Wrapper;
    if (wrapper[kListener] === listener && wrapper[kAttribute] === attribute) {
      emitter.removeListener(type, existing);
      return;
    }
  }
}

/** The `onX` property's value: the listener it set, or null. */
export function getAttribute(emitter: EventEmitter, type: WebSocketEventType): EventListenerLike | null {
  for (const existing of emitter.listeners(type) as Wrapper[]) {
    if (existing[kAttribute] === true) return existing[kListener];
  }
  return null;
}

/** Sets the `onX` property: replaces the listener it set before, if any. */
export function setAttribute(emitter: EventEmitter, type: WebSocketEventType, listener: unknown): void {
  const previous = getAttribute(emitter, type);
  if (previous !== null) removeEventListener(emitter, type, previous, true);
  if (typeof listener === 'function') addEventListener(emitter, type, listener as EventListenerLike, {}, true);
}
