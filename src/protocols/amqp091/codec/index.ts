/** The AMQP 0-9-1 codec: pure bytes <-> frames, methods and content properties. */
export * from "./constants.js";
export * from "./deliver.js";
export * from "./errors.js";
export * from "./frames.js";
export * from "./methods.js";
export * from "./properties.js";
export * from "./reader.js";
export * from "./writer.js";
