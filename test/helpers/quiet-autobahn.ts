/**
 * Loaded before every test file (`node --test --import`, package.json "test"): autobahn writes
 * "connection closed" to stderr through console.warn each time one of its connections ends, which
 * every WAMP test does on purpose, about a hundred times a run. This drops exactly that warning and
 * nothing else. It has to run before autobahn is loaded, which binds console.warn once.
 */
const warn = console.warn.bind(console);
console.warn = (...args: unknown[]): void => {
  if (args[0] === "connection closed" && (args[1] === "closed" || args[1] === "lost")) return;
  warn(...args);
};
