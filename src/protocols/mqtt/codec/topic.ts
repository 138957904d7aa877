import { MqttCodecError, TOPIC_NAME_INVALID } from "./errors.js";

/**
 * A Topic Name (PUBLISH, will) must not contain wildcards [MQTT-3.3.2-2]. indexOf, not a regex:
 * this runs once per inbound PUBLISH.
 */
export function checkTopicName(topic: string, what: string): void {
  if (topic.indexOf("+") !== -1 || topic.indexOf("#") !== -1) {
    throw new MqttCodecError(TOPIC_NAME_INVALID, `[MQTT-3.3.2-2] ${what} contains a wildcard`);
  }
}
