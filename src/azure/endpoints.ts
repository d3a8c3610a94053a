/** Azure regions as the Backup & Replication API names them (EAzureRegionType). */
export const AZURE_REGIONS = ['China', 'Germany', 'Global', 'Government'] as const;
export type AzureRegion = (typeof AZURE_REGIONS)[number];

export interface AzureEndpoints {
  /** Microsoft identity platform, e.g. https://login.microsoftonline.com */
  authorityUrl: string;
  /** Microsoft Graph, e.g. https://graph.microsoft.com */
  graphUrl: string;
  /** Azure Resource Manager, e.g. https://management.azure.com (helper appliances). */
  managementUrl: string;
}

/** The national clouds' sign-in and Graph hosts (Germany's cloud is closed; its hosts are kept for old records). */
const BY_REGION: Record<AzureRegion, AzureEndpoints> = {
  Global: { authorityUrl: 'https://login.microsoftonline.com', graphUrl: 'https://graph.microsoft.com', managementUrl: 'https://management.azure.com' },
  China: { authorityUrl: 'https://login.chinacloudapi.cn', graphUrl: 'https://microsoftgraph.chinacloudapi.cn', managementUrl: 'https://management.chinacloudapi.cn' },
  Government: { authorityUrl: 'https://login.microsoftonline.us', graphUrl: 'https://graph.microsoft.us', managementUrl: 'https://management.usgovcloudapi.net' },
  Germany: { authorityUrl: 'https://login.microsoftonline.de', graphUrl: 'https://graph.microsoft.de', managementUrl: 'https://management.microsoftazure.de' },
};

/** RAMPART_AZURE_AUTHORITY_URL / RAMPART_AZURE_GRAPH_URL / RAMPART_AZURE_MANAGEMENT_URL, when set, replace the hosts of every region. */
export function endpointsFor(region: AzureRegion, overrides: Partial<AzureEndpoints>): AzureEndpoints {
  return {
    authorityUrl: overrides.authorityUrl ?? BY_REGION[region].authorityUrl,
    graphUrl: overrides.graphUrl ?? BY_REGION[region].graphUrl,
    managementUrl: overrides.managementUrl ?? BY_REGION[region].managementUrl,
  };
}
