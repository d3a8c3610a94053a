import { TokenBucket } from 'limiter';

/**
 * A transfer rate limit (traffic rules' throttling) as a token bucket of bytes: the
 * `limiter` package's TokenBucket, which serves waiting takers first come, first
 * served, on a monotonic clock. The bucket starts empty and holds at most a tenth of
 * a second of traffic, so even a transfer of a few seconds keeps to the rate and a
 * pause is never made up for by a burst.
 */
export class TransferThrottle {
  private readonly bucket: TokenBucket;
  /** The most one take asks of the bucket at once (larger takes wait piece by piece). */
  private readonly piece: number;

  constructor(readonly bytesPerSecond: number) {
    if (!(bytesPerSecond > 0)) throw new RangeError('a throttle needs a rate above 0');
    this.piece = Math.max(1, Math.min(bytesPerSecond, Math.max(16 * 1024, Math.floor(bytesPerSecond / 10))));
    this.bucket = new TokenBucket({ bucketSize: this.piece, tokensPerInterval: bytesPerSecond, interval: 1000 });
  }

  /** Waits until `bytes` may pass; a stop is noticed between pieces (at most ~0.1 s late). */
  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    for (let left = bytes; left > 0; left -= this.piece) {
      signal?.throwIfAborted();
      await this.bucket.removeTokens(Math.min(left, this.piece));
    }
  }
}

/**
 * One throttle per rule and rate for the whole process: two runs whose traffic a rule
 * limits share the rule's rate, as the rule limits the traffic between its ranges,
 * not each job.
 */
const shared = new Map<string, TransferThrottle>();
export function sharedThrottle(key: string, bytesPerSecond: number): TransferThrottle {
  const id = `${key}/${bytesPerSecond}`;
  let throttle = shared.get(id);
  if (!throttle) shared.set(id, (throttle = new TransferThrottle(bytesPerSecond)));
  return throttle;
}

/** The stream's bytes, let through no faster than the throttle allows (backpressure holds the source meanwhile). */
export async function* throttled(stream: AsyncIterable<Uint8Array>, throttle: TransferThrottle, signal?: AbortSignal): AsyncIterable<Uint8Array> {
  for await (const part of stream) {
    await throttle.take(part.length, signal);
    yield part;
  }
}
