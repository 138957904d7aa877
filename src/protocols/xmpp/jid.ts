/**
 * JIDs (RFC 7622): local@domain/resource. Local part and domain are compared case-insensitively
 * (lower-cased here, the common subset of PRECIS UsernameCaseMapped and IDNA); the resource is kept
 * as given. Each part is at most 1023 bytes (RFC 7622 §3.1).
 */
export interface Jid {
  local: string;
  domain: string;
  resource: string;
}

const LOCAL_FORBIDDEN = /["&'/:<>@\s\u0000-\u001f\u007f]/;

/** Parses a JID; undefined when it is malformed (the caller answers <jid-malformed/>). */
export function parseJid(s: string): Jid | undefined {
  const slash = s.indexOf("/");
  const bare = slash < 0 ? s : s.slice(0, slash);
  const resource = slash < 0 ? "" : s.slice(slash + 1);
  const at = bare.indexOf("@");
  const local = at < 0 ? "" : bare.slice(0, at);
  const domain = (at < 0 ? bare : bare.slice(at + 1)).toLowerCase();
  if (domain === "" || /[@\s/]/.test(domain) || Buffer.byteLength(domain) > 1023) return undefined;
  if (at >= 0 && (local === "" || LOCAL_FORBIDDEN.test(local) || Buffer.byteLength(local) > 1023))
    return undefined;
  if (slash >= 0 && (resource === "" || Buffer.byteLength(resource) > 1023)) return undefined;
  return { local: local.toLowerCase(), domain, resource };
}

export function bareOf(j: Jid): string {
  return j.local === "" ? j.domain : `${j.local}@${j.domain}`;
}

export function fullOf(j: Jid): string {
  return j.resource === "" ? bareOf(j) : `${bareOf(j)}/${j.resource}`;
}

/** True when `name` can be a JID local part. */
export function validLocal(name: string): boolean {
  return name !== "" && !LOCAL_FORBIDDEN.test(name) && Buffer.byteLength(name) <= 1023;
}
