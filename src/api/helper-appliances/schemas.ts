import { Type } from 'typebox';
import { PaginationSchema } from '../../http/paging.js';

export const ApplianceParams = Type.Object({
  id: Type.String({ format: 'uuid', description: 'Cloud credentials record ID.' }),
  applianceId: Type.String({ format: 'uuid', description: 'Helper appliance ID.' }),
});

/** 1.3 adds skip and limit to the list. */
export const AppliancesQuery = Type.Object({
  skip: Type.Optional(Type.Integer({ minimum: 0 })),
  limit: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000 })),
});

/**
 * AzureLinuxHelperApplianceSpec (CloudHelperApplianceSpec with type AzureCompute). The
 * service checks each field against Azure's naming rules and names the one that is wrong.
 */
export const HelperApplianceSpec = Type.Object(
  {
    type: Type.String({ description: 'AzureCompute (the only type with helper appliances).' }),
    subscriptionId: Type.String({ format: 'uuid', description: 'The Azure subscription ID.' }),
    location: Type.Optional(Type.String({ maxLength: 64 })),
    storageAccount: Type.Optional(Type.String({ maxLength: 64 })),
    resourceGroup: Type.Optional(Type.String({ maxLength: 128 })),
    virtualNetwork: Type.Optional(Type.String({ maxLength: 128 })),
    subnet: Type.Optional(Type.String({ maxLength: 128 })),
    SSHPort: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
  },
  { additionalProperties: true },
);

export const HelperApplianceModel = Type.Object({
  type: Type.Literal('AzureCompute'),
  id: Type.String({ format: 'uuid' }),
  subscriptionId: Type.String({ format: 'uuid' }),
  vmName: Type.String(),
  location: Type.String(),
  storageAccount: Type.Optional(Type.String()),
  resourceGroup: Type.String(),
  virtualNetwork: Type.Optional(Type.String()),
  subnet: Type.Optional(Type.String()),
  SSHPort: Type.Integer(),
});

export const HelperAppliancesResult = Type.Object({ data: Type.Array(HelperApplianceModel), pagination: PaginationSchema });
