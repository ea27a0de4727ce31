// In-memory MessageStore (`eventjobs up --in-memory`): same semantics, nothing survives a restart.
import {
  metaOf,
  type EntityRecord,
  type MessageStore,
  type MessageUpdate,
  type RecoveredEntity,
  type StoredBody,
  type StoredMessage,
} from "./types.js";

interface EntityData {
  lastSequence: number;
  messages: Map<number, StoredMessage>;
}

export class MemoryStore implements MessageStore {
  private readonly entities = new Map<string, EntityData>();
  private readonly records = new Map<string, EntityRecord>();
  /** session states by entity path, then session id */
  private readonly states = new Map<string, Map<string, Buffer>>();

  private data(path: string): EntityData {
    let d = this.entities.get(path);
    if (!d) this.entities.set(path, (d = { lastSequence: 0, messages: new Map() }));
    return d;
  }

  listEntities(): EntityRecord[] {
    return [...this.records.values()];
  }
  async saveEntity(record: EntityRecord): Promise<void> {
    this.records.set(record.path, record);
  }
  async deleteEntity(path: string): Promise<void> {
    this.records.delete(path);
    this.states.delete(path);
    for (const key of [...this.entities.keys()]) {
      if (key === path || key.startsWith(path + "/$")) this.entities.delete(key);
    }
  }
  recover(path: string): RecoveredEntity {
    const d = this.data(path);
    const sorted = [...d.messages.keys()].sort((a, b) => a - b);
    return {
      lastSequence: d.lastSequence,
      messages: (function* () {
        for (const seq of sorted) yield metaOf(d.messages.get(seq)!);
      })(),
    };
  }
  load(path: string, seq: number): StoredBody | undefined {
    return this.entities.get(path)?.messages.get(seq);
  }
  loadMany(path: string, seqs: number[]): StoredBody[] {
    const messages = this.entities.get(path)?.messages;
    const out: StoredBody[] = [];
    for (const seq of seqs) {
      const m = messages?.get(seq);
      if (m) out.push(m);
    }
    return out;
  }
  async enqueue(path: string, messages: StoredMessage[]): Promise<void> {
    const d = this.data(path);
    for (const m of messages) {
      d.messages.set(m.seq, m);
      if (m.seq > d.lastSequence) d.lastSequence = m.seq;
    }
  }
  async update(path: string, u: MessageUpdate): Promise<void> {
    const m = this.entities.get(path)?.messages.get(u.seq);
    if (!m) return;
    m.state = u.state;
    m.scheduledAt = u.scheduledAt;
    m.expiresAt = u.expiresAt;
    m.deliveryCount = u.deliveryCount;
    m.lockToken = u.lockToken;
    m.lockedUntil = u.lockedUntil;
  }
  async rewrite(path: string, message: StoredMessage): Promise<void> {
    this.data(path).messages.set(message.seq, message);
  }
  async remove(path: string, seq: number): Promise<void> {
    this.entities.get(path)?.messages.delete(seq);
  }
  async move(from: string, seq: number, to: string, message: StoredMessage): Promise<void> {
    await this.remove(from, seq);
    await this.enqueue(to, [message]);
  }
  sessionState(path: string, sessionId: string): Buffer | undefined {
    return this.states.get(path)?.get(sessionId);
  }
  async saveSessionState(path: string, sessionId: string, state: Buffer | undefined): Promise<void> {
    let m = this.states.get(path);
    if (!m) this.states.set(path, (m = new Map()));
    if (state === undefined) m.delete(sessionId);
    else m.set(sessionId, Buffer.from(state));
  }
  async flush(): Promise<void> {}
  close(): void {}
}
