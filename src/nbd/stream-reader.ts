import type { Duplex } from 'node:stream';

/** Bytes buffered before the socket is paused: one maximal request plus its header, with room. */
const HIGH_WATER = 40 * 1024 * 1024;

/**
 * Pull-style reads of exact byte counts from a socket, so the protocol code reads like the
 * specification ("read 16 bytes, then `length` bytes"). The reader pauses the socket when
 * it holds more than HIGH_WATER bytes nobody asked for, which bounds memory per client.
 * `detach` hands the socket over (NBD_OPT_STARTTLS wraps it in TLS).
 */
export class StreamReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private waiter: { length: number; resolve: (b: Buffer) => void; reject: (e: Error) => void } | undefined;
  private failure: Error | undefined;
  private readonly onData = (chunk: Buffer) => {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered > HIGH_WATER) this.stream.pause();
    this.settle();
  };
  private readonly onEnd = () => this.fail(new Error('connection closed by the client'));
  private readonly onError = (err: Error) => this.fail(err);

  constructor(private readonly stream: Duplex) {
    stream.on('data', this.onData);
    stream.on('end', this.onEnd);
    stream.on('close', this.onEnd);
    stream.on('error', this.onError);
  }

  read(length: number): Promise<Buffer> {
    if (this.waiter) return Promise.reject(new Error('concurrent read on one NBD connection'));
    return new Promise((resolve, reject) => {
      this.waiter = { length, resolve, reject };
      this.settle();
    });
  }

  /** Stops listening and returns bytes already received but not yet read. */
  detach(): Buffer {
    this.stream.off('data', this.onData);
    this.stream.off('end', this.onEnd);
    this.stream.off('close', this.onEnd);
    this.stream.off('error', this.onError);
    this.stream.pause();
    const rest = Buffer.concat(this.chunks);
    this.chunks = [];
    this.buffered = 0;
    return rest;
  }

  private fail(err: Error) {
    this.failure ??= err;
    this.settle();
  }

  private settle() {
    const waiter = this.waiter;
    if (!waiter) return;
    if (this.buffered >= waiter.length) {
      this.waiter = undefined;
      waiter.resolve(this.take(waiter.length));
      if (this.buffered <= HIGH_WATER && this.stream.isPaused()) this.stream.resume();
    } else if (this.failure) {
      this.waiter = undefined;
      waiter.reject(this.failure);
    } else if (this.stream.isPaused()) {
      this.stream.resume();
    }
  }

  private take(length: number): Buffer {
    if (length === 0) return Buffer.alloc(0);
    const first = this.chunks[0]!;
    if (first.length >= length) {
      // The common case (a request header, or a payload that arrived in one piece): no copy.
      const out = first.subarray(0, length);
      if (first.length === length) this.chunks.shift();
      else this.chunks[0] = first.subarray(length);
      this.buffered -= length;
      return out;
    }
    const out = Buffer.allocUnsafe(length);
    let filled = 0;
    while (filled < length) {
      const chunk = this.chunks[0]!;
      const n = Math.min(chunk.length, length - filled);
      chunk.copy(out, filled, 0, n);
      filled += n;
      if (n === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(n);
    }
    this.buffered -= length;
    return out;
  }
}
