/** What a scenario gets and what it reports. */

export interface ScenarioContext {
  /** Broker's MQTT port on 127.0.0.1. */
  port: number;
  /** Broker pid for /proc CPU and RSS readings; 0 when unknown. */
  brokerPid: number;
  warmupMs: number;
  measureMs: number;
  /** Smaller sizes (idle connections) for a fast smoke run. */
  quick: boolean;
}

export interface ScenarioResult {
  /** The headline number, in `unit`. */
  value: number;
  unit: string;
  higherIsBetter: boolean;
  /** Messages (or connections) counted in the window, for broker CPU per message. */
  messages: number;
  seconds: number;
  /** Broker CPU (user + system, all threads) over the window, µs. */
  brokerCpuUs: number;
  /** Generator CPU over the window, % of one core. */
  genCpuPct: number;
  /** Messages the broker should have delivered but did not (QoS 0: dropped; QoS 1/2: lost). */
  lost: number;
  /** Duplicate deliveries (QoS 1 allows them, QoS 2 must have none). */
  dup: number;
  extra: Record<string, number>;
}

export type Scenario = (ctx: ScenarioContext) => Promise<ScenarioResult>;
