import { TokenBucket } from 'limiter';

/**
 * A transfer rate limit (traffic rules' throttling) as a token bucket of bytes: the
 * `limiter` package's TokenBucket, which serves waiting takers first come, first
 * served, on a monotonic clock.
 *
 * Each transfer has its own bucket, which starts empty at its first byte: from then on
 * a transfer never runs ahead of the rate. The bucket holds up to a second of traffic,
 * so time the reader spends elsewhere (compressing, writing a chunk, a busy event
 * loop) is caught up afterwards instead of being lost, and the average stays at the
 * rate rather than below it. Transfers limited by the same rule also draw from that
 * rule's shared bucket (the parent), so together they keep to the rate too.
 */
/** What the mover asks before letting bytes through. */
export interface Throttle {
  take(bytes: number, signal?: AbortSignal): Promise<void>;
}

export class TransferThrottle implements Throttle {
  private current?: TokenBucket;
  private readonly bucketSize: number;
  /** The most one take asks of the bucket at once: larger takes wait piece by piece, a stop is seen between pieces. */
  private readonly piece: number;

  constructor(
    readonly bytesPerSecond: number,
    private readonly parent?: TransferThrottle,
  ) {
    if (!(bytesPerSecond > 0)) throw new RangeError('a throttle needs a rate above 0');
    this.bucketSize = Math.max(1, Math.floor(bytesPerSecond));
    this.piece = Math.min(this.bucketSize, Math.max(16 * 1024, Math.floor(bytesPerSecond / 10)));
  }

  /** Made at the first take, so the time between setting a transfer up and its first byte earns no burst. */
  private bucket(): TokenBucket {
    this.current ??= new TokenBucket({ bucketSize: this.bucketSize, tokensPerInterval: this.bytesPerSecond, interval: 1000, parentBucket: this.parent?.bucket() });
    return this.current;
  }

  /** Waits until `bytes` may pass; a stop is noticed between pieces (at most ~0.1 s late). */
  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    const bucket = this.bucket();
    for (let left = bytes; left > 0; left -= this.piece) {
      signal?.throwIfAborted();
      await bucket.removeTokens(Math.min(left, this.piece));
    }
  }
}

/** One shared bucket per rule and rate for the whole process. */
const shared = new Map<string, TransferThrottle>();

/** A new transfer's throttle under a rule: its own bucket (empty), drawing on the rule's shared one. */
export function ruleThrottle(ruleId: string, bytesPerSecond: number): TransferThrottle {
  const key = `${ruleId}/${bytesPerSecond}`;
  let rule = shared.get(key);
  if (!rule) shared.set(key, (rule = new TransferThrottle(bytesPerSecond)));
  return new TransferThrottle(bytesPerSecond, rule);
}

/** The stream's bytes, let through no faster than the throttle allows (backpressure holds the source meanwhile). */
export async function* throttled(stream: AsyncIterable<Uint8Array>, throttle: Throttle, signal?: AbortSignal): AsyncIterable<Uint8Array> {
  for await (const part of stream) {
    await throttle.take(part.length, signal);
    yield part;
  }
}

/** The rule that limits a transfer now: its id (the shared bucket's key), rate and the log line saying so. */
export interface RuleChoice {
  ruleId: string;
  bytesPerSecond: number;
  reason: string;
}

/**
 * A transfer's limit that follows the rules as time passes: which rule applies (or
 * none, outside every window) is asked at the first byte and again every `recheckMs`,
 * so a long transfer is limited from the hour a rule's window opens and freed when it
 * closes; `changed` hears each switch (the session log says so).
 */
export class RuleThrottle implements Throttle {
  private choice?: RuleChoice;
  private throttle?: TransferThrottle;
  private checkedAt = Number.NEGATIVE_INFINITY;
  private checking?: Promise<void>;

  constructor(
    private readonly pick: () => Promise<RuleChoice | undefined>,
    private readonly changed: (now: RuleChoice | undefined, before: RuleChoice | undefined) => Promise<void>,
    private readonly recheckMs = 30_000,
  ) {}

  /** Asks which rule applies now, before the first byte (so that asking and logging it are not part of the transfer). */
  async start(): Promise<this> {
    await this.recheck();
    return this;
  }

  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    if (performance.now() - this.checkedAt >= this.recheckMs) {
      this.checking ??= this.recheck().finally(() => (this.checking = undefined));
      await this.checking;
    }
    if (this.throttle) await this.throttle.take(bytes, signal);
  }

  private async recheck(): Promise<void> {
    this.checkedAt = performance.now();
    // A rule lookup that fails keeps the limit in force rather than lifting it.
    const next = await this.pick().catch(() => this.choice);
    if (next?.ruleId === this.choice?.ruleId && next?.bytesPerSecond === this.choice?.bytesPerSecond) return;
    const before = this.choice;
    this.choice = next;
    this.throttle = next ? ruleThrottle(next.ruleId, next.bytesPerSecond) : undefined;
    await this.changed(next, before).catch(() => undefined);
  }
}
