/**
 * XDR (RFC 4506): the big-endian, 4-byte-aligned encoding every ONC RPC
 * message uses. Only what the portmapper, MOUNT v3 and NFSv3 need.
 */

const pad = (n: number) => (4 - (n % 4)) % 4;

export class XdrWriter {
  private parts: Buffer[] = [];
  private current = Buffer.alloc(256);
  private at = 0;

  private room(n: number) {
    if (this.at + n <= this.current.length) return;
    this.flush();
    this.current = Buffer.alloc(Math.max(256, n));
  }

  private flush() {
    if (this.at > 0) this.parts.push(this.current.subarray(0, this.at));
    this.current = Buffer.alloc(256);
    this.at = 0;
  }

  u32(v: number): this {
    this.room(4);
    this.current.writeUInt32BE(v >>> 0, this.at);
    this.at += 4;
    return this;
  }

  bool(v: boolean): this {
    return this.u32(v ? 1 : 0);
  }

  /** Unsigned 64-bit; file sizes and offsets stay far below 2^53, so a number is exact. */
  u64(v: number): this {
    this.room(8);
    this.current.writeBigUInt64BE(BigInt(v), this.at);
    this.at += 8;
    return this;
  }

  /** Fixed-length opaque (verifiers): no length word. */
  fixed(data: Uint8Array): this {
    this.flush();
    this.parts.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    if (pad(data.byteLength)) this.parts.push(Buffer.alloc(pad(data.byteLength)));
    return this;
  }

  /**
   * Variable-length opaque. Large payloads (WRITE data) are referenced, not
   * copied: the message is assembled from its parts once, when sent.
   */
  opaque(data: Uint8Array): this {
    this.u32(data.byteLength);
    return this.fixed(data);
  }

  string(s: string): this {
    return this.opaque(Buffer.from(s, 'utf8'));
  }

  toBuffers(): Buffer[] {
    this.flush();
    return this.parts;
  }
}

export class XdrReader {
  private at = 0;
  constructor(private readonly buf: Buffer) {}

  private need(n: number) {
    if (this.at + n > this.buf.length) throw new Error('the server sent a truncated RPC reply');
  }

  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.at);
    this.at += 4;
    return v;
  }

  bool(): boolean {
    return this.u32() !== 0;
  }

  u64(): number {
    this.need(8);
    const v = this.buf.readBigUInt64BE(this.at);
    this.at += 8;
    return Number(v);
  }

  fixed(n: number): Buffer {
    this.need(n + pad(n));
    const v = this.buf.subarray(this.at, this.at + n);
    this.at += n + pad(n);
    return v;
  }

  opaque(): Buffer {
    return this.fixed(this.u32());
  }

  string(): string {
    return this.opaque().toString('utf8');
  }
}
