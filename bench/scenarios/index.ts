/** The scenario registry: id → runner and a label for the tables. */

import type { Scenario } from "../scenario.js";
import { pairsQos1, pairsQos2 } from "./acked-pairs.js";
import { connectionRate } from "./connection-rate.js";
import { idleConnections } from "./idle-connections.js";
import { latency } from "./latency.js";
import { bigPayload, fanIn, fanOut, pairsQos0 } from "./qos0.js";

export interface ScenarioDef {
  run: Scenario;
  label: string;
  /** The reflector can stand in for a broker (used to show the generator's ceiling). */
  reflectable: boolean;
}

export const SCENARIOS: Record<string, ScenarioDef> = {
  "fan-in": { run: fanIn, label: "fan-in: 16 pub → 1 sub on `+`, QoS 0", reflectable: true },
  "fan-out": { run: fanOut, label: "fan-out: 1 pub → 64 subs, QoS 0", reflectable: true },
  "pairs-qos0": { run: pairsQos0, label: "32 pairs, QoS 0", reflectable: true },
  "pairs-qos1": { run: pairsQos1, label: "32 pairs, QoS 1, 100 in flight", reflectable: true },
  "pairs-qos2": { run: pairsQos2, label: "32 pairs, QoS 2, 100 in flight", reflectable: true },
  latency: { run: latency, label: "latency at 5,000 msg/s (p50)", reflectable: true },
  "big-payload": { run: bigPayload, label: "64 KiB payload stream", reflectable: true },
  "idle-connections": {
    run: idleConnections,
    label: "10,000 idle connections: RSS/conn",
    reflectable: false,
  },
  "connection-rate": { run: connectionRate, label: "connection rate (32 concurrent)", reflectable: true },
};
