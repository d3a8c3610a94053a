import { createSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { formatBytes } from '../../mover/bytes.js';
import { RuleThrottle, type Throttle } from '../../mover/throttle.js';
import { objectTarget } from '../repositories/checks.js';
import { settingsOf } from '../repositories/model.js';
import type { RepositoriesService } from '../repositories/service.js';
import { S3_TYPES } from '../repositories/type-catalogue.js';
import type { TrafficRulesService } from '../traffic-rules/service.js';

/**
 * Which traffic rule limits a run's reads, by the two ends of the transfer as traffic
 * rules see them: the source is the vCenter/ESXi host the mover reads disks from (its
 * datastore file API), the target the host that keeps the repository's data: the
 * managed Linux host of an SFTP repository, the object storage endpoint, or, for a
 * folder on the backup server, this server itself at the address it uses toward the source.
 */
export class RunTraffic {
  private readonly targets = new Map<string, Promise<string | undefined>>();

  constructor(
    private readonly deps: { trafficRules: TrafficRulesService; repositories: RepositoriesService },
    private readonly sourceHost: string,
    /** The run's session log. */
    private readonly log: (title: string) => Promise<unknown>,
  ) {}

  private sourceAddress?: Promise<string | undefined>;

  /**
   * The throttle for reading this run's source into a repository, when a rule can apply
   * to these two ends at all; which one applies (if any) follows the windows while the
   * transfer runs, and each switch is logged. An end that cannot be resolved (a name
   * DNS does not know, object storage whose credentials cannot be opened) matches no
   * rule: the backup itself reports such a fault.
   */
  async throttleFor(repositoryId: string): Promise<Throttle | undefined> {
    if (!(await this.deps.trafficRules.anyThrottling())) return undefined;
    this.sourceAddress ??= addressOf(this.sourceHost);
    const source = await this.sourceAddress;
    if (!source) return undefined;
    let target = this.targets.get(repositoryId);
    if (!target) this.targets.set(repositoryId, (target = this.targetAddress(repositoryId, source).catch(() => undefined)));
    const to = await target;
    if (!to || !(await this.deps.trafficRules.throttleFor(source, to, 'any time'))) return undefined;
    return await new RuleThrottle(
      async () => {
        const rule = await this.deps.trafficRules.throttleFor(source, to, new Date());
        return (
          rule && {
            ruleId: rule.ruleId,
            bytesPerSecond: rule.bytesPerSecond,
            reason: `traffic rule "${rule.ruleName}" limits reading from ${source} to ${to} to ${rule.limit} (${formatBytes(rule.bytesPerSecond)}/s)`,
          }
        );
      },
      async (now, before) => {
        if (now) await this.log(`Throttling: ${now.reason}`);
        else if (before) await this.log(`Throttling ends: ${before.reason.replace(/^traffic rule ("[^"]*").*$/, 'traffic rule $1')} is outside its window now`);
      },
    ).start();
  }

  private async targetAddress(repositoryId: string, source: string): Promise<string | undefined> {
    const row = await this.deps.repositories.get(repositoryId);
    const host = await this.deps.repositories.hostOf(row);
    if ((S3_TYPES as readonly string[]).includes(row.type)) {
      const target = await objectTarget(row.type, settingsOf(row), this.deps.repositories.checks.cloudCredentials, this.deps.repositories.checks.endpoints);
      return addressOf(target.endpoint ? new URL(target.endpoint).hostname : `s3.${target.region}.amazonaws.com`);
    }
    if (host && !host.isBackupServer) return addressOf(host.name);
    return localAddressToward(source);
  }
}

/** A host name's address (an address stays itself); undefined when it does not resolve: no rule can then be matched. */
async function addressOf(host: string): Promise<string | undefined> {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  if (isIP(bare)) return bare;
  return (await lookup(bare).catch(() => undefined))?.address;
}

/** The local address the system routes to `remote` from: a UDP socket's connect sends nothing, it only picks the route. */
function localAddressToward(remote: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = createSocket(isIP(remote) === 6 ? 'udp6' : 'udp4');
    socket.on('error', () => {
      socket.close();
      resolve(undefined);
    });
    socket.connect(9, remote, () => {
      const local = socket.address().address;
      socket.close();
      resolve(local);
    });
  });
}
