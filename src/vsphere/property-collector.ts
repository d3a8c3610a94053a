import type { VsphereSession } from './session.js';
import { child, children, childText, moref, text, toMoref, typed, type ManagedObjectReference, type SoapObject, type XmlNode } from './xml.js';

/**
 * The property collector: RetrievePropertiesEx, following
 * ContinueRetrievePropertiesEx tokens (a real vCenter pages large results;
 * vcsim returns everything at once), and container views over the inventory.
 */

export interface ObjectContent {
  obj: ManagedObjectReference;
  /** Property path → the `<val>` element as parsed. */
  props: Map<string, XmlNode>;
  /** Paths the server could not read for this object (no permission, …). */
  missing: string[];
}

export interface PropertySpec {
  type: string;
  pathSet: string[];
}

function readObjects(result: XmlNode | undefined): ObjectContent[] {
  return children(result, 'objects').map((o) => {
    const props = new Map<string, XmlNode>();
    for (const p of children(o, 'propSet')) props.set(childText(p, 'name') ?? '', child(p, 'val') ?? '');
    return { obj: toMoref(child(o, 'obj'))!, props, missing: children(o, 'missingSet').map((m) => childText(m, 'path') ?? '') };
  });
}

/** One RetrievePropertiesEx, then as many ContinueRetrievePropertiesEx as the server's tokens ask for. */
export async function retrieveProperties(session: VsphereSession, specSet: SoapObject, maxObjects?: number): Promise<ObjectContent[]> {
  const collector = moref(session.content.propertyCollector);
  let result = await session.call('RetrievePropertiesEx', { _this: collector, specSet, options: maxObjects ? { maxObjects } : {} });
  const objects = readObjects(result);
  let token = childText(result, 'token');
  while (token) {
    result = await session.call('ContinueRetrievePropertiesEx', { _this: collector, token });
    objects.push(...readObjects(result));
    token = childText(result, 'token');
  }
  return objects;
}

/** The given properties of one object. */
export async function retrieveObject(session: VsphereSession, obj: ManagedObjectReference, pathSet: string[]): Promise<ObjectContent | undefined> {
  const [found] = await retrieveProperties(session, { propSet: { type: obj.type, pathSet }, objectSet: { obj: moref(obj) } });
  return found;
}

export async function createContainerView(session: VsphereSession, container: ManagedObjectReference, types: string[], recursive = true): Promise<ManagedObjectReference> {
  const view = await session.call('CreateContainerView', { _this: moref(session.content.viewManager), container: moref(container), type: types, recursive });
  return toMoref(view as XmlNode)!;
}

export async function destroyView(session: VsphereSession, view: ManagedObjectReference): Promise<void> {
  await session.call('DestroyView', { _this: moref(view) });
}

/**
 * Every object of the given types under `container` (the root folder by
 * default) with the given properties: a container view, one
 * RetrievePropertiesEx over it (plus tokens), and the view destroyed again.
 */
export async function retrieveFromContainer(session: VsphereSession, specs: PropertySpec[], container?: ManagedObjectReference): Promise<ObjectContent[]> {
  const view = await createContainerView(
    session,
    container ?? session.content.rootFolder,
    specs.map((s) => s.type),
  );
  try {
    return await retrieveProperties(session, {
      propSet: specs.map((s) => ({ type: s.type, pathSet: s.pathSet })),
      objectSet: {
        obj: moref(view),
        skip: true,
        selectSet: typed('TraversalSpec', { name: 'view', type: 'ContainerView', path: 'view', skip: false }),
      },
    });
  } finally {
    await destroyView(session, view).catch(() => undefined);
  }
}

/** Reads a property value that is a moref. */
export function morefValue(node: XmlNode | undefined): ManagedObjectReference | undefined {
  return toMoref(node);
}

/** Reads a property value that is an ArrayOfManagedObjectReference. */
export function morefList(node: XmlNode | undefined): ManagedObjectReference[] {
  return children(node, 'ManagedObjectReference')
    .map((n) => toMoref(n))
    .filter((r): r is ManagedObjectReference => r !== undefined);
}

export function stringValue(node: XmlNode | undefined): string | undefined {
  return node === undefined ? undefined : text(node);
}
