import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { DEFAULT_CONFIG } from "../../src/config/defaults.js";
import { buildConfig, ConfigError, loadConfig, validateConfig } from "../../src/config/load.js";

function configError(fn: () => unknown, message: string | RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${err}`);
    if (typeof message === "string") assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "switchboard-config-"));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test("an empty config gives the defaults (loopback, sqlite, MQTT 1883, HTTP 8080)", () => {
  const c = validateConfig({});
  assert.equal(c.host, "127.0.0.1");
  assert.equal(c.store, "sqlite");
  assert.equal(c.logLevel, "info");
  assert.equal(c.allowAnonymous, undefined);
  assert.equal(c.mqtt.port, 1883);
  assert.equal(c.mqtt.tlsPort, 8883);
  assert.equal(c.mqtt.maxPacketSize, 1_048_576);
  assert.equal(c.http.port, 8080);
  assert.equal(c.sys.intervalMs, 5000);
  assert.deepEqual(c.auth, {});
});

test("DEFAULT_CONFIG is frozen and building a config does not change it", () => {
  const c = validateConfig({ mqtt: { port: 1 } });
  c.http.port = 9;
  assert.equal(DEFAULT_CONFIG.mqtt.port, 1883);
  assert.equal(DEFAULT_CONFIG.http.port, 8080);
  assert.ok(Object.isFrozen(DEFAULT_CONFIG.mqtt));
});

test("validation errors name the key path and why", () => {
  configError(
    () => validateConfig({ mqtt: { port: 70000 } }),
    'mqtt.port: must be an integer 0-65535 or "off"',
  );
  configError(() => validateConfig({ mqtt: { port: "1883" } }), /^mqtt\.port: must be an integer/);
  configError(() => validateConfig({ mqtt: { port: 1.5 } }), /^mqtt\.port: /);
  configError(() => validateConfig({ mqtt: { maxQoS: 3 } }), "mqtt.maxQoS: must be an integer 0-2");
  configError(
    () => validateConfig({ mqtt: { retainAvailable: "yes" } }),
    "mqtt.retainAvailable: must be true or false",
  );
  configError(() => validateConfig({ store: "postgres" }), 'store: must be one of "sqlite", "memory"');
  configError(
    () => validateConfig({ logLevel: "trace" }),
    /^logLevel: must be one of "error", "warn", "info", "debug"$/,
  );
  configError(() => validateConfig({ host: "" }), "host: must be a non-empty string");
  configError(() => validateConfig({ mqtt: 5 }), "mqtt: must be a mapping (object)");
  configError(() => validateConfig([]), "must be a mapping (object)");
  configError(() => validateConfig({ auth: { usersFile: 3 } }), "auth.usersFile: must be a non-empty path");
  configError(
    () => validateConfig({ sys: { intervalMs: -1 } }),
    "sys.intervalMs: must be an integer 100-3600000",
  );
});

test("unknown keys are refused, with a suggestion when one is close", () => {
  configError(() => validateConfig({ mqtt: { prot: 1 } }), 'mqtt.prot: unknown key (did you mean "port"?)');
  configError(() => validateConfig({ kafka: { port: 9092 } }), "kafka: unknown key");
  configError(() => validateConfig({ tls: { certificate: "x" } }), /^tls\.certificate: unknown key/);
  configError(() => validateConfig({ constructor: 1 }), /^constructor: unknown key/);
});

test('ports take "off" and 0 (any free port)', () => {
  const c = validateConfig({ mqtt: { port: "off" }, http: { port: 0 } });
  assert.equal(c.mqtt.port, "off");
  assert.equal(c.http.port, 0);
});

test("tls needs both cert and key; an explicit TLS port needs them too", () => {
  configError(() => validateConfig({ tls: { cert: "c.pem" } }), "tls.key: required when tls.cert is set");
  configError(() => validateConfig({ tls: { key: "k.pem" } }), "tls.cert: required when tls.key is set");
  configError(
    () => validateConfig({ mqtt: { tlsPort: 8883 } }),
    "mqtt.tlsPort: needs tls.cert and tls.key to be configured",
  );
  configError(
    () => buildConfig({}, [{ path: "mqtt.tlsPort", value: "8884", source: "--mqtts-port" }]),
    "--mqtts-port: needs tls.cert and tls.key to be configured",
  );
  assert.equal(validateConfig({ mqtt: { tlsPort: "off" } }).mqtt.tlsPort, "off");
});

test("relative paths in a file resolve against the file's directory; null clears an optional key", () => {
  const c = validateConfig({ dataDir: "state", auth: { usersFile: "users", aclFile: null } }, "/etc/sb");
  assert.equal(c.dataDir, "/etc/sb/state");
  assert.equal(c.auth.usersFile, "/etc/sb/users");
  assert.equal(c.auth.aclFile, undefined);
});

test("flags override the file and name the flag in errors", () => {
  const c = buildConfig({ host: "10.0.0.1", mqtt: { port: 1884 }, allowAnonymous: false }, [
    { path: "mqtt.port", value: "off", source: "--mqtt-port" },
    { path: "host", value: "0.0.0.0", source: "--host" },
    { path: "allowAnonymous", value: true, source: "--allow-anonymous" },
    { path: "store", value: "memory", source: "--store" },
  ]);
  assert.equal(c.mqtt.port, "off");
  assert.equal(c.host, "0.0.0.0");
  assert.equal(c.allowAnonymous, true);
  assert.equal(c.store, "memory");
  configError(
    () => buildConfig({}, [{ path: "mqtt.port", value: "12x", source: "--mqtt-port" }]),
    '--mqtt-port: must be an integer 0-65535 or "off"',
  );
  configError(
    () => buildConfig({}, [{ path: "logLevel", value: "loud", source: "--log-level" }]),
    /^--log-level: must be one of/,
  );
  configError(
    () => buildConfig({}, [{ path: "allowAnonymous", value: "maybe", source: "--allow-anonymous" }]),
    "--allow-anonymous: must be true or false",
  );
});

test("loadConfig reads YAML and JSON by extension; flags win", async () => {
  await withTempDir(async (dir) => {
    const yamlFile = join(dir, "sb.yaml");
    await writeFile(
      yamlFile,
      "host: 127.0.0.2\nmqtt:\n  port: 1999\n  maxInflight: 10\nhttp:\n  port: off\n",
    );
    const y = await loadConfig({
      configFile: yamlFile,
      overrides: [{ path: "mqtt.port", value: "2000", source: "--mqtt-port" }],
    });
    assert.equal(y.host, "127.0.0.2");
    assert.equal(y.mqtt.port, 2000);
    assert.equal(y.mqtt.maxInflight, 10);
    assert.equal(y.http.port, "off");

    const jsonFile = join(dir, "sb.json");
    await writeFile(jsonFile, JSON.stringify({ store: "memory", sys: { intervalMs: 1000 } }));
    const j = await loadConfig({ configFile: jsonFile, overrides: [] });
    assert.equal(j.store, "memory");
    assert.equal(j.sys.intervalMs, 1000);

    const yml = join(dir, "empty.yml");
    await writeFile(yml, "# nothing\n");
    assert.equal((await loadConfig({ configFile: yml, overrides: [] })).mqtt.port, 1883);
  });
});

test("loadConfig refuses unreadable, malformed, misnamed files and missing referenced files", async () => {
  await withTempDir(async (dir) => {
    await assert.rejects(loadConfig({ configFile: join(dir, "nope.yaml"), overrides: [] }), /ENOENT/);
    const bad = join(dir, "bad.yaml");
    await writeFile(bad, "mqtt: [unclosed\n");
    await assert.rejects(loadConfig({ configFile: bad, overrides: [] }), /invalid YAML/);
    const dup = join(dir, "dup.yaml");
    await writeFile(dup, "host: a\nhost: b\n");
    await assert.rejects(loadConfig({ configFile: dup, overrides: [] }), /invalid YAML/);
    const badJson = join(dir, "bad.json");
    await writeFile(badJson, "{");
    await assert.rejects(loadConfig({ configFile: badJson, overrides: [] }), /invalid JSON/);
    const toml = join(dir, "sb.toml");
    await writeFile(toml, "");
    await assert.rejects(
      loadConfig({ configFile: toml, overrides: [] }),
      /must end in \.yaml, \.yml or \.json/,
    );
    const wrong = join(dir, "wrong.yaml");
    await writeFile(wrong, "mqtt:\n  port: 99999\n");
    await assert.rejects(loadConfig({ configFile: wrong, overrides: [] }), {
      name: "ConfigError",
      message: 'mqtt.port: must be an integer 0-65535 or "off"',
    });
    const missing = join(dir, "missing.yaml");
    await writeFile(missing, "auth:\n  usersFile: users.txt\n");
    await assert.rejects(
      loadConfig({ configFile: missing, overrides: [] }),
      /^ConfigError: auth\.usersFile: cannot read .*users\.txt: ENOENT/,
    );
  });
});
