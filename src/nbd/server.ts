import { chmod, rm } from 'node:fs/promises';
import net from 'node:net';
import type tls from 'node:tls';
import type { Duplex } from 'node:stream';
import pino, { type Logger } from 'pino';
import { serveExport, type ExportOptions, type ServedExport } from './exports.js';
import { negotiate } from './negotiation.js';
import { serveTransmission } from './transmission.js';

/** A client must have picked an export within this time, or it is disconnected. */
const HANDSHAKE_TIMEOUT_MS = 30_000;

export interface NbdServerOptions {
  log?: Logger;
  /**
   * The server certificate for NBD_OPT_STARTTLS (a function, so a swapped certificate is
   * used by the next connection). Without it STARTTLS is refused with NBD_REP_ERR_POLICY.
   */
  tls?: { secureContext: () => tls.SecureContext; required?: boolean };
  /** Connections served at once (each holds at most ~140 MiB, see docs/nbd.md); more are refused. Default 64. */
  maxConnections?: number;
}

export interface ListenOptions {
  /** A Unix socket path (created with mode 0600; a stale file there is replaced). */
  socketPath?: string;
  /** A TCP port (0 = any free one) on `host`. */
  port?: number;
  /** Default 127.0.0.1. Any other address needs `tls.required`: NBD without TLS is plain text. */
  host?: string;
}

interface Client {
  socket: Duplex;
  export?: ServedExport;
  abort: AbortController;
  /** Settles when the connection's handler has finished (in-flight requests included). */
  done?: Promise<void>;
}

/**
 * An NBD server (fixed newstyle, simple replies) for restore points: read-only BlockSources
 * and copy-on-write overlays, several exports and several clients at once.
 */
export class NbdServer {
  private readonly exportsByName = new Map<string, ServedExport>();
  private readonly clients = new Set<Client>();
  private readonly listeners: net.Server[] = [];
  private readonly log: Logger;
  private socketPath: string | undefined;
  private tcpAddress: { host: string; port: number } | undefined;

  constructor(private readonly options: NbdServerOptions = {}) {
    this.log = options.log ?? pino({ level: 'silent' });
  }

  async listen(options: ListenOptions): Promise<void> {
    if (options.socketPath) {
      await rm(options.socketPath, { force: true });
      await this.listenOn((server) => server.listen(options.socketPath));
      await chmod(options.socketPath, 0o600);
      this.socketPath = options.socketPath;
    }
    if (options.port !== undefined) {
      const host = options.host ?? '127.0.0.1';
      if (!isLoopback(host) && !this.options.tls?.required) throw new Error(`NBD on ${host} needs required TLS: without it, disk bytes cross the network in clear`);
      const server = await this.listenOn((s) => s.listen(options.port, host));
      const address = server.address();
      if (address && typeof address === 'object') this.tcpAddress = { host, port: address.port };
    }
  }

  /** Whether clients can upgrade with NBD_OPT_STARTTLS (the server has a certificate). */
  get tlsAvailable(): boolean {
    return this.options.tls !== undefined;
  }

  /** FORCEDTLS: clients must upgrade before anything else. */
  get tlsRequired(): boolean {
    return this.options.tls?.required ?? false;
  }

  /** Where clients connect, as libnbd URI parts. */
  get address(): { socketPath?: string; host?: string; port?: number } {
    return { ...(this.socketPath ? { socketPath: this.socketPath } : {}), ...(this.tcpAddress ?? {}) };
  }

  /** `nbd+unix:///name?socket=…` (or `nbd://host:port/name`) for clients such as nbdcopy and qemu-img. */
  uri(name: string, tls = false): string {
    const scheme = tls ? 'nbds' : 'nbd';
    const encoded = encodeURIComponent(name);
    if (this.socketPath) return `${scheme}+unix:///${encoded}?socket=${encodeURIComponent(this.socketPath)}`;
    if (this.tcpAddress) return `${scheme}://${this.tcpAddress.host}:${this.tcpAddress.port}/${encoded}`;
    throw new Error('the server is not listening');
  }

  addExport(options: ExportOptions): ServedExport {
    if (this.exportsByName.has(options.name)) throw new Error('an export with this name exists already');
    if (options.requireTls && !this.tlsAvailable) throw new Error('an export that requires TLS needs a server with a certificate');
    const served = serveExport(options);
    this.exportsByName.set(served.name, served);
    return served;
  }

  hasExport(name: string): boolean {
    return this.exportsByName.has(name);
  }

  /** Number of clients currently attached to an export (handshake done). */
  connectionCount(name: string): number {
    let n = 0;
    for (const c of this.clients) if (c.export?.name === name) n++;
    return n;
  }

  /** Removes an export and disconnects its clients; their in-flight reads are aborted. */
  async removeExport(name: string): Promise<void> {
    const served = this.exportsByName.get(name);
    if (!served) return;
    this.exportsByName.delete(name);
    const closing: Promise<void>[] = [];
    for (const client of this.clients) if (client.export === served) closing.push(this.disconnect(client));
    await Promise.all(closing);
  }

  async close(): Promise<void> {
    // net.Server.close reports only once every connection has ended: stop accepting, cut the clients, then wait.
    const stopped = Promise.all(this.listeners.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    this.listeners.length = 0;
    await Promise.all([...this.clients].map((c) => this.disconnect(c)));
    await stopped;
    this.exportsByName.clear();
    if (this.socketPath) await rm(this.socketPath, { force: true });
  }

  /** Cuts the connection, aborts its in-flight reads, and waits until its handler is done. */
  private async disconnect(client: Client): Promise<void> {
    client.abort.abort();
    client.socket.destroy();
    await client.done;
  }

  private listenOn(start: (server: net.Server) => void): Promise<net.Server> {
    const server = net.createServer((socket) => this.accept(socket));
    this.listeners.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.once('listening', () => {
        server.off('error', reject);
        resolve(server);
      });
      start(server);
    });
  }

  private accept(socket: net.Socket): void {
    socket.on('error', () => {}); // reported through the reader; never an unhandled 'error'
    if (this.clients.size >= (this.options.maxConnections ?? 64)) {
      this.log.warn({ limit: this.options.maxConnections ?? 64 }, 'NBD connection refused: too many clients');
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const client: Client = { socket, abort: new AbortController() };
    this.clients.add(client);
    client.done = this.serveClient(client, socket).finally(() => this.clients.delete(client));
  }

  private async serveClient(client: Client, socket: net.Socket): Promise<void> {
    const timer = setTimeout(() => socket.destroy(), HANDSHAKE_TIMEOUT_MS);
    try {
      const tlsOptions = this.options.tls;
      const result = await negotiate(socket, {
        lookup: (name) => this.exportsByName.get(name),
        listed: () => [...this.exportsByName.values()].filter((e) => e.listed),
        ...(tlsOptions ? { secureContext: tlsOptions.secureContext } : {}),
        tlsRequired: tlsOptions?.required ?? false,
      });
      clearTimeout(timer);
      if (result.kind === 'closed') {
        this.log.debug({ reason: result.reason }, 'NBD handshake ended');
        socket.end();
        return;
      }
      // The export may have been removed while the client was negotiating.
      if (this.exportsByName.get(result.export.name) !== result.export) {
        result.socket.destroy();
        return;
      }
      client.export = result.export;
      client.socket = result.socket;
      result.socket.on('error', () => {});
      this.log.debug({ export: result.export.logLabel, tls: result.tls }, 'NBD client attached');
      await serveTransmission({ export: result.export, socket: result.socket, reader: result.reader, log: this.log, signal: client.abort.signal });
    } catch (err) {
      this.log.debug({ err: err instanceof Error ? err.message : String(err) }, 'NBD connection failed');
      socket.destroy();
    } finally {
      clearTimeout(timer);
    }
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
