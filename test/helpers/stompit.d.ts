/** stompit ships no types; the tests use a few calls of its callback API. */
declare module "stompit";
