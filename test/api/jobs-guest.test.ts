import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionWaiters } from '../support/sessions.js';
import { startVsphereLab, stopVsphereLab, type VsphereLab } from '../support/vsphere-lab.js';
import { backupJobSpec, vmObject as vmObjectOf } from '../support/vsphere-specs.js';

/**
 * Job settings acted on by runs, against vcsim through the API: VMware Tools quiescence
 * (with the crash-consistent fallback when the simulator refuses it), application-aware
 * processing without a guest agent, guest indexing reported as ignored, synthetic fulls.
 */

const MiB = 1024 * 1024;
// The fixture's VMware Tools do not run in this VM: a quiesced snapshot of it fails (ToolsUnavailable).
const NO_TOOLS_VM = 'DC0_H0_VM1';
const TOOLS_VM = 'DC0_H0_VM0';
const DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

let lab: VsphereLab;

const { finished, logText } = sessionWaiters(() => lab);

const diskOf = (vm: string) => lab.disks.find((d) => d.vm === vm)!;

function spec(name: string, vm: string, extra: { advanced?: Record<string, unknown>; guestProcessing?: Record<string, unknown> } = {}) {
  return backupJobSpec(name, diskOf(vm), lab.repositoryId, {
    restorePoints: 7,
    storage: { advancedSettings: { backupModeType: 'Incremental', ...extra.advanced } },
    guestProcessing: extra.guestProcessing,
  });
}

async function createJob(body: unknown): Promise<string> {
  const res = await lab.t.api.post('/api/v1/jobs', { token: lab.token, json: body });
  expect(res.status, res.text).toBe(201);
  return res.body.id as string;
}

async function run(jobId: string) {
  const start = await lab.t.api.post(`/api/v1/jobs/${jobId}/start`, { token: lab.token, json: { performActiveFull: false } });
  expect(start.status, start.text).toBe(201);
  const done = await finished(start.body.id);
  return { id: start.body.id as string, result: done.result.result as string, message: done.result.message as string, log: await logText(start.body.id) };
}

/** The snapshots vcsim took of a VM since `from` (its stdout), with what it recorded. */
function snapshotsSeen(vm: string, from: number): string[] {
  return lab.vcsim
    .output()
    .slice(from)
    .split('\n')
    .filter((l) => l.startsWith(`VCSIM_SNAPSHOT vm=${vm} `));
}

async function restorePoints(jobId: string) {
  const backup = (await lab.t.api.get(`/api/v1/backups?jobIdFilter=${jobId}`, { token: lab.token })).body.data[0];
  if (!backup) return [];
  const res = await lab.t.api.get(`/api/v1/restorePoints?backupIdFilter=${backup.id}&orderColumn=CreationTime&orderAsc=true`, { token: lab.token, version: '1.2-rev1' });
  expect(res.status, res.text).toBe(200);
  return res.body.data as { id: string; type: string; sessionId: string }[];
}

/** The body of a restore point's manifest in the repository (not encrypted in these tests). */
async function manifestOf(restorePointId: string) {
  const files = (await readdir(path.join(lab.root, 'repo', 'rampart', 'backups'), { recursive: true })).map(String);
  const file = files.find((f) => f.endsWith(path.join(restorePointId, 'manifest.json')));
  expect(file, `manifest of ${restorePointId}`).toBeDefined();
  const outer = JSON.parse(await readFile(path.join(lab.root, 'repo', 'rampart', 'backups', file!), 'utf8'));
  return JSON.parse(outer.body) as { kind: string; synthetic?: boolean; disks: { newChunks: number }[] };
}

beforeAll(async () => {
  lab = await startVsphereLab({ name: 'jobs-guest', diskBytes: 4 * MiB, vcsim: { toolsNotRunning: [NO_TOOLS_VM] } });
}, 120_000);

afterAll(() => stopVsphereLab(lab));

describe('VMware Tools quiescence', () => {
  it('with enableVMWareToolsQuiescence the snapshot is quiesced (vcsim records it); without it, it is not', async () => {
    const vm = diskOf(TOOLS_VM).vmRef.value;
    const quiet = await createJob(spec('Quiesced', TOOLS_VM, { advanced: { vSphere: { enableVMWareToolsQuiescence: 'true' } } }));
    let from = lab.vcsim.output().length;
    const first = await run(quiet);
    expect(first.result, first.log).toBe('Success');
    const seen = snapshotsSeen(vm, from);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatch(/quiesced=true$/);
    // The snapshot the session names is the one vcsim recorded as quiesced.
    const snapshot = /snapshot=(\S+)/.exec(seen[0]!)![1]!;
    expect(first.log).toContain(`Succeeded: Creating snapshot ${snapshot}, quiesced by VMware Tools`);

    const plain = await createJob(spec('Crash-consistent', TOOLS_VM));
    from = lab.vcsim.output().length;
    const second = await run(plain);
    expect(second.result, second.log).toBe('Success');
    expect(snapshotsSeen(vm, from)).toEqual([expect.stringMatching(/quiesced=false$/)]);
    expect(second.log).not.toContain('quiesced by VMware Tools');
  }, 120_000);

  it('a VM whose VMware Tools do not run is backed up from a crash-consistent snapshot, and the session ends Warning', async () => {
    const vm = diskOf(NO_TOOLS_VM).vmRef.value;
    const job = await createJob(spec('No tools', NO_TOOLS_VM, { advanced: { vSphere: { enableVMWareToolsQuiescence: true } } }));
    const from = lab.vcsim.output().length;
    const done = await run(job);
    expect(done.result, done.log).toBe('Warning');
    expect(done.message).toContain(`${NO_TOOLS_VM}: crash-consistent snapshot (quiescing failed`);
    expect(done.log).toMatch(new RegExp(`Warning: Failed to quiesce ${NO_TOOLS_VM} through VMware Tools; creating a crash-consistent snapshot instead .*ToolsUnavailable`));
    // The refusal, then the snapshot the backup used, not quiesced.
    expect(snapshotsSeen(vm, from)).toEqual([`VCSIM_SNAPSHOT vm=${vm} refused=ToolsUnavailable`, expect.stringMatching(/quiesced=false$/)]);
    expect(await restorePoints(job)).toHaveLength(1);
  }, 120_000);
});

describe('application-aware processing and guest indexing', () => {
  it('quiesces through VMware Tools and says once per VM what is not done (Info when nothing more was asked)', async () => {
    const vm = diskOf(TOOLS_VM).vmRef.value;
    const job = await createJob(spec('App-aware', TOOLS_VM, { guestProcessing: { appAwareProcessing: { isEnabled: true }, guestFSIndexing: { isEnabled: false } } }));
    const from = lab.vcsim.output().length;
    const done = await run(job);
    expect(done.result, done.log).toBe('Success');
    expect(snapshotsSeen(vm, from)).toEqual([expect.stringMatching(/quiesced=true$/)]);
    const lines = done.log.split('\n').filter((l) => l.includes('Application-aware processing'));
    expect(lines).toEqual([expect.stringMatching(new RegExp(`^Succeeded: Application-aware processing of ${TOOLS_VM} through VMware Tools quiescence .*no guest agent`))]);
  }, 120_000);

  it('a Warning names the application settings that are ignored; indexing is a Warning per run', async () => {
    const d = diskOf(TOOLS_VM);
    const job = await createJob(
      spec('App-aware asks more', TOOLS_VM, {
        guestProcessing: {
          appAwareProcessing: {
            isEnabled: 'true',
            appSettings: [
              {
                vmObject: vmObjectOf(d),
                vss: 'requireSuccess',
                transactionLogs: 'process',
                sql: { logsProcessing: 'truncate' },
                scripts: { scriptProcessingMode: 'requireSuccess' },
              },
            ],
          },
          guestFSIndexing: { isEnabled: true },
        },
      }),
    );
    const done = await run(job);
    expect(done.result, done.log).toBe('Warning');
    expect(done.log.match(/Guest file system indexing is not supported by Rampart; the setting is ignored/g)).toHaveLength(1);
    expect(done.log).toContain(
      `Warning: Application-aware processing of ${TOOLS_VM}: transaction log processing, SQL Server transaction log truncation, pre-freeze/post-thaw scripts are not supported by Rampart; the settings are ignored`,
    );
    expect(await restorePoints(job)).toHaveLength(1);
  }, 120_000);

  it('when the VM cannot be quiesced: requireSuccess (the default) fails the VM, ignoreFailures falls back with a warning', async () => {
    const d = diskOf(NO_TOOLS_VM);
    const vmObject = vmObjectOf(d);
    const strict = await createJob(spec('App-aware strict', NO_TOOLS_VM, { guestProcessing: { appAwareProcessing: { isEnabled: true }, guestFSIndexing: { isEnabled: false } } }));
    const failed = await run(strict);
    expect(failed.result, failed.log).toBe('Failed');
    expect(failed.message).toMatch(new RegExp(`${NO_TOOLS_VM}: Cannot create a quiesced snapshot, which application-aware processing of this VM requires: .*ToolsUnavailable`));
    expect(await restorePoints(strict)).toHaveLength(0);

    const lenient = await createJob(
      spec('App-aware lenient', NO_TOOLS_VM, {
        guestProcessing: { appAwareProcessing: { isEnabled: true, appSettings: [{ vmObject, vss: 'IgnoreFailures' }] }, guestFSIndexing: { isEnabled: false } },
      }),
    );
    const warned = await run(lenient);
    expect(warned.result, warned.log).toBe('Warning');
    expect(warned.log).toContain(`Warning: Failed to quiesce ${NO_TOOLS_VM} through VMware Tools; creating a crash-consistent snapshot instead`);
    expect(await restorePoints(lenient)).toHaveLength(1);

    // An entry for the host holding the VM applies to it, unless an entry names the VM itself.
    const host = { hostName: '127.0.0.1', name: 'DC0_H0', type: 'Host' };
    const byHost = await createJob(
      spec('App-aware by host', NO_TOOLS_VM, {
        guestProcessing: { appAwareProcessing: { isEnabled: true, appSettings: [{ vmObject: host, vss: 'ignoreFailures' }] }, guestFSIndexing: { isEnabled: false } },
      }),
    );
    expect((await run(byHost)).result).toBe('Warning');
    const vmWins = await createJob(
      spec('App-aware VM entry wins', NO_TOOLS_VM, {
        guestProcessing: {
          appAwareProcessing: {
            isEnabled: true,
            appSettings: [
              { vmObject: host, vss: 'ignoreFailures' },
              { vmObject, vss: 'requireSuccess' },
            ],
          },
          guestFSIndexing: { isEnabled: false },
        },
      }),
    );
    expect((await run(vmWins)).result).toBe('Failed');
  }, 120_000);
});

describe('synthetic fulls', () => {
  it('on a synthetic-full day the first run reads an increment and records a full; on other days and later runs, increments', async () => {
    const today = DAYS[new Date().getDay()]!;
    const otherDay = DAYS[(new Date().getDay() + 3) % 7]!;
    const body = (day: string) => spec('Synthetic', TOOLS_VM, { advanced: { synthenticFulls: { isEnabled: true, weekly: { isEnabled: true, days: [day] } } } });
    const job = await createJob(body(otherDay));
    const first = await run(job);
    const second = await run(job);
    for (const r of [first, second]) expect(r.result, r.log).toBe('Success');
    expect(second.log).not.toContain('synthetic full');

    const put = await lab.t.api.request('PUT', `/api/v1/jobs/${job}`, { token: lab.token, json: { ...body(today), id: job } });
    expect(put.status, put.text).toBe(200);
    const third = await run(job);
    const fourth = await run(job);
    for (const r of [third, fourth]) expect(r.result, r.log).toBe('Success');
    expect(third.log).toContain(`Succeeded: Creating synthetic full backup of ${TOOLS_VM}`);
    // Read as an incremental: nothing new to store.
    expect(third.log).toMatch(/: 0 new chunk\(s\), 0 B stored/);
    expect(fourth.log).not.toContain('synthetic full');

    const points = await restorePoints(job);
    expect(points.map((p) => [p.sessionId, p.type])).toEqual([
      [first.id, 'Full'],
      [second.id, 'Increment'],
      [third.id, 'Full'],
      [fourth.id, 'Increment'],
    ]);
    const synthetic = await manifestOf(points[2]!.id);
    expect(synthetic).toMatchObject({ kind: 'Full', synthetic: true });
    expect(synthetic.disks.every((d) => d.newChunks === 0)).toBe(true);
    expect(await manifestOf(points[0]!.id)).not.toHaveProperty('synthetic');
    expect(await manifestOf(points[3]!.id)).toMatchObject({ kind: 'Increment' });
  }, 180_000);

  it("1.3-rev2's spelling syntheticFulls is accepted and answered to 1.3-rev2 readers; the others read synthenticFulls", async () => {
    const settings = { isEnabled: true, weekly: { isEnabled: true, days: ['saturday'] } };
    const body = spec('Synthetic spelling', TOOLS_VM, { advanced: { syntheticFulls: settings } });
    const res = await lab.t.api.post('/api/v1/jobs', { token: lab.token, json: { ...body, type: 'VSphereBackup' }, version: '1.3-rev2' });
    expect(res.status, res.text).toBe(201);
    expect(res.body.storage.advancedSettings.syntheticFulls).toEqual({ isEnabled: true, weekly: { isEnabled: true, days: ['Saturday'] } });
    expect(res.body.storage.advancedSettings).not.toHaveProperty('synthenticFulls');
    const old = await lab.t.api.get(`/api/v1/jobs/${res.body.id}`, { token: lab.token, version: '1.2-rev1' });
    expect(old.body.storage.advancedSettings.synthenticFulls).toEqual(settings);
    expect(old.body.storage.advancedSettings).not.toHaveProperty('syntheticFulls');
    const both = await lab.t.api.post('/api/v1/jobs', {
      token: lab.token,
      json: spec('Synthetic both', TOOLS_VM, { advanced: { syntheticFulls: settings, synthenticFulls: { isEnabled: false } } }),
    });
    expect(both.status).toBe(400);
    expect(both.body.message).toContain('syntheticFulls');
  });
});
