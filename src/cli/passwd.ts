/** `switchboard passwd [--delete] FILE USER`: manage a users file (docs/security.md). */

import { scramEntries } from "../core/auth/scram.js";
import {
  hashPassword,
  invalidUserName,
  readUsersFile,
  UsersFile,
  writeUsersFile,
} from "../core/auth/users-file.js";
import { UsageError } from "./args.js";
import { passwdHelp } from "./help.js";

const MAX_PASSWORD_BYTES = 64 * 1024;

export async function passwdCommand(argv: readonly string[]): Promise<number> {
  let remove = false;
  const positional: string[] = [];
  for (const arg of argv) {
    if (arg === "--delete") remove = true;
    else if (arg === "--help" || arg === "-h") {
      process.stdout.write(passwdHelp());
      return 0;
    } else if (arg.startsWith("-") && arg !== "-") throw new UsageError(`unknown option ${arg}`);
    else positional.push(arg);
  }
  if (positional.length !== 2)
    throw new UsageError("passwd needs FILE and USER (switchboard passwd FILE USER)");
  const [file, user] = positional;
  const bad = invalidUserName(user);
  if (bad) throw new UsageError(bad);

  let users: UsersFile;
  try {
    users = await readUsersFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") return fail((err as Error).message);
    if (remove) return fail(`${file} does not exist`);
    users = UsersFile.empty();
  }

  if (remove) {
    if (!users.delete(user)) return fail(`no user ${user} in ${file}`);
    await writeUsersFile(file, users);
    process.stderr.write(`switchboard: removed user ${user} from ${file}\n`);
    return 0;
  }

  const password = await readPassword();
  if (password instanceof Error) return fail(password.message);
  const existed = users.has(user);
  users.set(user, await hashPassword(password), scramEntries(Buffer.from(password, "utf8")));
  await writeUsersFile(file, users);
  process.stderr.write(`switchboard: ${existed ? "changed password of" : "added"} user ${user} in ${file}\n`);
  return 0;
}

function fail(msg: string): number {
  process.stderr.write(`switchboard passwd: ${msg}\n`);
  return 1;
}

/** The secret from the terminal (asked twice) or the first line of stdin. */
export async function readPassword(): Promise<string | Error> {
  let password: string;
  if (process.stdin.isTTY) {
    password = await promptHidden("Password: ");
    const again = await promptHidden("Password again: ");
    if (again !== password) return new Error("the passwords do not match");
  } else {
    const line = await readLine(process.stdin);
    if (line === undefined) return new Error("no password on stdin");
    password = line;
  }
  if (password === "") return new Error("the password is empty");
  if (Buffer.byteLength(password) > MAX_PASSWORD_BYTES) return new Error("the password is too long");
  return password;
}

/** Reads the first line (without its line ending); undefined when stdin is empty. */
async function readLine(stream: NodeJS.ReadableStream): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  let sawData = false;
  for await (const chunk of stream) {
    const buf = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer);
    sawData ||= buf.length > 0;
    const nl = buf.indexOf(10);
    if (nl >= 0) {
      chunks.push(buf.subarray(0, nl));
      break;
    }
    chunks.push(buf);
    size += buf.length;
    if (size > MAX_PASSWORD_BYTES) break;
  }
  if (!sawData) return undefined;
  return Buffer.concat(chunks).toString("utf8").replace(/\r$/, "");
}

/** Prompts on stderr and reads a line from the terminal without echoing it. */
function promptHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.setEncoding("utf8");
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = "";
    const finish = (err?: Error) => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write("\n");
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === "\r" || ch === "\n") return finish();
        if (ch === "\u0003") return finish(new Error("interrupted"));
        if (ch === "\u0004" && value === "") return finish(new Error("no password given"));
        if (ch === "\u007f" || ch === "\b") value = Array.from(value).slice(0, -1).join("");
        else if (ch >= " ") value += ch;
      }
    };
    stdin.on("data", onData);
  });
}
