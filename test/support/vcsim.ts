import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import https from 'node:https';
import path from 'node:path';
import { promisify } from 'node:util';
import { createHash, X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { readDatastoreFile, writeDatastoreFile, type DatastoreFile } from '../../src/vsphere/datastore-files.js';
import { retrieveFromContainer, stringValue } from '../../src/vsphere/property-collector.js';
import { VsphereSession } from '../../src/vsphere/session.js';
import { captureVmConfig } from '../../src/vsphere/vm-config.js';
import { reconfigureVm } from '../../src/vsphere/vm-lifecycle.js';
import { typed, type ManagedObjectReference } from '../../src/vsphere/xml.js';

/**
 * VMware's simulator (vcsim), built from Debian's govmomi by our fixture in
 * test/fixtures/vcsim, started on a free loopback port for a test file and
 * stopped by it. See docs/vsphere.md for what it simulates.
 */

const execFileAsync = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..', '..');
const SOURCES = path.join(ROOT, 'test', 'fixtures', 'vcsim');
export const VCSIM_CACHE = process.env.RAMPART_VCSIM_CACHE ?? path.join(ROOT, '.cache', 'vcsim');
export const VCSIM_BINARY = path.join(VCSIM_CACHE, 'vcsim');
export const haveGo = existsSync('/usr/share/gocode/src/github.com/vmware/govmomi/simulator');

export const VCSIM_USER = 'administrator@vsphere.local';
export const VCSIM_PASSWORD = 'Vcsim-Passw0rd!';

export interface Vcsim {
  /** https://127.0.0.1:<port>/sdk */
  url: string;
  host: string;
  port: number;
  username: string;
  password: string;
  /** SHA-1 thumbprint of the served certificate, colon-separated upper-case hex (as the probe stores it). */
  thumbprint: string;
  output(): string;
  stop(): Promise<void>;
}

async function newestSourceTime(): Promise<number> {
  let newest = 0;
  for (const name of await readdir(SOURCES)) {
    if (name.endsWith('.go')) newest = Math.max(newest, (await stat(path.join(SOURCES, name))).mtimeMs);
  }
  return newest;
}

/** Builds the fixture unless the cached binary is newer than its sources (about 12 s cold, 1 s warm). */
export async function buildVcsim(): Promise<string> {
  const built = await stat(VCSIM_BINARY).catch(() => undefined);
  if (built && built.mtimeMs >= (await newestSourceTime())) return VCSIM_BINARY;
  await mkdir(VCSIM_CACHE, { recursive: true });
  // Build under a private name, then rename: test files started in parallel never see half a binary.
  const temp = `${VCSIM_BINARY}.${process.pid}`;
  await execFileAsync('go', ['build', '-o', temp, '.'], {
    cwd: SOURCES,
    env: { ...process.env, GO111MODULE: 'off', GOPATH: '/usr/share/gocode' },
    timeout: 300_000,
  });
  await rename(temp, VCSIM_BINARY);
  return VCSIM_BINARY;
}

function servedThumbprint(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host, port, rejectUnauthorized: false }, () => {
      const cert = new X509Certificate(socket.getPeerCertificate().raw);
      socket.end();
      resolve(cert.fingerprint);
    });
    socket.on('error', reject);
  });
}

function aboutAnswers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = https.get(new URL('/about', url), { rejectUnauthorized: false, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
  });
}

export interface VcsimOptions {
  /** Add QueryChangedDiskAreas (changed-block tracking) to every VM. */
  cbt?: boolean;
  username?: string;
  password?: string;
  /** Address to listen on: 127.0.0.1 by default; `::` reaches it on every loopback address (127.0.0.x, ::1). */
  listen?: string;
  /** The served certificate and key (PEM); the simulator's built-in one when absent (the same in every instance). */
  certPem?: string;
  keyPem?: string;
  /** Names of VMs whose VMware Tools do not run: the simulator refuses a quiesced snapshot of them (ToolsUnavailable). */
  toolsNotRunning?: string[];
}

export async function startVcsim(options: VcsimOptions = {}): Promise<Vcsim> {
  const binary = await buildVcsim();
  const username = options.username ?? VCSIM_USER;
  const password = options.password ?? VCSIM_PASSWORD;
  const args = ['-port', '0', '-username', username, '-password', password];
  if (options.cbt) args.push('-cbt');
  if (options.listen) args.push('-host', options.listen);
  if (options.toolsNotRunning?.length) args.push('-tools-not-running', options.toolsNotRunning.join(','));
  let tlsDir: string | undefined;
  if (options.certPem && options.keyPem) {
    tlsDir = await mkdtemp(path.join(tmpdir(), 'rampart-vcsim-'));
    await writeFile(path.join(tlsDir, 'cert.pem'), options.certPem);
    await writeFile(path.join(tlsDir, 'key.pem'), options.keyPem, { mode: 0o600 });
    args.push('-tlscert', path.join(tlsDir, 'cert.pem'), '-tlskey', path.join(tlsDir, 'key.pem'));
  }
  const child: ChildProcess = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    if (tlsDir) await rm(tlsDir, { recursive: true, force: true });
  };
  try {
    let url: string | undefined;
    for (let i = 0; i < 200 && !url; i++) {
      if (child.exitCode !== null) throw new Error(`vcsim exited with ${child.exitCode}:\n${out}`);
      url = /^VCSIM_URL=(\S+)$/m.exec(out)?.[1];
      if (!url) await new Promise((r) => setTimeout(r, 25));
    }
    if (!url) throw new Error(`vcsim printed no URL:\n${out}`);
    for (let i = 0; !(await aboutAnswers(url)); i++) {
      if (i > 100) throw new Error(`vcsim did not answer /about:\n${out}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    const { port } = new URL(url);
    // Listening on every address, vcsim prints a LAN address: tests talk to it over loopback.
    const host = '127.0.0.1';
    url = `https://${host}:${port}/sdk`;
    return {
      url,
      host,
      port: Number(port),
      username,
      password,
      thumbprint: await servedThumbprint(host, Number(port)),
      output: () => out,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

export interface PreparedDisk {
  vm: string;
  vmRef: ManagedObjectReference;
  key: number;
  label: string;
  capacityInBytes: number;
  file: DatastoreFile;
  /** What was written to the disk's flat file. */
  content: Buffer;
}

/** Deterministic bytes, different per seed: the first half pseudo-random, the second half zeros (like a half-used disk). */
export function diskContent(seed: string, size: number): Buffer {
  const out = Buffer.alloc(size);
  const randomBytes = Math.floor(size / 2);
  for (let offset = 0, counter = 0; offset < randomBytes; counter++) {
    const block = createHash('sha256').update(`${seed}/${counter}`).digest();
    offset += block.copy(out, offset, 0, Math.min(block.length, randomBytes - offset));
  }
  return out;
}

export function vcsimTarget(vcsim: Vcsim) {
  return { host: vcsim.host, port: vcsim.port, thumbprint: vcsim.thumbprint };
}

export function vcsimSession(vcsim: Vcsim): Promise<VsphereSession> {
  return VsphereSession.login(vcsimTarget(vcsim), { username: vcsim.username, password: vcsim.password });
}

/**
 * vcsim's disks are 1 MiB of nothing: give every VM's disks a real size
 * (ReconfigVM edit of capacityInKB) and content (datastore PUT of the
 * -flat.vmdk), as an administrator's VMs would have.
 */
export async function prepareDisks(vcsim: Vcsim, options: { sizeBytes?: number; content?: (vm: string, key: number, size: number) => Buffer } = {}): Promise<PreparedDisk[]> {
  const size = options.sizeBytes ?? 4 * 1024 * 1024;
  const session = await vcsimSession(vcsim);
  try {
    const vms = await retrieveFromContainer(session, [{ type: 'VirtualMachine', pathSet: ['name'] }]);
    const prepared: PreparedDisk[] = [];
    for (const { obj } of vms) {
      const config = await captureVmConfig(session, obj);
      for (const disk of config.disks) {
        await reconfigureVm(session, obj, {
          deviceChange: typed('VirtualDeviceConfigSpec', {
            operation: 'edit',
            device: typed('VirtualDisk', {
              key: disk.key,
              // vcsim dereferences deviceInfo on edit: send it as vCenter itself reports it.
              deviceInfo: typed('Description', { label: disk.label, summary: '' }),
              backing: typed('VirtualDiskFlatVer2BackingInfo', { fileName: disk.fileName, diskMode: disk.diskMode ?? 'persistent', thinProvisioned: disk.thinProvisioned ?? true }),
              controllerKey: disk.controllerKey,
              unitNumber: disk.unitNumber,
              capacityInKB: Math.ceil(size / 1024),
              capacityInBytes: size,
            }),
          }),
        });
        const content = options.content ? options.content(config.name, disk.key, size) : diskContent(`${config.name}/${disk.key}`, size);
        const file = { datacenter: config.datacenter, datastore: disk.datastore.name, path: disk.flatPath };
        await writeDatastoreFile(session, file, content, content.length);
        prepared.push({ vm: config.name, vmRef: obj, key: disk.key, label: disk.label, capacityInBytes: size, file, content });
      }
    }
    return prepared;
  } finally {
    await session.logout();
  }
}

/** The named VM's disks as the simulator serves them (its datastore file API), hashed; undefined when there is no such VM. */
export async function vmDiskHashes(vcsim: Vcsim, name: string): Promise<string[] | undefined> {
  const session = await vcsimSession(vcsim);
  try {
    const vms = await retrieveFromContainer(session, [{ type: 'VirtualMachine', pathSet: ['name'] }]);
    const vm = vms.find((o) => stringValue(o.props.get('name')) === name);
    if (!vm) return undefined;
    const config = await captureVmConfig(session, vm.obj);
    const out: string[] = [];
    for (const d of config.disks) {
      const { stream } = await readDatastoreFile(session, { datacenter: config.datacenter, datastore: d.datastore.name, path: d.flatPath });
      const hash = createHash('sha256');
      for await (const part of stream) hash.update(part as Buffer);
      out.push(hash.digest('hex'));
    }
    return out;
  } finally {
    await session.logout();
  }
}

/** The names of the simulator's datastores. */
export async function datastoreNames(vcsim: Vcsim): Promise<string[]> {
  const session = await vcsimSession(vcsim);
  try {
    const all = await retrieveFromContainer(session, [{ type: 'Datastore', pathSet: ['name'] }]);
    return all.map((o) => stringValue(o.props.get('name')) ?? '');
  } finally {
    await session.logout();
  }
}
