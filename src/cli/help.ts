import { startFlags } from "./args.js";

export function mainHelp(): string {
  return `Usage: switchboard <command> [options]

One message router for the Internet of Things.

Commands:
  start [options]          run the broker (switchboard start --help for its options)
  passwd [--delete] FILE USER
                           add a user or change a password in a users file (created
                           mode 0600 if missing); the password is asked twice on a
                           terminal, or read as one line from stdin; --delete removes USER
  wampcra [--delete] FILE AUTHID [ROLE]
                           add or change a WAMP-CRA secret (salted; asked like a password)
  help [command]           show this help, or a command's
  --version                print the version
  --help                   show this help

Exit codes: 0 success, 1 failure, 2 bad usage or configuration.
Documentation: README.md (configuration reference), docs/security.md (users, ACL, anonymous access),
docs/wamp.md (WAMP router, WAMP-CRA secrets).
`;
}

export function startHelp(): string {
  const flags = startFlags();
  const left = flags.map((f) => `  ${f.flag}${f.arg ? ` ${f.arg}` : ""}`);
  const width = Math.max(...left.map((l) => l.length)) + 2;
  const lines = flags.map((f, i) => `${left[i].padEnd(width)}${f.help}`);
  return `Usage: switchboard start [options]

Starts the broker. Options override the config file; every port takes a number or "off".

${lines.join("\n")}
  --help${" ".repeat(Math.max(2, width - 8))}show this help

Ctrl-C (SIGINT) or SIGTERM shuts down gracefully; a second signal exits at once.
`;
}

export function passwdHelp(): string {
  return `Usage: switchboard passwd [--delete] FILE USER

Sets USER's password in the users FILE (created with mode 0600 when missing). On a terminal the
password is asked twice; otherwise one line is read from stdin:
  echo 's3cret' | switchboard passwd users.txt alice
--delete removes USER instead.
`;
}

export function wampcraHelp(): string {
  return `Usage: switchboard wampcra [--delete] FILE AUTHID [ROLE]

Adds AUTHID with ROLE (default "user") to the WAMP-CRA secrets file FILE (auth.wampcraFile), or
changes its secret. The secret is asked twice on a terminal, or read as one line from stdin. Only
the salted key derived from it is stored (PBKDF2-SHA256, 1000 iterations, 32 bytes, a random salt).
--delete removes AUTHID. See docs/wamp.md.
`;
}
