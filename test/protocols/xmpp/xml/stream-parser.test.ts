/** The streaming XML reader: framings, restarts, limits, restricted XML, split input, fuzzing. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import type { Element } from "../../../../src/protocols/xmpp/xml/element.js";
import { el } from "../../../../src/protocols/xmpp/xml/element.js";
import { toXml } from "../../../../src/protocols/xmpp/xml/serialize.js";
import { type XmlLimits, XmlStreamParser } from "../../../../src/protocols/xmpp/xml/stream-parser.js";

const OPEN =
  "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>";

interface Events {
  opens: Array<Record<string, string>>;
  stanzas: string[];
  closed: boolean;
  errors: string[];
}

function parse(
  chunks: Array<string | Buffer>,
  limits: Partial<XmlLimits> = {},
  framing: "stream" | "framed" = "stream",
) {
  const ev: Events = { opens: [], stanzas: [], closed: false, errors: [] };
  const p = new XmlStreamParser(
    {
      streamOpen: (attrs) => ev.opens.push(attrs),
      stanza: (e: Element) => {
        ev.stanzas.push(toXml(e, "jabber:client"));
        if (e.name === "success") p.restart();
      },
      streamClose: () => {
        ev.closed = true;
      },
      error: (c) => ev.errors.push(c),
    },
    { maxStanzaSize: 10_000, maxDepth: 16, ...limits },
    framing,
  );
  for (const c of chunks) p.write(typeof c === "string" ? Buffer.from(c) : c);
  return ev;
}

/** Every way of cutting `s` in two, plus one byte at a time. */
function splits(s: string): Buffer[][] {
  const b = Buffer.from(s);
  const out: Buffer[][] = [[...b].map((x) => Buffer.from([x]))];
  for (let i = 1; i < b.length; i++) out.push([b.subarray(0, i), b.subarray(i)]);
  return out;
}

describe("XmlStreamParser", () => {
  const doc = `${OPEN}<message to='bob@localhost' type='chat'><body>h\u00e9llo &amp; \u{1F600} &#x41;</body></message>\n <iq type='get' id='1'><ping xmlns='urn:xmpp:ping'/></iq></stream:stream>`;

  test("a stream: header, stanzas (text, entities, UTF-8), whitespace keepalives, close", () => {
    const ev = parse([doc]);
    assert.deepEqual(ev.errors, []);
    assert.equal(ev.opens[0]!.to, "localhost");
    assert.deepEqual(ev.stanzas, [
      "<message to='bob@localhost' type='chat'><body>h\u00e9llo &amp; \u{1F600} A</body></message>",
      "<iq type='get' id='1'><ping xmlns='urn:xmpp:ping'/></iq>",
    ]);
    assert.ok(ev.closed);
  });

  test("the same events whatever the input is split at (every byte boundary, one byte at a time)", () => {
    const want = parse([doc]);
    for (const chunks of splits(doc)) assert.deepEqual(parse(chunks), want);
  });

  test("RFC 6120 §4.3.3: a restart after an element starts a new stream with the next bytes", () => {
    const ev = parse([`${OPEN}<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>${OPEN}<presence/>`]);
    assert.deepEqual(ev.errors, []);
    assert.equal(ev.opens.length, 2);
    assert.deepEqual(ev.stanzas.at(-1), "<presence/>");
  });

  test("RFC 7395 framing: each message one element, <open/> and <close/> included", () => {
    const ev = parse(
      [
        "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' version='1.0'/>",
        "<message xmlns='jabber:client' to='a@localhost'><body>x</body></message>",
        "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>",
      ],
      {},
      "framed",
    );
    assert.deepEqual(ev.errors, []);
    assert.equal(ev.stanzas.length, 3);
    assert.match(ev.stanzas[0]!, /^<open xmlns='urn:ietf:params:xml:ns:xmpp-framing'/);
  });

  test("RFC 6120 §11.1: a DTD (billion laughs) is restricted-xml, nothing is expanded", () => {
    const lol = `<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'><message><body>&lol2;</body></message>`;
    const ev = parse([lol]);
    assert.deepEqual(ev.errors, ["restricted-xml"]);
    assert.deepEqual(ev.stanzas, []);
  });

  test("RFC 6120 §11.1: an external entity, a comment and a processing instruction are refused", () => {
    assert.deepEqual(parse([`<?xml version='1.0'?><!DOCTYPE x SYSTEM "file:///etc/passwd"><x/>`]).errors, [
      "restricted-xml",
    ]);
    assert.deepEqual(parse([`${OPEN}<!-- hi -->`]).errors, ["restricted-xml"]);
    assert.deepEqual(parse([`${OPEN}<?php echo 1 ?>`]).errors, ["restricted-xml"]);
  });

  test("RFC 6120 §11.6: bytes that are not UTF-8 are unsupported-encoding; UTF-8 split across chunks is fine", () => {
    assert.deepEqual(
      parse([OPEN, Buffer.from([0x3c, 0x61, 0x3e, 0xc3, 0x28, 0x3c, 0x2f, 0x61, 0x3e])]).errors,
      ["unsupported-encoding"],
    );
    const euro = Buffer.from("<a>\u20ac</a>");
    assert.deepEqual(parse([OPEN, euro.subarray(0, 4), euro.subarray(4)]).stanzas, ["<a>\u20ac</a>"]);
  });

  test("an undeclared entity is not-well-formed", () => {
    assert.deepEqual(parse([`${OPEN}<message><body>&lol;</body></message>`]).errors, ["not-well-formed"]);
  });

  test("malformed XML is not-well-formed; an unbound prefix is bad-namespace-prefix", () => {
    assert.deepEqual(parse([`${OPEN}<message><body></message>`]).errors, ["not-well-formed"]);
    assert.deepEqual(parse([`${OPEN}<foo:bar/>`]).errors, ["bad-namespace-prefix"]);
    assert.deepEqual(parse([`${OPEN}text between stanzas<presence/>`]).errors, ["not-well-formed"]);
  });

  test("a stanza over maxStanzaSize is a policy-violation, even sent in small pieces", () => {
    const big = `<message><body>${"x".repeat(20_000)}</body></message>`;
    assert.deepEqual(parse([OPEN, big], { maxStanzaSize: 10_000 }).errors, ["policy-violation"]);
    const pieces = [OPEN, ...big.match(/.{1,100}/g)!];
    assert.deepEqual(parse(pieces, { maxStanzaSize: 10_000 }).errors, ["policy-violation"]);
    // many stanzas each under the limit are fine
    const many = Array.from({ length: 50 }, () => `<message><body>${"y".repeat(500)}</body></message>`).join(
      "",
    );
    assert.deepEqual(parse([OPEN, many], { maxStanzaSize: 10_000 }).errors, []);
  });

  test("nesting deeper than maxDepth is a policy-violation", () => {
    const deep = `${"<a>".repeat(20)}${"</a>".repeat(20)}`;
    assert.deepEqual(parse([OPEN, `<message>${deep}</message>`], { maxDepth: 16 }).errors, [
      "policy-violation",
    ]);
    const ok = `${"<a>".repeat(10)}${"</a>".repeat(10)}`;
    assert.deepEqual(parse([OPEN, `<message>${ok}</message>`], { maxDepth: 16 }).errors, []);
  });

  test("fuzz: random bytes never throw and end in at most one error", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }), (chunks) => {
        const ev = parse([OPEN, ...chunks.map((c) => Buffer.from(c))]);
        assert.ok(ev.errors.length <= 1);
      }),
      { numRuns: 300 },
    );
  });

  test("property: any serialized element tree parses back to itself, however it is split", () => {
    const name = fc.constantFrom("a", "b", "body", "x-y");
    const text = fc
      .string({ maxLength: 12 })
      .filter((s) => !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\r\ud800-\udfff\ufffe\uffff]/.test(s));
    const tree: fc.Arbitrary<Element> = fc.letrec((tie) => ({
      node: fc
        .tuple(
          name,
          fc.constantFrom("jabber:client", "urn:x"),
          fc.dictionary(name, text, { maxKeys: 2 }),
          fc.array(fc.oneof(text, tie("node")), { maxLength: 3 }),
        )
        .map(([n, ns, attrs, kids]) => {
          const e = el(n, ns, attrs);
          for (const k of kids)
            if (typeof k === "string" ? k !== "" : true) e.children.push(k as Element | string);
          return e;
        }),
    })).node as fc.Arbitrary<Element>;
    fc.assert(
      fc.property(tree, fc.nat(), (e, cut) => {
        const xml = toXml(e, "jabber:client");
        const b = Buffer.from(OPEN + xml);
        const at = OPEN.length + (cut % Math.max(1, b.length - OPEN.length));
        const ev = parse([b.subarray(0, at), b.subarray(at)], { maxDepth: 100 });
        assert.deepEqual(ev.errors, []);
        // adjacent text children merge when parsed: compare the re-serialized form
        assert.equal(ev.stanzas[0], toXml(reparse(xml), "jabber:client"));
      }),
      { numRuns: 200 },
    );
  });
});

/** Parses one element (adjacent text nodes merged), for comparing serializations. */
function reparse(xml: string): Element {
  let out: Element | undefined;
  new XmlStreamParser(
    {
      streamOpen: () => {},
      stanza: (e) => {
        out = e;
      },
      streamClose: () => {},
      error: (c, t) => {
        throw new Error(`${c}: ${t}`);
      },
    },
    { maxStanzaSize: 1e6, maxDepth: 100 },
    "framed",
  ).write(Buffer.from(xml));
  return out!;
}
