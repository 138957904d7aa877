/** Broker-wide counters, each published on $SYS/broker/... (sys-topics.ts). Plain fields: cheap to bump. */
export class Stats {
  readonly startedAt = Date.now();
  messagesReceived = 0;
  messagesSent = 0;
  bytesReceived = 0;
  bytesSent = 0;
  messagesDropped = 0;
}
