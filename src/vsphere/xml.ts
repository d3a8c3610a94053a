import { XMLParser } from 'fast-xml-parser';

/**
 * The XML side of vSphere's SOAP: building request bodies in schema order and
 * reading replies into plain objects. vSphere (like any XML-schema service)
 * expects child elements in the order its WSDL lists them, so request values
 * are objects whose key order is that order.
 */

export interface ManagedObjectReference {
  type: string;
  value: string;
}

/** A value that serializes to one element. Arrays repeat the element; undefined leaves it out. */
export type SoapValue = string | number | boolean | bigint | undefined | null | SoapElement | SoapObject | SoapValue[];
export interface SoapObject {
  [key: string]: SoapValue;
}
/** An element with attributes (xsi:type, a moref's type) and text or children. */
export interface SoapElement {
  $element: true;
  attributes: Record<string, string>;
  text?: string;
  children?: SoapObject;
}

export function moref(ref: ManagedObjectReference): SoapElement {
  return { $element: true, attributes: { type: ref.type }, text: ref.value };
}

/** A value of a derived type, where the schema names a base type (`xsi:type`). */
export function typed(type: string, children: SoapObject): SoapElement {
  return { $element: true, attributes: { 'xsi:type': type }, children };
}

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

function isElement(value: SoapValue): value is SoapElement {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && (value as SoapElement).$element === true;
}

export function serialize(name: string, value: SoapValue): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.map((v) => serialize(name, v)).join('');
  if (isElement(value)) {
    const attrs = Object.entries(value.attributes)
      .map(([k, v]) => ` ${k}="${escapeXml(v)}"`)
      .join('');
    const body = value.children ? serializeChildren(value.children) : escapeXml(value.text ?? '');
    return `<${name}${attrs}>${body}</${name}>`;
  }
  if (typeof value === 'object') return `<${name}>${serializeChildren(value)}</${name}>`;
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

function serializeChildren(object: SoapObject): string {
  return Object.entries(object)
    .map(([k, v]) => serialize(k, v))
    .join('');
}

export function envelope(method: string, args: SoapObject): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">' +
    `<soapenv:Body><${method} xmlns="urn:vim25">${serializeChildren(args)}</${method}></soapenv:Body></soapenv:Envelope>`
  );
}

/** A parsed element: text-only elements without attributes are strings. */
export type XmlNode = string | { [key: string]: XmlNode | XmlNode[] | string | undefined };
export type XmlRecord = Exclude<XmlNode, string>;

// Tag prefixes are stripped (soapenv:Body → Body); attribute names are kept,
// since `xsi:type` and a moref's `type` would otherwise collide. vCenter writes
// `xsi:type`, vcsim `XMLSchema-instance:type`: xsiType() reads either.
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  transformTagName: (name) => name.replace(/^[^:]+:/, ''),
});

export function parseXml(text: string): XmlRecord {
  return parser.parse(text) as XmlRecord;
}

export function asArray<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

export function child(node: XmlNode | undefined, name: string): XmlNode | undefined {
  if (node === undefined || typeof node === 'string') return undefined;
  const value = node[name];
  return Array.isArray(value) ? value[0] : value;
}

export function children(node: XmlNode | undefined, name: string): XmlNode[] {
  if (node === undefined || typeof node === 'string') return [];
  return asArray(node[name] as XmlNode | XmlNode[] | undefined);
}

/** The element's text ('' when empty or absent). */
export function text(node: XmlNode | undefined): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node;
  const t = node['#text'];
  return typeof t === 'string' ? t : '';
}

export function childText(node: XmlNode | undefined, name: string): string | undefined {
  const c = child(node, name);
  return c === undefined ? undefined : text(c);
}

export function childNumber(node: XmlNode | undefined, name: string): number | undefined {
  const t = childText(node, name);
  return t === undefined || t === '' ? undefined : Number(t);
}

export function childBoolean(node: XmlNode | undefined, name: string): boolean | undefined {
  const t = childText(node, name);
  return t === undefined ? undefined : t === 'true' || t === '1';
}

/** The `xsi:type` of an element, without its namespace prefix. */
export function xsiType(node: XmlNode | undefined): string | undefined {
  if (node === undefined || typeof node === 'string') return undefined;
  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith('@') && key.endsWith(':type') && typeof value === 'string') return value.replace(/^[^:]+:/, '');
  }
  return undefined;
}

export function toMoref(node: XmlNode | undefined): ManagedObjectReference | undefined {
  if (node === undefined || typeof node === 'string') return undefined;
  const type = node['@type'];
  return typeof type === 'string' ? { type, value: text(node) } : undefined;
}
