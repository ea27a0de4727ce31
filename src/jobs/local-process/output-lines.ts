// A replica's stdout and stderr, split into the lines its console log is made of.
import { StringDecoder } from "node:string_decoder";
import type { LineSink, Stream } from "../types.js";

/** a line longer than this is emitted in pieces, so a process that never prints \n cannot grow memory */
const MAX_LINE_CHARS = 64 * 1024;

/** Splits a byte stream into lines: UTF-8 safe across chunks, \r\n tolerant, partial line flushed at end. */
export class LineSplitter {
  private decoder = new StringDecoder("utf8");
  private pending = "";
  constructor(
    private readonly stream: Stream,
    private readonly sink: LineSink,
  ) {}

  write(chunk: Buffer): void {
    let text = this.pending + this.decoder.write(chunk);
    let start = 0;
    for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", start)) {
      this.emit(text.slice(start, nl));
      start = nl + 1;
    }
    text = text.slice(start);
    while (text.length > MAX_LINE_CHARS) {
      this.emit(text.slice(0, MAX_LINE_CHARS));
      text = text.slice(MAX_LINE_CHARS);
    }
    this.pending = text;
  }

  end(): void {
    const rest = this.pending + this.decoder.end();
    this.pending = "";
    if (rest) this.emit(rest);
  }

  private emit(line: string): void {
    try {
      this.sink(this.stream, line.endsWith("\r") ? line.slice(0, -1) : line);
    } catch {
      // a failing sink must not take the replica (or the engine) down
    }
  }
}
