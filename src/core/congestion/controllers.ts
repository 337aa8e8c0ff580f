// Congestion controllers by name: ConnectionConfig.congestionControl picks one. Adding an algorithm is one file
// beside this one and one line in the table.
import type { CongestionController } from './controller.js';
import { Cubic } from './cubic.js';
import { NewReno } from './newreno.js';

/** What every controller is built from. */
export interface ControllerParams {
  mssBytes: number;
  /** A profile's cwnd floor, in segments. */
  minCwndSegments: number;
  /** RFC 3465's L in segments; 0 = none. */
  slowStartAckLimitSegments: number;
}

export const CONTROLLERS = {
  cubic: (p: ControllerParams) => new Cubic(p.mssBytes, p.minCwndSegments, true, p.slowStartAckLimitSegments),
  newreno: (p: ControllerParams) => new NewReno(p.mssBytes, p.minCwndSegments, p.slowStartAckLimitSegments),
} satisfies Record<string, (p: ControllerParams) => CongestionController>;

export type CongestionControlName = keyof typeof CONTROLLERS;

export function isCongestionControlName(name: unknown): name is CongestionControlName {
  return typeof name === 'string' && Object.hasOwn(CONTROLLERS, name);
}

export function createController(name: CongestionControlName, params: ControllerParams): CongestionController {
  return CONTROLLERS[name](params);
}
