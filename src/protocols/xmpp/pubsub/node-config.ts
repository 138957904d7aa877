/**
 * Node configuration (XEP-0060 §8.2) as a data form (XEP-0004). Nodes of the shared topic space
 * keep exactly one item, the last (the retained message), and always deliver payloads.
 */
import { NS } from "../namespaces.js";
import { type Element, el } from "../xml/element.js";

export interface NodeConfig {
  title: string;
}

const FORM_TYPE = "http://jabber.org/protocol/pubsub#node_config";
/** Fields whose value is fixed by the topic space; a form may repeat these values, not change them. */
const FIXED: Record<string, string> = {
  "pubsub#max_items": "1",
  "pubsub#persist_items": "1",
  "pubsub#deliver_payloads": "1",
  "pubsub#node_type": "leaf",
  "pubsub#access_model": "open",
};
const BOOL_TRUE = new Set(["1", "true"]);

/** The config a submitted form asks for; undefined when it asks for what nodes cannot do. */
export function nodeConfigFrom(form: Element | undefined): NodeConfig | undefined {
  const config: NodeConfig = { title: "" };
  if (!form) return config;
  for (const field of form.elements(NS.dataForms)) {
    if (field.name !== "field") continue;
    const name = field.attr("var") ?? "";
    const value = field.child("value", NS.dataForms)?.text() ?? "";
    if (name === "FORM_TYPE") {
      if (value !== FORM_TYPE) return undefined;
    } else if (name === "pubsub#title") {
      config.title = value;
    } else if (name in FIXED) {
      const fixed = FIXED[name]!;
      const same = fixed === "1" ? BOOL_TRUE.has(value) : value === fixed;
      if (!same) return undefined;
    }
    // other fields (notification types, presence-based delivery...) are accepted and ignored
  }
  return config;
}

export function configureForm(config: NodeConfig): Element {
  const field = (v: string, value: string, type?: string) =>
    el("field", NS.dataForms, { var: v, type }, el("value", NS.dataForms, {}, value));
  const x = el("x", NS.dataForms, { type: "form" }, field("FORM_TYPE", FORM_TYPE, "hidden"));
  x.add(field("pubsub#title", config.title, "text-single"));
  x.add(field("pubsub#max_items", FIXED["pubsub#max_items"]!, "text-single"));
  x.add(field("pubsub#persist_items", "1", "boolean"));
  x.add(field("pubsub#deliver_payloads", "1", "boolean"));
  x.add(field("pubsub#access_model", "open", "list-single"));
  return x;
}
