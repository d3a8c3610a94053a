import { Type } from 'typebox';
import { VMWARE_TYPES_1_1 } from '../inventory/schemas.js';
import { PaginationSchema, StringOrList, listQuerySchema, stringEnum } from '../../http/paging.js';

export const PROXY_TYPES = ['ViProxy'] as const;
export const TRANSPORT_MODES = ['auto', 'directAccess', 'virtualAppliance', 'network'] as const;
/** 1.3-rev1 capitalizes the transport modes; either spelling is accepted and stored as the 1.1 one. */
export const TRANSPORT_MODE_SPELLINGS = [...TRANSPORT_MODES, 'Auto', 'DirectAccess', 'VirtualAppliance', 'Network'] as const;

export const PROXY_ORDER_COLUMNS = { Name: 'name_key', Type: 'type', Description: 'description_key' } as const;

export const ProxiesQuery = listQuerySchema(Object.keys(PROXY_ORDER_COLUMNS) as (keyof typeof PROXY_ORDER_COLUMNS)[], {
  typeFilter: Type.Optional(StringOrList),
  hostIdFilter: Type.Optional(Type.String({ format: 'uuid' })),
});

/**
 * A datastore as 1.1 (VmwareObjectModel) and 1.2 (InventoryObjectModel, with
 * `platform`) describe it: the VMware fields are checked, the rest kept as sent.
 */
const Datastore = Type.Object(
  {
    platform: Type.Optional(stringEnum(['VMware', 'VSphere'] as const, '1.2: the inventory platform (1.3 calls it VSphere).')),
    hostName: Type.String({ minLength: 1, maxLength: 255 }),
    name: Type.String({ minLength: 1, maxLength: 255 }),
    type: stringEnum(VMWARE_TYPES_1_1),
    objectId: Type.Optional(Type.String({ maxLength: 255 })),
    size: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);

/** ProxyDatastoreSettingsModel: `autoSelect` (1.1) and `autoSelectEnabled` (1.2) are one field; either is accepted, both are emitted. */
export const ConnectedDatastores = Type.Object(
  {
    autoSelect: Type.Optional(Type.Boolean({ description: '1.1 name of autoSelectEnabled.' })),
    autoSelectEnabled: Type.Optional(Type.Boolean({ description: '1.2 name of autoSelect.' })),
    datastores: Type.Optional(
      Type.Array(Type.Object({ datastore: Datastore, vmCount: Type.Optional(Type.Integer({ minimum: 0 })) }, { additionalProperties: false }), { maxItems: 4096 }),
    ),
  },
  { additionalProperties: false },
);

/** The settings every ProxyServerSettings* shape shares (the model's hostId, the import spec's hostName aside). */
export const proxySettingsFields = {
  transportMode: Type.Optional(stringEnum(TRANSPORT_MODE_SPELLINGS, 'Transport mode of the backup proxy (1.3-rev1 capitalizes it).')),
  failoverToNetwork: Type.Optional(Type.Boolean()),
  hostToProxyEncryption: Type.Optional(Type.Boolean()),
  connectedDatastores: Type.Optional(ConnectedDatastores),
  maxTaskCount: Type.Optional(Type.Integer({ minimum: 1, maximum: 512, description: 'Maximum number of concurrent tasks.' })),
};

export const ProxyServerSettings = Type.Object(
  { hostId: Type.String({ format: 'uuid', description: 'ID of the managed server that is the proxy.' }), ...proxySettingsFields },
  { additionalProperties: false },
);

/** ProxySpec (ViProxySpec): no name, the proxy is named after its server. */
export const ProxySpec = Type.Object({
  description: Type.String({ maxLength: 1024 }),
  type: stringEnum(PROXY_TYPES),
  server: ProxyServerSettings,
});

/** ProxyModel as PUT takes it: name and id are read back from the stored proxy, not changed. */
export const ProxyEdit = Type.Object({
  id: Type.Optional(Type.String({ format: 'uuid' })),
  name: Type.Optional(Type.String({ maxLength: 255 })),
  description: Type.String({ maxLength: 1024 }),
  type: stringEnum(PROXY_TYPES),
  server: ProxyServerSettings,
});

export const ProxyModel = Type.Object({
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  description: Type.String(),
  type: stringEnum(PROXY_TYPES),
  server: ProxyServerSettings,
});

export const ProxiesResult = Type.Object({ data: Type.Array(ProxyModel), pagination: PaginationSchema });

export const PROXY_STATE_ORDER_COLUMNS = { Name: 'name_key', Type: 'type', Description: 'description_key', HostName: 'name_key' } as const;

/** 1.3: the filters of GET …/proxies/states. */
export const ProxyStatesQuery = listQuerySchema(Object.keys(PROXY_STATE_ORDER_COLUMNS) as (keyof typeof PROXY_STATE_ORDER_COLUMNS)[], {
  typeFilter: Type.Optional(StringOrList),
  hostIdFilter: Type.Optional(Type.String({ format: 'uuid' })),
  isDisabledFilter: Type.Optional(Type.Boolean()),
  isOnlineFilter: Type.Optional(Type.Boolean({ description: 'Online: the managed server of the proxy passed its last check.' })),
  isOutOfDateFilter: Type.Optional(Type.Boolean()),
});

/** ProxyStateModel (1.3). */
export const ProxyStateModel = Type.Object({
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  description: Type.String(),
  type: Type.String(),
  hostId: Type.String({ format: 'uuid' }),
  hostName: Type.String(),
  isDisabled: Type.Boolean({ description: 'Rampart proxies cannot be disabled: always false.' }),
  isOnline: Type.Boolean(),
  isOutOfDate: Type.Boolean({ description: 'Rampart installs no components on proxies: always false.' }),
});

export const ProxyStatesResult = Type.Object({ data: Type.Array(ProxyStateModel), pagination: PaginationSchema });
