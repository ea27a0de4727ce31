// SQLite MessageStore (better-sqlite3, WAL). Writes are queued and committed together, one transaction per
// event-loop turn (group commit); every write of a group gets the group's promise, which resolves after
// that transaction commits.
import Database from "better-sqlite3";
import {
  NO_ANNOTATIONS,
  type EntityRecord,
  type MessageMeta,
  type MessageStore,
  type MessageUpdate,
  type RecoveredEntity,
  type StoredBody,
  type StoredMessage,
} from "./types.js";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS entities (
  id INTEGER PRIMARY KEY,
  path TEXT NOT NULL UNIQUE,
  definition TEXT,
  last_seq INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS messages (
  entity INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  state INTEGER NOT NULL,
  enqueued_at INTEGER NOT NULL,
  scheduled_at INTEGER,
  expires_at INTEGER,
  delivery_count INTEGER NOT NULL,
  lock_token TEXT,
  locked_until INTEGER,
  session_id TEXT,
  message_id TEXT,
  size INTEGER NOT NULL,
  annotations BLOB,
  bare BLOB NOT NULL,
  PRIMARY KEY (entity, seq)
);
CREATE TABLE IF NOT EXISTS session_states (
  entity INTEGER NOT NULL,
  session_id TEXT NOT NULL,
  state BLOB NOT NULL,
  PRIMARY KEY (entity, session_id)
);
`;

type Write = () => void;

/** Consecutive removals from one entity, deleted with a few statements instead of one per message. */
class Removals {
  constructor(
    readonly entity: number,
    readonly seqs: number[],
  ) {}
}

/** Consecutive enqueues to one entity: their rows, then one update of the entity's last sequence number. */
class Inserts {
  constructor(
    readonly entity: number,
    readonly messages: StoredMessage[],
  ) {}
}

/** Largest IN-list of one removal or load statement; lists are cut into power-of-two chunks up to this size. */
const MAX_IN_CHUNK = 64;
/** Rows read per statement when recovering an entity: the index is rebuilt without a million row objects at once. */
const RECOVER_PAGE = 4096;

interface Group {
  promise: Promise<void>;
  resolve: () => void;
  reject: (e: unknown) => void;
}

interface Row {
  seq: number;
  state: number;
  enqueued_at: number;
  scheduled_at: number | null;
  expires_at: number | null;
  delivery_count: number;
  lock_token: string | null;
  locked_until: number | null;
  session_id: string | null;
  message_id: string | null;
  size: number;
}

function metaFromRow(r: Row): MessageMeta {
  return {
    seq: r.seq,
    state: r.state,
    enqueuedAt: r.enqueued_at,
    scheduledAt: r.scheduled_at ?? undefined,
    expiresAt: r.expires_at ?? undefined,
    deliveryCount: r.delivery_count,
    lockToken: r.lock_token ?? undefined,
    lockedUntil: r.locked_until ?? undefined,
    sessionId: r.session_id ?? undefined,
    messageId: r.message_id ?? undefined,
    size: r.size,
  };
}

const BODY_COLUMNS = "seq, enqueued_at, message_id, annotations, bare";

interface BodyRow {
  seq: number;
  enqueued_at: number;
  message_id: string | null;
  annotations: Buffer | null;
  bare: Buffer;
}

function bodyFromRow(r: BodyRow): StoredBody {
  return {
    seq: r.seq,
    enqueuedAt: r.enqueued_at,
    messageId: r.message_id ?? undefined,
    annotations: r.annotations ?? NO_ANNOTATIONS,
    bare: r.bare,
  };
}

/** Calls `fn(start, n)` for consecutive chunks of `items` whose sizes are powers of two up to MAX_IN_CHUNK. */
function inChunks(items: unknown[], fn: (start: number, n: number) => void): void {
  let i = 0;
  while (i < items.length) {
    let n = MAX_IN_CHUNK;
    while (n > items.length - i) n >>= 1;
    fn(i, n);
    i += n;
  }
}

export class SqliteStore implements MessageStore {
  private readonly db: Database.Database;
  private readonly ids = new Map<string, number>();
  private pending: Array<Write | Removals | Inserts> = [];
  private group?: Group;
  /** DELETE / SELECT … WHERE seq IN (n placeholders), by n */
  private readonly removeIn = new Map<number, Database.Statement>();
  private readonly loadIn = new Map<number, Database.Statement>();
  private readonly runGroup: (ops: Array<Write | Removals | Inserts>) => void;
  private readonly stmt;

  constructor(file: string) {
    this.db = new Database(file);
    // ~1 KB messages fill 4 KB pages badly; 8 KB pages cut the write and checkpoint cost per message by about
    // a quarter. Applies to new files only (an existing database keeps its page size).
    this.db.pragma("page_size = 8192");
    this.db.pragma("journal_mode = WAL");
    // NORMAL in WAL mode survives a process crash (kill -9); only an OS crash can lose the last commits.
    this.db.pragma("synchronous = NORMAL");
    // better-sqlite3 builds with a 16 MB page cache. Delivery reads in sequence order and writes append, so a
    // few MB hold the pages that are reused (the B-tree's inner pages); the OS caches the file anyway.
    this.db.pragma("cache_size = -4096");
    this.db.exec(SCHEMA);
    const db = this.db;
    this.stmt = {
      entityId: db.prepare("SELECT id FROM entities WHERE path = ?"),
      addEntity: db.prepare("INSERT INTO entities (path) VALUES (?) ON CONFLICT(path) DO NOTHING"),
      saveEntity: db.prepare(
        "INSERT INTO entities (path, definition) VALUES (?, ?) ON CONFLICT(path) DO UPDATE SET definition = excluded.definition",
      ),
      listEntities: db.prepare("SELECT path, definition FROM entities WHERE definition IS NOT NULL"),
      deleteEntities: db.prepare("SELECT id, path FROM entities WHERE path = ? OR path LIKE ? ESCAPE '\\'"),
      deleteEntity: db.prepare("DELETE FROM entities WHERE id = ?"),
      deleteMessages: db.prepare("DELETE FROM messages WHERE entity = ?"),
      lastSeq: db.prepare("SELECT last_seq FROM entities WHERE id = ?"),
      setLastSeq: db.prepare("UPDATE entities SET last_seq = max(last_seq, ?) WHERE id = ?"),
      metas: db.prepare(
        `SELECT seq, state, enqueued_at, scheduled_at, expires_at, delivery_count, lock_token, locked_until,
                session_id, message_id, size FROM messages WHERE entity = ? AND seq > ? ORDER BY seq LIMIT ${RECOVER_PAGE}`,
      ),
      load: db.prepare(`SELECT ${BODY_COLUMNS} FROM messages WHERE entity = ? AND seq = ?`),
      // positional parameters: binding a 14-field object by name costs more than the insert's bookkeeping
      insert: db.prepare(
        `INSERT OR REPLACE INTO messages (entity, seq, state, enqueued_at, scheduled_at, expires_at, delivery_count,
           lock_token, locked_until, session_id, message_id, size, annotations, bare)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      update: db.prepare(
        `UPDATE messages SET state = @state, scheduled_at = @scheduledAt, expires_at = @expiresAt,
           delivery_count = @deliveryCount, lock_token = @lockToken, locked_until = @lockedUntil
         WHERE entity = @entity AND seq = @seq`,
      ),
      remove: db.prepare("DELETE FROM messages WHERE entity = ? AND seq = ?"),
      sessionState: db.prepare("SELECT state FROM session_states WHERE entity = ? AND session_id = ?"),
      setSessionState: db.prepare("INSERT OR REPLACE INTO session_states (entity, session_id, state) VALUES (?, ?, ?)"),
      clearSessionState: db.prepare("DELETE FROM session_states WHERE entity = ? AND session_id = ?"),
      deleteSessionStates: db.prepare("DELETE FROM session_states WHERE entity = ?"),
    };
    this.runGroup = db.transaction((ops: Array<Write | Removals | Inserts>) => {
      for (const op of ops) {
        if (op instanceof Removals) this.removeAll(op);
        else if (op instanceof Inserts) this.insertAll(op);
        else op();
      }
    });
  }

  private id(path: string): number {
    let id = this.ids.get(path);
    if (id === undefined) {
      this.stmt.addEntity.run(path);
      id = (this.stmt.entityId.get(path) as { id: number }).id;
      this.ids.set(path, id);
    }
    return id;
  }

  /** Queues a write; it commits with every other write of this event-loop turn. */
  private write(w: Write): Promise<void> {
    this.pending.push(w);
    return this.commitSoon();
  }

  /** The promise of the group being collected (started on first use, committed on the next turn). */
  private commitSoon(): Promise<void> {
    if (this.group) return this.group.promise;
    let resolve!: () => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.group = { promise, resolve, reject };
    setImmediate(() => this.commit());
    return promise;
  }

  private commit(): void {
    const group = this.group;
    if (!group) return;
    const ops = this.pending;
    this.pending = [];
    this.group = undefined;
    try {
      this.runGroup(ops);
    } catch (err) {
      group.reject(err);
      return;
    }
    group.resolve();
  }

  private insertAll(op: Inserts): void {
    let last = 0;
    for (const m of op.messages) {
      this.insertRow(op.entity, m);
      if (m.seq > last) last = m.seq;
    }
    this.stmt.setLastSeq.run(last, op.entity);
  }

  private removeAll(r: Removals): void {
    inChunks(r.seqs, (i, n) => {
      if (n === 1) this.stmt.remove.run(r.entity, r.seqs[i]);
      else this.inList(this.removeIn, "DELETE FROM messages", n).run(r.entity, ...r.seqs.slice(i, i + n));
    });
  }

  /** The prepared statement `<head> WHERE entity = ? AND seq IN (n placeholders)`. */
  private inList(cache: Map<number, Database.Statement>, head: string, n: number): Database.Statement {
    let stmt = cache.get(n);
    if (!stmt) {
      stmt = this.db.prepare(`${head} WHERE entity = ? AND seq IN (${"?,".repeat(n - 1)}?)`);
      cache.set(n, stmt);
    }
    return stmt;
  }

  listEntities(): EntityRecord[] {
    return (this.stmt.listEntities.all() as Array<{ path: string; definition: string }>).map((r) => ({ ...r }));
  }

  saveEntity(record: EntityRecord): Promise<void> {
    return this.write(() => {
      this.stmt.saveEntity.run(record.path, record.definition);
    });
  }

  deleteEntity(path: string): Promise<void> {
    return this.write(() => {
      const like = path.replace(/[\\%_]/g, (c) => "\\" + c) + "/$%";
      for (const row of this.stmt.deleteEntities.all(path, like) as Array<{ id: number; path: string }>) {
        this.stmt.deleteMessages.run(row.id);
        this.stmt.deleteSessionStates.run(row.id);
        this.stmt.deleteEntity.run(row.id);
        this.ids.delete(row.path);
      }
    });
  }

  recover(path: string): RecoveredEntity {
    const id = this.id(path);
    const last = (this.stmt.lastSeq.get(id) as { last_seq: number }).last_seq;
    const page = this.stmt.metas;
    function* messages(): Generator<MessageMeta> {
      // each page is a finished statement, so the connection is free for other statements between pages
      for (let after = 0; ;) {
        const rows = page.all(id, after) as Row[];
        for (const r of rows) yield metaFromRow(r);
        if (rows.length < RECOVER_PAGE) return;
        after = rows[rows.length - 1].seq;
      }
    }
    return { lastSequence: last, messages: messages() };
  }

  load(path: string, seq: number): StoredBody | undefined {
    const r = this.stmt.load.get(this.id(path), seq) as BodyRow | undefined;
    return r && bodyFromRow(r);
  }

  loadMany(path: string, seqs: number[]): StoredBody[] {
    const entity = this.id(path);
    const out: StoredBody[] = [];
    inChunks(seqs, (i, n) => {
      const stmt = n === 1 ? this.stmt.load : this.inList(this.loadIn, `SELECT ${BODY_COLUMNS} FROM messages`, n);
      for (const r of stmt.all(entity, ...seqs.slice(i, i + n)) as BodyRow[]) out.push(bodyFromRow(r));
    });
    return out;
  }

  private insertRow(entity: number, m: StoredMessage): void {
    this.stmt.insert.run(
      entity,
      m.seq,
      m.state,
      m.enqueuedAt,
      m.scheduledAt ?? null,
      m.expiresAt ?? null,
      m.deliveryCount,
      m.lockToken ?? null,
      m.lockedUntil ?? null,
      m.sessionId ?? null,
      m.messageId ?? null,
      m.size,
      m.annotations.length ? m.annotations : null,
      m.bare,
    );
  }

  enqueue(path: string, messages: StoredMessage[]): Promise<void> {
    const entity = this.id(path);
    // consecutive enqueues to one entity share the last-sequence update (it takes the max, so order is kept)
    const last = this.pending[this.pending.length - 1];
    if (last instanceof Inserts && last.entity === entity) for (const m of messages) last.messages.push(m);
    else this.pending.push(new Inserts(entity, messages.slice()));
    return this.commitSoon();
  }

  update(path: string, meta: MessageUpdate): Promise<void> {
    const entity = this.id(path);
    const row = {
      entity,
      seq: meta.seq,
      state: meta.state,
      scheduledAt: meta.scheduledAt ?? null,
      expiresAt: meta.expiresAt ?? null,
      deliveryCount: meta.deliveryCount,
      lockToken: meta.lockToken ?? null,
      lockedUntil: meta.lockedUntil ?? null,
    };
    return this.write(() => {
      this.stmt.update.run(row);
    });
  }

  rewrite(path: string, message: StoredMessage): Promise<void> {
    const entity = this.id(path);
    const copy = { ...message };
    return this.write(() => this.insertRow(entity, copy));
  }

  remove(path: string, seq: number): Promise<void> {
    const entity = this.id(path);
    // consecutive removals commute, so they can share statements without reordering anything else
    const last = this.pending[this.pending.length - 1];
    if (last instanceof Removals && last.entity === entity) last.seqs.push(seq);
    else this.pending.push(new Removals(entity, [seq]));
    return this.commitSoon();
  }

  move(from: string, seq: number, to: string, message: StoredMessage): Promise<void> {
    const source = this.id(from);
    const target = this.id(to);
    const copy = { ...message };
    return this.write(() => {
      this.stmt.remove.run(source, seq);
      this.insertRow(target, copy);
      this.stmt.setLastSeq.run(copy.seq, target);
    });
  }

  sessionState(path: string, sessionId: string): Buffer | undefined {
    return (this.stmt.sessionState.get(this.id(path), sessionId) as { state: Buffer } | undefined)?.state;
  }

  saveSessionState(path: string, sessionId: string, state: Buffer | undefined): Promise<void> {
    const entity = this.id(path);
    const copy = state && Buffer.from(state);
    return this.write(() => {
      if (copy) this.stmt.setSessionState.run(entity, sessionId, copy);
      else this.stmt.clearSessionState.run(entity, sessionId);
    });
  }

  async flush(): Promise<void> {
    if (this.pending.length) await this.write(() => {});
  }

  close(): void {
    if (this.pending.length) this.commit();
    this.db.close();
  }
}
