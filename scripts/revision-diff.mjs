// Lists what changed between two of Veeam's OpenAPI documents for the operations Rampart
// serves: status codes, reply bodies and (with --requests) request bodies, resolved through
// `$ref`s and `allOf`, each changed model reported once with the operations that reach it.
// The input for adding a revision's shapes to src/revisions/replies/ (see docs/revisions.md).
//
//   node scripts/revision-diff.mjs FROM TO [--served rampart-openapi.json] [--requests] [--reference DIR]
//
//   FROM, TO    documents: 1.1-rev0, 1.2-rev1, 1.3-rev0, 1.3-rev1, 1.3-rev2
//   --served    Rampart's own document (curl -k https://host:9419/swagger/v1.1-rev0/swagger.json):
//               only the operations it lists are compared; without it, every operation of FROM
//   --requests  also compare request bodies (import specs, create specs)
//   --reference where Veeam's documents are (default ../shared/reference)
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FILES = {
  '1.1-rev0': 'vbr_rest_1.1-rev0.swagger.json',
  '1.2-rev1': 'vbr_rest_1.2-rev1.json',
  '1.3-rev0': 'vbr_rest_1.3-rev0.json',
  '1.3-rev1': 'vbr_rest_1.3-rev1.json',
  '1.3-rev2': 'vbr_rest_1.3-rev2.json',
};
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

function parseArguments(argv) {
  const options = { documents: [], served: undefined, requests: false, reference: path.resolve(root, '../shared/reference') };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--served') options.served = argv[++i];
    else if (argv[i] === '--requests') options.requests = true;
    else if (argv[i] === '--reference') options.reference = argv[++i];
    else options.documents.push(argv[i]);
  }
  if (options.documents.length !== 2 || !options.documents.every((d) => d in FILES)) {
    console.error(`usage: node scripts/revision-diff.mjs FROM TO [--served file] [--requests] [--reference DIR]; documents: ${Object.keys(FILES).join(', ')}`);
    process.exit(2);
  }
  return options;
}

const refName = (ref) => ref.split('/').pop();

/** A document's schema in a comparable form: `allOf` merged, named models left as `{ref}`. */
function normalize(document, schema) {
  if (!schema || typeof schema !== 'object') return {};
  if (schema.$ref) {
    const name = refName(schema.$ref);
    if (schema.$ref.startsWith('#/components/responses/')) return normalize(document, document.components.responses[name]);
    return { ref: name };
  }
  const out = {};
  const merge = (part, fromAllOf) => {
    let target = part;
    // allOf parts are inlined: a branch extending its discriminated base takes the base's fields, not its dispatch.
    while (target?.$ref) target = document.components.schemas[refName(target.$ref)];
    if (!target) return;
    if (fromAllOf && target.discriminator) target = { ...target, oneOf: undefined, discriminator: undefined };
    for (const inner of target.allOf ?? []) merge(inner, true);
    for (const key of ['type', 'format', 'nullable', 'enum', 'additionalProperties']) if (target[key] !== undefined) out[key] = target[key];
    if (target.properties) {
      out.properties ??= {};
      for (const [name, property] of Object.entries(target.properties)) out.properties[name] = normalize(document, property);
    }
    if (target.required) out.required = [...new Set([...(out.required ?? []), ...target.required])];
    if (target.items) out.items = normalize(document, target.items);
    if (target.oneOf || target.anyOf) {
      const branches = target.oneOf ?? target.anyOf;
      const mapping = target.discriminator?.mapping ?? Object.fromEntries(branches.map((b) => [b.$ref ? refName(b.$ref) : JSON.stringify(b), b]));
      out.discriminator = target.discriminator?.propertyName;
      out.branches = Object.fromEntries(Object.entries(mapping).map(([value, b]) => [value, typeof b === 'string' ? { ref: refName(b) } : normalize(document, b)]));
    }
  };
  merge(schema, false);
  return out;
}

const describe = (node) => (node.ref ? node.ref : node.type === 'array' ? `array of ${describe(node.items ?? {})}` : [node.type ?? 'any', node.format].filter(Boolean).join('/'));

/** Differences between two normalized schemas; named model pairs to compare go to `queue`. */
function diff(a, b, at, changes, queue) {
  if (a.ref && b.ref) {
    queue.push([a.ref, b.ref]);
    if (a.ref !== b.ref) changes.push(`${at}: model ${a.ref} → ${b.ref}`);
    return;
  }
  if (a.ref || b.ref) return void changes.push(`${at}: ${describe(a)} → ${describe(b)}`);
  for (const key of ['type', 'format', 'nullable', 'additionalProperties', 'discriminator']) {
    if (JSON.stringify(a[key]) !== JSON.stringify(b[key])) changes.push(`${at}: ${key} ${JSON.stringify(a[key])} → ${JSON.stringify(b[key])}`);
  }
  if (a.enum || b.enum) {
    const removed = (a.enum ?? []).filter((v) => !(b.enum ?? []).includes(v));
    const added = (b.enum ?? []).filter((v) => !(a.enum ?? []).includes(v));
    if (removed.length) changes.push(`${at}: enum values removed ${JSON.stringify(removed)}`);
    if (added.length) changes.push(`${at}: enum values added ${JSON.stringify(added)}`);
  }
  const pa = a.properties ?? {};
  const pb = b.properties ?? {};
  for (const name of Object.keys(pa)) if (!(name in pb)) changes.push(`${at}.${name}: removed`);
  for (const name of Object.keys(pb)) if (!(name in pa)) changes.push(`${at}.${name}: added (${describe(pb[name])}${(b.required ?? []).includes(name) ? ', required' : ''})`);
  for (const name of Object.keys(pa)) if (name in pb) diff(pa[name], pb[name], `${at}.${name}`, changes, queue);
  const ra = a.required ?? [];
  const rb = b.required ?? [];
  for (const name of rb) if (!ra.includes(name) && name in pa) changes.push(`${at}.${name}: now required`);
  for (const name of ra) if (!rb.includes(name) && name in pb) changes.push(`${at}.${name}: no longer required`);
  if (a.items || b.items) diff(a.items ?? {}, b.items ?? {}, `${at}[]`, changes, queue);
  if (a.branches || b.branches) {
    const ba = a.branches ?? {};
    const bb = b.branches ?? {};
    for (const value of Object.keys(ba)) if (!(value in bb)) changes.push(`${at}<${value}>: branch removed`);
    for (const value of Object.keys(bb)) if (!(value in ba)) changes.push(`${at}<${value}>: branch added (${describe(bb[value])})`);
    for (const value of Object.keys(ba)) if (value in bb) diff(ba[value], bb[value], `${at}<${value}>`, changes, queue);
  }
}

function bodySchema(document, holder) {
  let node = holder;
  while (node?.$ref)
    node = node.$ref
      .split('/')
      .slice(1)
      .reduce((o, k) => o?.[k], document);
  const content = node?.content ?? {};
  return (content['application/json'] ?? Object.values(content)[0])?.schema;
}

function servedOperations(options, from) {
  if (!options.served) return Object.entries(from.paths).flatMap(([p, item]) => METHODS.filter((m) => item[m]).map((m) => [m, p]));
  const rampart = JSON.parse(readFileSync(options.served, 'utf8'));
  return Object.entries(rampart.paths).flatMap(([p, item]) => METHODS.filter((m) => item[m]).map((m) => [m, p]));
}

function main() {
  const options = parseArguments(process.argv.slice(2));
  const [fromName, toName] = options.documents;
  const load = (name) => JSON.parse(readFileSync(path.join(options.reference, FILES[name]), 'utf8'));
  const from = load(fromName);
  const to = load(toName);
  const lookup = (document, p) => Object.entries(document.paths).find(([template]) => template.toLowerCase() === p.toLowerCase())?.[1];
  const operationChanges = [];
  const usedBy = new Map();
  const queue = [];
  for (const [method, p] of servedOperations(options, from)) {
    const before = lookup(from, p)?.[method];
    const after = lookup(to, p)?.[method];
    const name = `${method.toUpperCase()} ${p}`;
    if (!before && !after) continue;
    if (!before || !after) {
      operationChanges.push(`${name}: ${before ? `not in ${toName}` : `new in ${toName}`}`);
      continue;
    }
    const pairs = [];
    const statuses = new Set([...Object.keys(before.responses ?? {}), ...Object.keys(after.responses ?? {})]);
    for (const status of statuses) {
      const [ra, rb] = [before.responses?.[status], after.responses?.[status]];
      if (!ra || !rb) {
        operationChanges.push(`${name}: status ${status} ${ra ? 'removed' : 'added'}`);
        continue;
      }
      pairs.push([`${status}`, bodySchema(from, ra), bodySchema(to, rb)]);
    }
    if (options.requests) pairs.push(['request', bodySchema(from, before.requestBody), bodySchema(to, after.requestBody)]);
    for (const [label, a, b] of pairs) {
      if (!a && !b) continue;
      const changes = [];
      const reached = [];
      diff(normalize(from, a), normalize(to, b), `${name} ${label}`, changes, reached);
      operationChanges.push(...changes);
      for (const pair of reached) {
        const key = pair.join(' → ');
        if (!usedBy.has(key)) usedBy.set(key, new Set());
        usedBy.get(key).add(`${name} ${label}`);
        queue.push(pair);
      }
    }
  }
  // Each model pair once, with what it reaches in turn.
  const seen = new Set();
  const modelChanges = [];
  while (queue.length) {
    const [a, b] = queue.shift();
    const key = `${a} → ${b}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const changes = [];
    const reached = [];
    diff(normalize(from, from.components.schemas[a]), normalize(to, to.components.schemas[b]), a === b ? a : key, changes, reached);
    for (const pair of reached) {
      const inner = pair.join(' → ');
      if (!usedBy.has(inner)) usedBy.set(inner, new Set());
      usedBy.get(inner).add(a === b ? a : key);
      queue.push(pair);
    }
    if (changes.length) modelChanges.push([key, changes]);
  }
  console.log(`# ${fromName} → ${toName}${options.served ? ` (operations in ${path.basename(options.served)})` : ''}`);
  console.log('\n## Operations');
  for (const line of operationChanges) console.log(`- ${line}`);
  console.log('\n## Models');
  for (const [key, changes] of modelChanges) {
    console.log(`\n### ${key} (reached from ${[...(usedBy.get(key) ?? [])].slice(0, 4).join('; ')}${(usedBy.get(key)?.size ?? 0) > 4 ? '; …' : ''})`);
    for (const line of changes) console.log(`- ${line}`);
  }
}

main();
