/**
 * Session deliveries in SQLite, as segments (delivery-codec.ts, delivery-segments.ts): the part of
 * SqliteStore that turns saveDelivery / deleteDelivery / updateDelivery into rows.
 *
 * Tables (sqlite-schema.ts, version 3):
 * - delivery_segments (id, client_id, data): the deliveries one session got in one commit;
 * - delivery_cursors (client_id, done_through): every delivery of the session with seq <= it is done;
 * - delivery_marks (client_id, seq, segment_id, packet_id, state): segment_id 0 = the packet id and
 *   state of a live delivery that changed after it was written (in flight, PUBREL sent); any other
 *   segment_id = the copy of `seq` in that segment is done (a dead mark).
 *
 * Per commit: one INSERT per session that got deliveries, one cursor UPSERT per session that had
 * some done, one DELETE per segment that is now entirely done; a mark row only for a state change
 * after the write or a delivery done out of queue order. All of it runs inside the store's one
 * transaction per commit, in the order the ops were made (see apply*), with segment INSERTs at the
 * end (finish), which gives the same end state.
 */
import type Database from "better-sqlite3";
import { decodeSegment, encodeSegment } from "./delivery-codec.js";
import { ClientSegments, Segment } from "./delivery-segments.js";
import type { Intern } from "./message-serialization.js";
import type { StoredDelivery } from "./store.js";

type State = StoredDelivery["state"];

/** Deliveries of one session done since the last commit: parallel arrays, no object per delivery. */
interface Done {
  segs: Segment[];
  seqs: number[];
}

function stateOf(s: unknown): State {
  if (s === "queued" || s === "publish" || s === "pubrel") return s;
  throw new Error(`invalid state ${JSON.stringify(s)}`);
}

export class SqliteDeliveries {
  private readonly stmts;
  private clients = new Map<string, ClientSegments>();
  /** Saves of this commit not yet written, per session, by seq. */
  private pending = new Map<string, Map<number, StoredDelivery>>();
  /**
   * Deliveries done since the last commit, per session, for cursors and marks: each seq and the
   * segment it was in. Filled by ops inside a commit and by kill() between commits.
   */
  private done = new Map<string, Done>();

  constructor(private readonly db: Database.Database) {
    this.stmts = {
      insertSegment: db.prepare("INSERT INTO delivery_segments (client_id, data) VALUES (?, ?)"),
      deleteSegment: db.prepare("DELETE FROM delivery_segments WHERE id = ?"),
      upsertCursor: db.prepare(
        "INSERT INTO delivery_cursors (client_id, done_through) VALUES (?, ?) ON CONFLICT (client_id) DO UPDATE SET done_through = excluded.done_through",
      ),
      upsertMark: db.prepare(
        "INSERT OR REPLACE INTO delivery_marks (client_id, seq, segment_id, packet_id, state) VALUES (?, ?, ?, ?, ?)",
      ),
      deleteStateMark: db.prepare(
        "DELETE FROM delivery_marks WHERE client_id = ? AND seq = ? AND segment_id = 0",
      ),
      deleteMarksThrough: db.prepare("DELETE FROM delivery_marks WHERE client_id = ? AND seq <= ?"),
      deleteMarksBetween: db.prepare(
        "DELETE FROM delivery_marks WHERE client_id = ? AND seq BETWEEN ? AND ?",
      ),
      deleteClientSegments: db.prepare("DELETE FROM delivery_segments WHERE client_id = ?"),
      deleteClientCursor: db.prepare("DELETE FROM delivery_cursors WHERE client_id = ?"),
      deleteClientMarks: db.prepare("DELETE FROM delivery_marks WHERE client_id = ?"),
      loadSegments: db.prepare("SELECT id, client_id, data FROM delivery_segments ORDER BY id").raw(true),
      loadCursors: db.prepare("SELECT client_id, done_through FROM delivery_cursors").raw(true),
      loadMarks: db
        .prepare("SELECT client_id, seq, segment_id, packet_id, state FROM delivery_marks")
        .raw(true),
    };
  }

  // ---- ops, applied in order inside the commit's transaction ------------------------------------

  applySave(d: StoredDelivery): void {
    const c = this.clients.get(d.clientId);
    // "Adds or replaces": a stored copy of the same seq is done from now on, and a state it had
    // must not apply to the new copy.
    if (c !== undefined && d.seq <= c.maxSeq) {
      this.applyDelete(d.clientId, d.seq);
      if (c.marks > 0) this.stmts.deleteStateMark.run(d.clientId, d.seq);
    }
    let p = this.pending.get(d.clientId);
    if (!p) {
      p = new Map();
      this.pending.set(d.clientId, p);
    }
    p.set(d.seq, d);
  }

  applyDelete(clientId: string, seq: number): void {
    const p = this.pending.get(clientId);
    if (p?.delete(seq)) return; // saved in this commit: never written
    this.kill(clientId, seq);
  }

  /**
   * Marks a stored delivery done in memory at once, between commits; its rows change at the next
   * finish(). The caller (SqliteStore.deleteDelivery) makes sure no op of the coming commit concerns
   * the session, so doing it before them is the same as doing it first in that commit. Returns
   * false when `seq` is not a live stored delivery of the session.
   */
  kill(clientId: string, seq: number): boolean {
    const seg = this.clients.get(clientId)?.kill(seq);
    if (seg === undefined) return false;
    let d = this.done.get(clientId);
    if (d === undefined) {
      d = { segs: [], seqs: [] };
      this.done.set(clientId, d);
    }
    d.segs.push(seg);
    d.seqs.push(seq);
    return true;
  }

  /** Whether deliveries were done since the last commit (finish() has rows to change). */
  get hasDone(): boolean {
    return this.done.size > 0;
  }

  applyUpdate(clientId: string, seq: number, packetId: number | undefined, state: State): void {
    const pending = this.pending.get(clientId)?.get(seq);
    if (pending) {
      if (packetId === undefined) delete pending.packetId;
      else pending.packetId = packetId;
      pending.state = state;
      return;
    }
    const c = this.clients.get(clientId);
    if (!c?.has(seq)) return; // not stored (never saved, or done): nothing to update
    this.stmts.upsertMark.run(clientId, seq, 0, packetId ?? null, state);
    c.marks++;
  }

  applyDeleteClient(clientId: string): void {
    this.pending.delete(clientId);
    this.done.delete(clientId);
    this.clients.delete(clientId);
    const s = this.stmts;
    s.deleteClientSegments.run(clientId);
    s.deleteClientCursor.run(clientId);
    s.deleteClientMarks.run(clientId);
  }

  /** The end of a commit's ops: moves cursors, drops finished segments, writes the new segments. */
  finish(): void {
    const s = this.stmts;
    for (const [clientId, d] of this.done) this.settle(clientId, d);
    this.done.clear();
    for (const [clientId, p] of this.pending) {
      if (p.size === 0) continue;
      const ds = [...p.values()];
      let sorted = true;
      for (let i = 1; i < ds.length; i++) if (ds[i]!.seq < ds[i - 1]!.seq) sorted = false;
      if (!sorted) ds.sort((a, b) => a.seq - b.seq);
      const id = Number(s.insertSegment.run(clientId, encodeSegment(ds)).lastInsertRowid);
      let c = this.clients.get(clientId);
      if (!c) {
        c = new ClientSegments();
        this.clients.set(clientId, c);
      }
      const seqs = Float64Array.from(ds, (d) => d.seq);
      // Below the cursor would read as done at the next start: mark what is done above the new one.
      if (c.cursor >= seqs[0]!) this.lowerCursor(clientId, c, seqs[0]! - 1);
      c.add(new Segment(id, seqs));
    }
    this.pending.clear();
  }

  private settle(clientId: string, { segs, seqs }: Done): void {
    const s = this.stmts;
    const c = this.clients.get(clientId);
    if (!c) return;
    if (c.empty) {
      // Nothing of the session is live: its rows go, and no cursor or mark is needed any more.
      s.deleteClientSegments.run(clientId);
      if (c.cursor >= 0) s.deleteClientCursor.run(clientId);
      if (c.marks > 0) s.deleteClientMarks.run(clientId);
      this.clients.delete(clientId);
      return;
    }
    const low = c.lowestLive()!;
    const cursor = low - 1;
    if (cursor > c.cursor) {
      s.upsertCursor.run(clientId, cursor);
      c.cursor = cursor;
      if (c.marks > 0) c.marks -= s.deleteMarksThrough.run(clientId, cursor).changes;
    }
    const deleted = new Set<Segment>();
    for (let k = 0; k < segs.length; k++) {
      const seg = segs[k]!;
      const seq = seqs[k]!;
      if (seg.live === 0) {
        if (!deleted.has(seg)) {
          deleted.add(seg);
          s.deleteSegment.run(seg.id);
          // Its marks are garbage now; with overlapping segments they might belong to another copy.
          if (c.marks > 0 && c.ordered && seg.lastSeq > c.cursor) {
            c.marks -= s.deleteMarksBetween.run(clientId, seg.firstSeq, seg.lastSeq).changes;
          }
        }
      } else if (seq > c.cursor) {
        s.upsertMark.run(clientId, seq, seg.id, null, "queued");
        c.marks++;
      }
    }
    if (c.marks < 0) c.marks = 0;
  }

  /** Moves the cursor down to `to`, first marking every done delivery it uncovers. */
  private lowerCursor(clientId: string, c: ClientSegments, to: number): void {
    for (const seg of c.segments) {
      if (seg.live === 0) continue;
      for (let i = 0; i < seg.seqs.length; i++) {
        const seq = seg.seqs[i]!;
        if (seg.alive[i] === 0 && seq > to && seq <= c.cursor) {
          this.stmts.upsertMark.run(clientId, seq, seg.id, null, "queued");
          c.marks++;
        }
      }
    }
    this.stmts.upsertCursor.run(clientId, to);
    c.cursor = to;
  }

  /** A failed commit rolled back: forget what it did in memory and read the index again. */
  reset(): void {
    const done = this.done;
    this.pending.clear();
    this.done = new Map();
    this.load(undefined);
    // What was done stays done: kill() calls between commits have no op to replay them. Those the
    // failed commit's own ops made are replayed with its ops, and find nothing left to kill.
    for (const [clientId, d] of done) for (const seq of d.seqs) this.kill(clientId, seq);
  }

  // ---- load -------------------------------------------------------------------------------------

  /**
   * Reads every segment, builds the index, and (with `intern`) returns the live deliveries ordered by
   * seq. A row that does not decode throws an error naming it.
   */
  load(intern: Intern | undefined): StoredDelivery[] {
    const s = this.stmts;
    this.clients.clear();
    const cursors = new Map<string, number>();
    for (const [clientId, through] of s.loadCursors.iterate() as IterableIterator<[string, number]>) {
      cursors.set(clientId, through);
    }
    const states = new Map<string, Map<number, { packetId: number | undefined; state: State }>>();
    const dead = new Set<string>();
    const markCount = new Map<string, number>();
    for (const row of s.loadMarks.iterate() as IterableIterator<
      [string, number, number, number | null, string]
    >) {
      const [clientId, seq, segmentId, packetId, state] = row;
      markCount.set(clientId, (markCount.get(clientId) ?? 0) + 1);
      if (segmentId !== 0) {
        dead.add(`${segmentId}:${seq}`);
        continue;
      }
      let m = states.get(clientId);
      if (!m) {
        m = new Map();
        states.set(clientId, m);
      }
      try {
        m.set(seq, { packetId: packetId ?? undefined, state: stateOf(state) });
      } catch (err) {
        throw new Error(
          `cannot decode delivery_marks row (${JSON.stringify(clientId)}, ${seq}, ${segmentId}): ${(err as Error).message}`,
        );
      }
    }
    const out: StoredDelivery[] = [];
    const garbage: number[] = [];
    const noIntern: Intern = (x) => x;
    for (const [id, clientId, data] of s.loadSegments.iterate() as IterableIterator<
      [number, string, Buffer]
    >) {
      const cursor = cursors.get(clientId) ?? -1;
      const st = states.get(clientId);
      const seqs: number[] = [];
      const alive: number[] = [];
      try {
        decodeSegment(data, intern ? intern(clientId) : clientId, intern ?? noIntern, (d) => {
          seqs.push(d.seq);
          const live = d.seq > cursor && !dead.has(`${id}:${d.seq}`);
          alive.push(live ? 1 : 0);
          if (!live || !intern) return;
          const mark = st?.get(d.seq);
          if (mark) {
            if (mark.packetId === undefined) delete d.packetId;
            else d.packetId = mark.packetId;
            d.state = mark.state;
          }
          out.push(d);
        });
      } catch (err) {
        throw new Error(
          `cannot decode delivery_segments row ${id} (${JSON.stringify(clientId)}): ${err instanceof Error ? err.message : String(err)}`,
        );
      }
      const seg = new Segment(id, Float64Array.from(seqs), Uint8Array.from(alive));
      if (seg.live === 0) {
        garbage.push(id);
        continue;
      }
      let c = this.clients.get(clientId);
      if (!c) {
        c = new ClientSegments();
        c.cursor = cursor;
        c.marks = markCount.get(clientId) ?? 0;
        this.clients.set(clientId, c);
      }
      c.add(seg);
    }
    // Rows every delivery of which is done (a crash between the cursor and the DELETE): tidy up.
    if (garbage.length > 0) {
      this.db.transaction(() => {
        for (const id of garbage) s.deleteSegment.run(id);
      })();
    }
    // Segment order is commit order, nearly seq order already: the sort has little to do.
    out.sort((a, b) => a.seq - b.seq || (a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : 0));
    return out;
  }
}
