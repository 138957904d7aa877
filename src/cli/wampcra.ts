/**
 * `switchboard wampcra [--delete] FILE AUTHID [ROLE]`: manage a WAMP-CRA secrets file (docs/wamp.md).
 * The secret is asked like a password (twice on a terminal, or one line of stdin); only its salted,
 * derived key is written (core/auth/wampcra-file.ts). The file is created mode 0600.
 */
import { readFile, writeFile } from "node:fs/promises";
import { wampCraLine } from "../core/auth/wampcra-file.js";
import { UsageError } from "./args.js";
import { wampcraHelp } from "./help.js";
import { readPassword } from "./passwd.js";

export async function wampcraCommand(argv: readonly string[]): Promise<number> {
  let remove = false;
  const positional: string[] = [];
  for (const arg of argv) {
    if (arg === "--delete") remove = true;
    else if (arg === "--help" || arg === "-h") {
      process.stdout.write(wampcraHelp());
      return 0;
    } else if (arg.startsWith("-")) throw new UsageError(`unknown option ${arg}`);
    else positional.push(arg);
  }
  if (positional.length < 2 || positional.length > 3)
    throw new UsageError("wampcra needs FILE and AUTHID (switchboard wampcra FILE AUTHID [ROLE])");
  const [file, authid, role = "user"] = positional as [string, string, string?];
  for (const [what, v] of [
    ["AUTHID", authid],
    ["ROLE", role],
  ] as const) {
    if (v === "" || /[:\s]/.test(v))
      throw new UsageError(`${what} must be non-empty, without ":" or whitespace`);
  }
  let lines: string[] = [];
  try {
    lines = (await readFile(file, "utf8")).split(/\r?\n/).filter((l) => l !== "");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") return fail((err as Error).message);
    if (remove) return fail(`${file} does not exist`);
  }
  const others = lines.filter((l) => !l.startsWith(`${authid}:`));
  if (remove) {
    if (others.length === lines.length) return fail(`no authid ${authid} in ${file}`);
    await writeFile(file, others.map((l) => `${l}\n`).join(""), { mode: 0o600 });
    process.stderr.write(`switchboard: removed ${authid} from ${file}\n`);
    return 0;
  }
  const secret = await readPassword();
  if (secret instanceof Error) return fail(secret.message);
  others.push(wampCraLine(authid, role, secret));
  await writeFile(file, others.map((l) => `${l}\n`).join(""), { mode: 0o600 });
  process.stderr.write(
    `switchboard: ${others.length > lines.length ? "added" : "changed"} ${authid} (role ${role}) in ${file}\n`,
  );
  return 0;
}

function fail(msg: string): number {
  process.stderr.write(`switchboard wampcra: ${msg}\n`);
  return 1;
}
