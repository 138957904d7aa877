/**
 * RetainedIndex: the last value per topic name (MQTT retained messages, CoAP GET, WAMP/XMPP last
 * item), with lookup by topic filter for delivery on SUBSCRIBE [MQTT-3.3.1-6].
 *
 * Topics are stored in a trie of their levels, plus a Map by topic for O(1) get/set/delete. `match`
 * walks only the branches a filter can reach: "sensors/+/temp" visits the children of "sensors" and
 * one child of each, not every stored topic. Walks use an explicit stack, never recursion, so depth
 * is bounded by memory, not by the call stack. Empty nodes are pruned on delete.
 */

const DOLLAR = 0x24;
/** Stack depth marker for "every node of this subtree" (below a "#"). */
const SUBTREE = -1;

class Node<T> {
  children: Map<string, Node<T>> | undefined = undefined;
  /** The topic stored at this node, or undefined when the node only leads to others. */
  topic: string | undefined = undefined;
  value: T | undefined = undefined;

  constructor(
    readonly parent: Node<T> | undefined,
    readonly level: string,
  ) {}
}

export class RetainedIndex<T> {
  private readonly root = new Node<T>(undefined, "");
  private readonly byTopic = new Map<string, Node<T>>();

  /** Number of stored topics. */
  get size(): number {
    return this.byTopic.size;
  }

  /** Stores `value` as the last value of topic name `topic` (assumed valid: no wildcards). */
  set(topic: string, value: T): void {
    let node = this.byTopic.get(topic);
    if (node === undefined) {
      node = this.root;
      for (const level of topic.split("/")) {
        node.children ??= new Map();
        let next = node.children.get(level);
        if (next === undefined) {
          next = new Node<T>(node, level);
          node.children.set(level, next);
        }
        node = next;
      }
      node.topic = topic;
      this.byTopic.set(topic, node);
    }
    node.value = value;
  }

  get(topic: string): T | undefined {
    return this.byTopic.get(topic)?.value;
  }

  has(topic: string): boolean {
    return this.byTopic.has(topic);
  }

  /** Removes the value of `topic`; returns false if there was none. Prunes empty nodes. */
  delete(topic: string): boolean {
    const node = this.byTopic.get(topic);
    if (node === undefined) return false;
    this.byTopic.delete(topic);
    node.topic = undefined;
    node.value = undefined;
    let current: Node<T> = node;
    while (current.parent !== undefined && current.topic === undefined && !current.children?.size) {
      const parent: Node<T> = current.parent;
      parent.children!.delete(current.level);
      if (parent.children!.size === 0) parent.children = undefined;
      current = parent;
    }
    return true;
  }

  clear(): void {
    this.root.children = undefined;
    this.byTopic.clear();
  }

  /** (topic, value) pairs in insertion order of the topics, e.g. for persistence. */
  *entries(): IterableIterator<[string, T]> {
    for (const [topic, node] of this.byTopic) yield [topic, node.value as T];
  }

  /**
   * Calls `visit` for every stored topic matched by topic filter `filter` (assumed valid). Filters whose
   * first level is "+" or "#" do not match topics starting with "$" [MQTT-4.7.2-1]. Order is
   * unspecified. `visit` may delete entries (a deleted, not yet visited entry is not visited).
   */
  match(filter: string, visit: (topic: string, value: T) => void): void {
    const levels = filter.split("/");
    const count = levels.length;
    const nodes: Node<T>[] = [this.root];
    const depths: number[] = [0];
    while (nodes.length > 0) {
      const node = nodes.pop()!;
      const depth = depths.pop()!;
      if (depth === SUBTREE || depth === count) {
        if (node.topic !== undefined) visit(node.topic, node.value as T);
        if (depth === SUBTREE) pushChildren(node, depth, SUBTREE, nodes, depths);
        continue;
      }
      const level = levels[depth];
      if (level === "#") {
        // "#" matches the parent level too: "a/#" matches "a" [MQTT-4.7.1-2].
        if (node.topic !== undefined) visit(node.topic, node.value as T);
        pushChildren(node, depth, SUBTREE, nodes, depths);
      } else if (level === "+") {
        pushChildren(node, depth, depth + 1, nodes, depths);
      } else {
        const next = node.children?.get(level);
        if (next !== undefined) {
          nodes.push(next);
          depths.push(depth + 1);
        }
      }
    }
  }
}

/**
 * Pushes the children of `node` with depth `nextDepth` (SUBTREE under "#": everything below). At the
 * root, topics starting with "$" are skipped: a leading wildcard does not match them [MQTT-4.7.2-1].
 */
function pushChildren<T>(
  node: Node<T>,
  depth: number,
  nextDepth: number,
  nodes: Node<T>[],
  depths: number[],
) {
  if (node.children === undefined) return;
  for (const [level, next] of node.children) {
    if (depth === 0 && level.charCodeAt(0) === DOLLAR) continue;
    nodes.push(next);
    depths.push(nextDepth);
  }
}
