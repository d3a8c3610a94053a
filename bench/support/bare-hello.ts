// The baseline: a bare Fastify HTTPS server answering {"hello":"world"} (and a fixed
// payload of BARE_BYTES at /sized), with the same
// kind of certificate Rampart serves (ECDSA P-256), run as its own process.
import 'reflect-metadata';
import https from 'node:https';
import Fastify from 'fastify';
import { generateSelfSignedCertificate } from '../../src/pki/generate.js';

const pair = await generateSelfSignedCertificate({ commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], validBy: new Date(Date.now() + 86_400_000) });
const server = https.createServer({ cert: pair.certificatePem, key: pair.privateKeyPem });
const app = Fastify({ serverFactory: (handler) => server.on('request', handler) });
app.get('/hello', async () => ({ hello: 'world' }));
// The same number of bytes as Rampart's answer, precomputed and already encoded as Rampart
// keeps its pages (a string would be UTF-8 encoded on every send, measured ~40 % slower): the
// cost of moving them alone.
const sized = Buffer.from(JSON.stringify({ data: 'x'.repeat(Number(process.env.BARE_BYTES ?? 0)) }));
app.get('/sized', async (_request, reply) => reply.type('application/json; charset=utf-8').send(sized));
await app.listen({ port: 0, host: '127.0.0.1' });
const address = server.address();
process.stdout.write(`ready ${typeof address === 'object' && address ? address.port : 0}\n`);
