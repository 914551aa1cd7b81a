// Types of whatwg-cases.js, for the TypeScript tests that import it.
export interface CloseObservation {
  code: number;
  reason: string;
  wasClean: boolean;
}
export type Cases = Record<string, (url: string, ...args: never[]) => Promise<unknown>>;
/** The byte pattern every peer sends: byte i = (i * 31 + 7) mod 256. */
export function pattern(n: number): Uint8Array;
/** The cases, for a WebSocket class with the WHATWG API. */
export function makeCases(WebSocket: unknown): Cases;
