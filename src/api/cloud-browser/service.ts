import { ApiError, badRequest } from '../../http/errors.js';
import type { Store } from '../../store/database.js';
import { readSetting } from '../../store/settings.js';
import { createFolder, listBuckets, listFolders } from '../../storage/cloud-browser.js';
import { amazonEndpoint, servicePointUrl, wasabiEndpoint, type ObjectStorageTarget, type PublicCloudEndpoints } from '../../storage/object-endpoint.js';
import { describeS3Failure, objectStorageClient } from '../../storage/object-storage.js';
import type { CloudCredentialsService } from '../cloud-credentials/service.js';
import type { CloudBrowserNewFolderSpec, CloudBrowserSpec } from './schemas.js';

/** Service types browsed through the S3 protocol; the others are refused with a 400 naming them. */
const S3_TYPES = new Set(['S3Compatible', 'AmazonS3', 'WasabiCloud']);

export interface CloudBrowserDeps {
  store: Store;
  cloudCredentials: CloudCredentialsService;
  timeoutMs: number;
  endpoints: PublicCloudEndpoints;
}

interface Where {
  serviceType: string;
  regionType?: string | undefined;
  regionId?: string | undefined;
  servicePoint?: string | undefined;
}

/** Browses the buckets and folders a cloud credentials record reaches, and creates folders in them. */
export class CloudBrowserService {
  constructor(private readonly deps: CloudBrowserDeps) {}

  private async target(credentialsId: string, where: Where, bucket = ''): Promise<ObjectStorageTarget> {
    if (!S3_TYPES.has(where.serviceType))
      throw badRequest(`serviceType: ${where.serviceType} cannot be browsed yet; Rampart browses S3Compatible, AmazonS3 and WasabiCloud storage.`);
    const row = await this.deps.cloudCredentials.get(credentialsId).catch(() => {
      throw badRequest(`credentialsId: no cloud credentials record ${credentialsId}.`, credentialsId);
    });
    if (row.type !== 'Amazon') throw badRequest(`credentialsId: ${where.serviceType} needs an Amazon (access key) cloud credentials record, not ${row.type}.`, credentialsId);
    const secrets = await this.deps.cloudCredentials.secretsFor(credentialsId);
    const base = { bucket, folder: '', accessKey: row.access_key ?? '', secretKey: secrets.secretKey ?? '' };
    const region = where.regionId?.trim() || 'us-east-1';
    if (where.serviceType === 'S3Compatible') {
      if (!where.servicePoint) throw badRequest('servicePoint: required for S3Compatible storage.');
      let endpoint: string;
      try {
        endpoint = servicePointUrl(where.servicePoint);
      } catch (err) {
        throw badRequest(`servicePoint: ${(err as Error).message}.`);
      }
      return { ...base, endpoint, region, forcePathStyle: true };
    }
    if (where.serviceType === 'WasabiCloud') {
      if (!where.regionId) throw badRequest('regionId: required for WasabiCloud storage.');
      try {
        return { ...base, region, ...wasabiEndpoint(where.regionId, this.deps.endpoints.wasabi) };
      } catch (err) {
        throw badRequest(`regionId: ${(err as Error).message}.`);
      }
    }
    if (!where.regionType) throw badRequest('regionType: required for AmazonS3 storage.');
    return { ...base, region, endpoint: amazonEndpoint(region, where.regionType), forcePathStyle: false };
  }

  private async hostId(requested: string | undefined): Promise<string> {
    return requested ?? (await readSetting(this.deps.store.db, 'backup_server_id')) ?? '';
  }

  /** POST /cloudBrowser: every bucket (or the filtered one) with its top-level folders, grouped under the region asked for. */
  async browse(spec: CloudBrowserSpec) {
    const regionId = spec.filters?.regionId ?? spec.regionId;
    const target = await this.target(spec.credentialsId, { ...spec, regionId });
    const client = objectStorageClient(target, this.deps.timeoutMs);
    const signal = AbortSignal.timeout(this.deps.timeoutMs * 10);
    try {
      const names = await listBuckets(client, signal, spec.filters?.bucketName);
      const buckets = [];
      for (const name of names) buckets.push({ name, folders: await listFolders(client, name, signal) });
      const region = regionId?.trim() || target.region;
      return {
        credentialsId: spec.credentialsId,
        serviceType: spec.serviceType,
        hostId: await this.hostId(spec.gatewayServerId),
        ...(spec.serviceType === 'AmazonS3' ? { regionType: spec.regionType } : {}),
        ...(spec.serviceType === 'S3Compatible' ? { connectionPoint: spec.servicePoint } : {}),
        regions: [{ id: region, name: region, buckets }],
      };
    } catch (err) {
      if (err instanceof ApiError) throw err;
      throw badRequest(describeS3Failure(err, target));
    } finally {
      client.destroy();
    }
  }

  /** POST /cloudBrowser/newFolder: an empty `<name>/` object in the bucket. */
  async newFolder(spec: CloudBrowserNewFolderSpec): Promise<void> {
    const name = spec.newFolderName.trim();
    // One level, as Veeam's dialog creates it; no path tricks, no control characters.
    if (name === '' || name === '.' || name === '..' || /[/\\]/.test(name) || [...name].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) {
      throw badRequest('newFolderName: one folder name without slashes or control characters.');
    }
    if (!spec.bucketName) throw badRequest('bucketName: required.');
    const target = await this.target(spec.credentialsId, { ...spec, servicePoint: spec.connectionPoint ?? spec.servicePoint }, spec.bucketName);
    const client = objectStorageClient(target, this.deps.timeoutMs);
    try {
      const signal = AbortSignal.timeout(this.deps.timeoutMs);
      if ((await listFolders(client, spec.bucketName, signal)).includes(name))
        throw badRequest(`newFolderName: the folder "${name}" already exists in bucket "${spec.bucketName}".`);
      await createFolder(client, spec.bucketName, name, signal);
    } catch (err) {
      if (err instanceof ApiError) throw err;
      throw badRequest(describeS3Failure(err, target));
    } finally {
      client.destroy();
    }
  }
}
