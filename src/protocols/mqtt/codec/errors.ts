/**
 * The one error the codec throws. `reasonCode` is the MQTT 5 reason code the connection should report
 * (DISCONNECT, or CONNACK while handling CONNECT); for v3/v4 peers the connection simply closes.
 */
export class MqttCodecError extends Error {
  readonly reasonCode: number;
  /** Protocol level of the CONNECT that failed, once read: a v5 client is answered with CONNACK (§4.13.1). */
  connectVersion: 3 | 4 | 5 | undefined;

  constructor(reasonCode: number, message: string) {
    super(message);
    this.name = "MqttCodecError";
    this.reasonCode = reasonCode;
  }
}

/** Reason codes the codec can produce (a subset of ReasonCode in packets.ts). */
export const MALFORMED = 0x81;
export const PROTOCOL_ERROR = 0x82;
export const UNSUPPORTED_VERSION = 0x84;
export const TOPIC_NAME_INVALID = 0x90;
export const PACKET_TOO_LARGE = 0x95;

export function malformed(message: string): MqttCodecError {
  return new MqttCodecError(MALFORMED, message);
}

export function protocolError(message: string): MqttCodecError {
  return new MqttCodecError(PROTOCOL_ERROR, message);
}
