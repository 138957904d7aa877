export * from "./block.js";
export * from "./constants.js";
export * from "./decode.js";
export * from "./encode.js";
export * from "./message.js";
