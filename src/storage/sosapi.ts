/**
 * Veeam Smart Object Storage API (SOSAPI): a storage system that supports it
 * keeps `system.xml` and `capacity.xml` under a fixed system folder at the root
 * of each bucket. capacity.xml holds `<Capacity>`, `<Available>` and `<Used>` in
 * bytes. Rampart also looks for the folder under the repository folder first,
 * so one bucket can carry per-folder figures.
 */
export const SOSAPI_SYSTEM_FOLDER = '.system-d26a9498-cb7c-4a87-a44a-8ae204f5ba6c';

export function capacityXmlKeys(folder: string): string[] {
  const root = `${SOSAPI_SYSTEM_FOLDER}/capacity.xml`;
  return folder ? [`${folder}/${root}`, root] : [root];
}

export interface SosapiCapacity {
  capacity: number;
  available: number;
  used: number;
}

function element(xml: string, name: string): number | undefined {
  const match = new RegExp(`<${name}>\\s*(-?\\d+)\\s*</${name}>`, 'i').exec(xml);
  return match ? Number(match[1]) : undefined;
}

/** Reads the three figures; a document without them (or with nonsense) is not a capacity report. */
export function parseCapacityXml(xml: string): SosapiCapacity | undefined {
  const capacity = element(xml, 'Capacity');
  const available = element(xml, 'Available');
  const used = element(xml, 'Used');
  if (capacity === undefined || available === undefined || used === undefined) return undefined;
  if (capacity < 0 || available < 0 || used < 0) return undefined;
  return { capacity, available, used };
}
