import { randomBytes } from 'node:crypto';
import type { BlockSource } from './block-source.js';
import type { NbdServer } from './server.js';

/** setTimeout's ceiling (about 24.8 days); longer lifetimes re-arm the timer. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface PublishOptions {
  /** How long the export lives, in milliseconds. */
  ttlMs: number;
  /** What the logs call it (e.g. the restore point id): the name is a secret and is never logged. */
  logLabel: string;
  description?: string;
  /** Refuse clients that did not upgrade with STARTTLS (needs a server with a certificate). */
  requireTls?: boolean;
  /** Called once the export is gone, by expiry or by `unpublish`. */
  onClosed?: (reason: 'expired' | 'unpublished') => void;
}

export interface PublishedExport {
  /** The export name: 256 random bits, the only credential a client needs, so treat it as a secret. */
  readonly name: string;
  readonly expiresAt: Date;
  /** A libnbd URI for `nbdcopy`, `nbdinfo` and `qemu-img convert`. */
  readonly uri: string;
}

/**
 * Read-only, time-limited NBD exports of restore points for other tools. The export name is
 * an unguessable token (not listed by NBD_OPT_LIST), so whoever holds it can read the disk until
 * it expires; expiry removes the export and disconnects its clients mid-copy.
 */
export class ExportPublisher {
  private readonly live = new Map<string, { timer: NodeJS.Timeout; options: PublishOptions }>();

  constructor(private readonly server: NbdServer) {}

  publish(source: BlockSource, options: PublishOptions): PublishedExport {
    if (!Number.isFinite(options.ttlMs) || options.ttlMs <= 0) throw new RangeError('ttlMs must be a positive number of milliseconds');
    const name = randomBytes(32).toString('base64url');
    const expiresAt = new Date(Date.now() + options.ttlMs);
    this.server.addExport({
      name,
      device: source,
      readOnly: true,
      listed: false,
      requireTls: options.requireTls ?? false,
      logLabel: `published ${options.logLabel}`,
      ...(options.description !== undefined ? { description: options.description } : {}),
    });
    this.live.set(name, { timer: this.arm(name, expiresAt), options });
    return { name, expiresAt, uri: this.server.uri(name, (options.requireTls ?? false) || this.server.tlsRequired) };
  }

  isPublished(name: string): boolean {
    return this.live.has(name);
  }

  /** Ends an export before its time; its clients are disconnected. */
  unpublish(name: string): Promise<void> {
    return this.end(name, 'unpublished');
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.live.keys()].map((name) => this.end(name, 'unpublished')));
  }

  private arm(name: string, expiresAt: Date): NodeJS.Timeout {
    const wait = Math.max(0, Math.min(MAX_TIMER_MS, expiresAt.getTime() - Date.now()));
    const timer = setTimeout(() => {
      const entry = this.live.get(name);
      if (!entry) return;
      if (Date.now() < expiresAt.getTime()) entry.timer = this.arm(name, expiresAt);
      else void this.end(name, 'expired');
    }, wait);
    // An export must not keep the process alive on its own.
    timer.unref();
    return timer;
  }

  private async end(name: string, reason: 'expired' | 'unpublished'): Promise<void> {
    const entry = this.live.get(name);
    if (!entry) return;
    this.live.delete(name);
    clearTimeout(entry.timer);
    await this.server.removeExport(name);
    entry.options.onClosed?.(reason);
  }
}
