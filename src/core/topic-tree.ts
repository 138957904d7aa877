/**
 * TopicTree: the subscription matcher run on every publish (DESIGN.md "TopicTree").
 *
 * A trie over filter levels. Each node has a Map of literal children plus dedicated slots for its "+"
 * and "#" children, and the values of the filter that ends at it. `match` splits the topic once and walks
 * the trie with an explicit stack (no recursion, no regex, nothing allocated per matching value), so
 * topic depth is bounded by the configured level limit only, never by the JavaScript call stack.
 *
 * Values of one filter are kept in an array, the fastest thing to iterate; an index Map is added when
 * a filter has many values so add/remove stay O(1) for large fan-outs. Mutations made while a match
 * is running (from inside `visit`) copy the affected array first, so the running match is unaffected:
 * it visits exactly the values present when it reached that filter.
 */

import { validateTopicFilter } from "./topic.js";

const DOLLAR = 0x24;

/** Above this many values per filter, keep a value -> position index for O(1) add/remove. */
const INDEX_THRESHOLD = 16;

class Node<T> {
  children: Map<string, Node<T>> | undefined = undefined;
  plus: Node<T> | undefined = undefined;
  hash: Node<T> | undefined = undefined;
  /** Values of the filter ending here; undefined when none. */
  values: T[] | undefined = undefined;
  index: Map<T, number> | undefined = undefined;
  /** The full filter ending at this node; set while it has values. */
  filter = "";

  isEmpty(): boolean {
    return (
      this.values === undefined &&
      this.plus === undefined &&
      this.hash === undefined &&
      (this.children === undefined || this.children.size === 0)
    );
  }

  indexOf(value: T): number {
    const values = this.values;
    if (values === undefined) return -1;
    if (this.index !== undefined) return this.index.get(value) ?? -1;
    return values.indexOf(value);
  }
}

export class TopicTree<T> {
  private readonly root = new Node<T>();
  private pairs = 0;
  private filters = 0;
  /** Number of `match` calls in progress (re-entrant calls from `visit` included). */
  private matching = 0;
  /** Shared DFS stack for `match`; re-entrant calls push above the caller's entries. */
  private readonly stackNodes: Node<T>[] = [];
  private readonly stackDepths: number[] = [];
  private sp = 0;

  /** Number of (filter, value) pairs. */
  get size(): number {
    return this.pairs;
  }

  /** Number of distinct filters with at least one value. */
  get filterCount(): number {
    return this.filters;
  }

  /**
   * Adds the pair (filter, value); returns false if it was already present. The filter must be valid
   * (see validateTopicFilter; a RangeError is thrown otherwise). Shared-subscription filters are not
   * interpreted here: store the inner filter.
   */
  add(filter: string, value: T): boolean {
    const error = validateTopicFilter(filter, Number.POSITIVE_INFINITY);
    if (error !== undefined) throw new RangeError(error);
    let node = this.root;
    for (const level of filter.split("/")) {
      let next: Node<T> | undefined;
      if (level === "+") {
        next = node.plus ??= new Node<T>();
      } else if (level === "#") {
        next = node.hash ??= new Node<T>();
      } else {
        node.children ??= new Map();
        next = node.children.get(level);
        if (next === undefined) {
          next = new Node<T>();
          node.children.set(level, next);
        }
      }
      node = next;
    }
    if (node.indexOf(value) !== -1) return false;
    this.insertValue(node, filter, value);
    return true;
  }

  /** Removes the pair (filter, value); returns false if it was not present. Prunes empty nodes. */
  remove(filter: string, value: T): boolean {
    const levels = filter.split("/");
    const path: Node<T>[] = [this.root];
    let node: Node<T> | undefined = this.root;
    for (let i = 0; i < levels.length && node !== undefined; i++) {
      node = child(node, levels[i]);
      if (node !== undefined) path.push(node);
    }
    if (node === undefined) return false;
    const position = node.indexOf(value);
    if (position === -1) return false;
    this.deleteValue(node, position, value);
    // Prune bottom-up: each empty node is unlinked from its parent.
    for (let i = levels.length; i > 0 && path[i].isEmpty(); i--) {
      unlink(path[i - 1], levels[i - 1]);
    }
    return true;
  }

  /** True when the pair (filter, value) is present. */
  has(filter: string, value: T): boolean {
    const node = this.find(filter);
    return node !== undefined && node.indexOf(value) !== -1;
  }

  /** Removes every pair. */
  clear(): void {
    const root = this.root;
    root.children = undefined;
    root.plus = undefined;
    root.hash = undefined;
    this.pairs = 0;
    this.filters = 0;
  }

  /**
   * Calls `visit` once per (value, filter) pair whose filter matches topic name `topic` (assumed
   * valid). A topic starting with "$" is not matched by a filter whose first level is "+" or "#"
   * [MQTT-4.7.2-1]. Order is unspecified. `visit` may add/remove pairs or call match again.
   */
  match(topic: string, visit: (value: T, filter: string) => void): void {
    const levels = topic.split("/");
    const count = levels.length;
    const dollar = topic.charCodeAt(0) === DOLLAR;
    const nodes = this.stackNodes;
    const depths = this.stackDepths;
    const base = this.sp;
    let sp = base;
    nodes[sp] = this.root;
    depths[sp++] = 0;
    this.matching++;
    try {
      while (sp > base) {
        const node = nodes[--sp];
        const depth = depths[sp];
        const wild = depth > 0 || !dollar;
        // "#" matches the remaining levels, including none: "a/#" matches "a" [MQTT-4.7.1-2].
        if (node.hash !== undefined && wild) {
          this.sp = sp; // a re-entrant match from visit must start above our live entries
          emit(node.hash, visit);
        }
        if (depth === count) {
          if (node.values !== undefined) {
            this.sp = sp;
            emit(node, visit);
          }
          continue;
        }
        if (node.plus !== undefined && wild) {
          nodes[sp] = node.plus;
          depths[sp++] = depth + 1;
        }
        const next = node.children?.get(levels[depth]);
        if (next !== undefined) {
          nodes[sp] = next;
          depths[sp++] = depth + 1;
        }
      }
    } finally {
      this.sp = base;
      this.matching--;
    }
  }

  private find(filter: string): Node<T> | undefined {
    let node: Node<T> | undefined = this.root;
    for (const level of filter.split("/")) {
      node = child(node, level);
      if (node === undefined) return undefined;
    }
    return node;
  }

  private insertValue(node: Node<T>, filter: string, value: T): void {
    let values = node.values;
    if (values === undefined) {
      node.values = [value];
      node.filter = filter;
      this.filters++;
    } else {
      if (this.matching > 0) node.values = values = values.slice();
      values.push(value);
      if (node.index !== undefined) {
        node.index.set(value, values.length - 1);
      } else if (values.length > INDEX_THRESHOLD) {
        node.index = new Map(values.map((v, i) => [v, i]));
      }
    }
    this.pairs++;
  }

  /** Swap-removes the value at `position`. */
  private deleteValue(node: Node<T>, position: number, value: T): void {
    let values = node.values!;
    this.pairs--;
    if (values.length === 1) {
      node.values = undefined;
      node.index = undefined;
      node.filter = "";
      this.filters--;
      return;
    }
    if (this.matching > 0) node.values = values = values.slice();
    const moved = values.pop()!;
    if (position < values.length) values[position] = moved;
    if (node.index !== undefined) {
      node.index.delete(value);
      if (position < values.length) node.index.set(moved, position);
      if (values.length <= INDEX_THRESHOLD / 2) node.index = undefined;
    }
  }
}

function child<T>(node: Node<T>, level: string): Node<T> | undefined {
  if (level === "+") return node.plus;
  if (level === "#") return node.hash;
  return node.children?.get(level);
}

function unlink<T>(parent: Node<T>, level: string): void {
  if (level === "+") parent.plus = undefined;
  else if (level === "#") parent.hash = undefined;
  else {
    parent.children!.delete(level);
    if (parent.children!.size === 0) parent.children = undefined;
  }
}

function emit<T>(node: Node<T>, visit: (value: T, filter: string) => void): void {
  const values = node.values;
  if (values === undefined) return;
  const filter = node.filter;
  for (let i = 0; i < values.length; i++) visit(values[i], filter);
}
