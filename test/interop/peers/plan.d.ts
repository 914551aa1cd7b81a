// Types of plan.js.
import type { Cases } from './whatwg-cases.js';
export function runPlan(cases: Cases, url: string, plan: object): Promise<Record<string, unknown>>;
