/**
 * The what-if of an Application Load Balancer in front of the functions instead of HTTP API: its
 * load balancer capacity units (LCUs) at a steady request rate, and what they cost per million calls.
 * Pure (unit-tested in test/unit/bench-cost.test.ts); the traffic's shape is a stated assumption,
 * the bytes per request are measured.
 */
import { PRICES } from './pricing.ts';

export interface AlbTraffic {
  /** Steady request rate. */
  requestsPerSecond: number;
  /** Requests a client connection carries before it closes (keep-alive reuse). */
  requestsPerConnection: number;
  /** How long a connection stays open, idle time included: with the rate of new ones, how many are open at once. */
  connectionSeconds: number;
  /** HTTP bytes per request, request and response, headers and bodies. */
  bytesPerRequest: number;
  /** Listener rules a request is evaluated against before it matches. */
  rulesEvaluatedPerRequest: number;
}

/** LCUs each dimension needs, and the hour's bill: the highest of them. */
export interface AlbLcus {
  newConnections: number;
  activeConnections: number;
  processedBytes: number;
  ruleEvaluations: number;
  billed: number;
}

export function albLcus(traffic: AlbTraffic): AlbLcus {
  const lcu = PRICES.applicationLoadBalancer.lcu;
  const newPerSecond = traffic.requestsPerSecond / traffic.requestsPerConnection;
  // Little's law: connections open at once = arrival rate x how long each stays open.
  const active = newPerSecond * traffic.connectionSeconds;
  const gbPerHour = (traffic.requestsPerSecond * traffic.bytesPerRequest * 3600) / 1e9;
  const paidRules = Math.max(0, traffic.rulesEvaluatedPerRequest - lcu.freeRulesPerRequest);
  const dimensions = {
    newConnections: newPerSecond / lcu.newConnectionsPerSecond,
    activeConnections: active / lcu.activeConnectionsPerMinute,
    processedBytes: gbPerHour / lcu.lambdaTargetGbPerHour,
    ruleEvaluations: (traffic.requestsPerSecond * paidRules) / lcu.ruleEvaluationsPerSecond,
  };
  return { ...dimensions, billed: Math.max(...Object.values(dimensions)) };
}

/** The load balancer's own charge (hours and LCU-hours) per million requests at the traffic's rate. */
export function albDollarsPerMillion(traffic: AlbTraffic): { lcus: AlbLcus; perHour: number; perMillion: number } {
  const lcus = albLcus(traffic);
  const perHour = PRICES.applicationLoadBalancer.perHour + lcus.billed * PRICES.applicationLoadBalancer.perLcuHour;
  return { lcus, perHour, perMillion: (perHour / (traffic.requestsPerSecond * 3600)) * 1e6 };
}
