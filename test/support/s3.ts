import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
// s3rver ships no types; its constructor and run/close are all the tests use.
// @ts-expect-error no declaration file
import S3rver from 's3rver';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SOSAPI_SYSTEM_FOLDER } from '../../src/storage/sosapi.js';

/** s3rver's built-in account. */
export const S3_ACCESS_KEY = 'S3RVER';
export const S3_SECRET_KEY = 'S3RVER';

export interface LocalS3 {
  endpoint: string;
  port: number;
  client: S3Client;
  putCapacityXml(bucket: string, figures: { capacity: number; available: number; used: number }, folder?: string): Promise<void>;
  stop(): Promise<void>;
}

/** A real S3-protocol server (s3rver, files in a temp folder) on a free loopback port. */
export async function startLocalS3(buckets: string[]): Promise<LocalS3> {
  const directory = await mkdtemp(path.join(tmpdir(), 'rampart-s3-'));
  const server = new S3rver({ port: 0, address: '127.0.0.1', directory, silent: true, configureBuckets: buckets.map((name) => ({ name })) });
  const address = (await server.run()) as { port: number };
  const endpoint = `http://127.0.0.1:${address.port}`;
  const client = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: { accessKeyId: S3_ACCESS_KEY, secretAccessKey: S3_SECRET_KEY } });
  return {
    endpoint,
    port: address.port,
    client,
    async putCapacityXml(bucket, f, folder) {
      const key = `${folder ? `${folder}/` : ''}${SOSAPI_SYSTEM_FOLDER}/capacity.xml`;
      const body = `<?xml version="1.0" encoding="utf-8" ?>\n<CapacityInfo>\n  <Capacity>${f.capacity}</Capacity>\n  <Available>${f.available}</Available>\n  <Used>${f.used}</Used>\n</CapacityInfo>\n`;
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    },
    async stop() {
      client.destroy();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

export interface SwitchableProxy {
  port: number;
  /** From now on, new connections are accepted and never answered (a service point that stopped answering). */
  hang(): void;
  /** Forward again. */
  resume(): void;
  stop(): Promise<void>;
}

/** A TCP proxy on a loopback port that forwards to `targetPort`, or swallows connections when told to hang. */
export async function startSwitchableProxy(targetPort: number): Promise<SwitchableProxy> {
  let hanging = false;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    if (hanging) return;
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    hang() {
      hanging = true;
      // Kept-alive connections would still forward: drop them so every new request meets the hang.
      for (const s of sockets) s.destroy();
    },
    resume() {
      hanging = false;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port that accepts connections and never answers: the bench's "host that stopped answering". */
export async function startBlackHole(): Promise<{ port: number; stop(): Promise<void> }> {
  const proxy = await startSwitchableProxy(1);
  proxy.hang();
  return { port: proxy.port, stop: proxy.stop };
}
