/** MQTT 3.1 / 3.1.1 / 5.0 codec: pure bytes <-> packets, no I/O. */

export { decodePacket, PacketType } from "./decode.js";
export { MqttDecoder, type MqttDecoderOptions } from "./decoder.js";
export { encode } from "./encode.js";
export { encodePublish } from "./encode-publish.js";
export { MqttCodecError } from "./errors.js";
export * from "./packets.js";
export { isValidUtf8 } from "./utf8.js";
