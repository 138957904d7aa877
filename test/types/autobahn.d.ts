/** autobahn ships no types; the tests use it through this loose declaration. */
declare module "autobahn" {
  // biome-ignore lint/suspicious/noExplicitAny: an untyped CommonJS library
  const autobahn: any;
  export default autobahn;
}
