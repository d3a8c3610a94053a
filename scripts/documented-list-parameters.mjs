// Extracts, from Veeam's OpenAPI documents, the query parameters each revision documents for
// the GET operations Rampart serves (names, types, formats, enum values: facts, not Veeam's
// prose), into test/fixtures/documented-list-parameters.json. test/http/list-filters.test.ts
// reads that file and checks every parameter is honoured or refused; when the documents are
// at hand it also checks the file is current.
//
//   node scripts/documented-list-parameters.mjs [REFERENCE_DIR]           (default ../shared/reference)
//   node scripts/documented-list-parameters.mjs --check [REFERENCE_DIR]   exit 1 when the file is stale
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const DOCUMENTS = {
  '1.1-rev0': 'vbr_rest_1.1-rev0.swagger.json',
  '1.2-rev1': 'vbr_rest_1.2-rev1.json',
  '1.3-rev0': 'vbr_rest_1.3-rev0.json',
  '1.3-rev1': 'vbr_rest_1.3-rev1.json',
  '1.3-rev2': 'vbr_rest_1.3-rev2.json',
};

/** The GET operations with query parameters that Rampart serves, or that a merge may soon serve. */
const OPERATIONS = [
  '/api/v1/services',
  '/api/v1/sessions',
  '/api/v1/sessions/{id}/logs',
  '/api/v1/automation/sessions',
  '/api/v1/automation/sessions/{id}/logs',
  '/api/v1/credentials',
  '/api/v1/cloudCredentials',
  '/api/v1/encryptionPasswords',
  '/api/v1/backupInfrastructure/managedServers',
  '/api/v1/backupInfrastructure/proxies',
  '/api/v1/backupInfrastructure/proxies/states',
  '/api/v1/backupInfrastructure/repositories',
  '/api/v1/backupInfrastructure/repositories/states',
  '/api/v1/backupInfrastructure/scaleOutRepositories',
];

function describeParameters(document) {
  const resolve = (node) =>
    node && node.$ref
      ? node.$ref
          .split('/')
          .slice(1)
          .reduce((o, k) => o[k], document)
      : node;
  const out = {};
  for (const operationPath of OPERATIONS) {
    const item = document.paths[operationPath];
    if (!item?.get) continue;
    const parameters = [...(item.parameters ?? []), ...(item.get.parameters ?? [])].map(resolve).filter((p) => p.in === 'query');
    out[operationPath] = parameters.map((p) => {
      const schema = resolve(p.schema ?? p);
      const array = schema.type === 'array';
      const value = array ? resolve(schema.items) : schema;
      return {
        name: p.name,
        type: value.type ?? 'string',
        ...(value.format ? { format: value.format } : {}),
        ...(value.enum ? { enum: value.enum } : {}),
        ...(array ? { array: true } : {}),
      };
    });
  }
  return out;
}

function extract(referenceDir) {
  const result = {};
  for (const [revision, file] of Object.entries(DOCUMENTS)) {
    result[revision] = describeParameters(JSON.parse(readFileSync(path.join(referenceDir, file), 'utf8')));
  }
  return result;
}

/** One parameter a line, so a change in a document shows as a one-line diff. */
function format(result) {
  const revisions = Object.entries(result).map(([revision, operations]) => {
    const lines = Object.entries(operations).map(([operation, parameters]) => {
      const items = parameters.map((p) => `      ${JSON.stringify(p)}`).join(',\n');
      return `    ${JSON.stringify(operation)}: [${items ? `\n${items}\n    ` : ''}]`;
    });
    return `  ${JSON.stringify(revision)}: {\n${lines.join(',\n')}\n  }`;
  });
  return `{\n${revisions.join(',\n')}\n}\n`;
}

const FIXTURE = path.join(root, 'test/fixtures/documented-list-parameters.json');

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const check = args.includes('--check');
  const referenceDir = path.resolve(args.find((a) => a !== '--check') ?? path.join(root, '../shared/reference'));
  const text = format(extract(referenceDir));
  if (check) {
    if (readFileSync(FIXTURE, 'utf8') !== text) {
      console.error(`${path.relative(root, FIXTURE)} is stale: run node scripts/documented-list-parameters.mjs ${referenceDir}`);
      process.exit(1);
    }
  } else {
    writeFileSync(FIXTURE, text);
    console.log(`wrote ${path.relative(root, FIXTURE)} from ${referenceDir}`);
  }
}
