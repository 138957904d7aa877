/** Broker-wide counters, published on $SYS and by the admin API. Plain fields: cheap to bump. */
export class Stats {
  readonly startedAt = Date.now();
  messagesReceived = 0;
  messagesSent = 0;
  bytesReceived = 0;
  bytesSent = 0;
  messagesDropped = 0;
  connectionsTotal = 0;
  publishesRouted = 0;
}
