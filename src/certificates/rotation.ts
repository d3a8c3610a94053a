import type { SessionRunner, SessionContext } from '../sessions/runner.js';
import type { SessionRecord } from '../sessions/model.js';
import { generateSelfSignedCertificate } from '../pki/generate.js';
import type { CertificateKeyPair } from '../pki/certificate-key-pair.js';
import { describeCertificate, type CertificateDescription } from '../pki/describe.js';
import type { ServingCertificate } from './serving-certificate.js';
import type { RegenerateRequest } from './regenerate-request.js';

export const CERTIFICATE_SESSION_TYPE = 'BackgroundOperation';

function summary(d: CertificateDescription): string {
  return `thumbprint ${d.thumbprint}, SHA-256 ${d.sha256Fingerprint}, ${d.keyAlgorithm} ${d.keySize} bits, valid ${d.validFrom.toISOString()} to ${d.validBy.toISOString()}, subject "${d.subject}"`;
}

/**
 * Replacing the serving certificate, as a session with a log: who asked, the old
 * and the new certificate. The caller waits for the session, so by the time the API
 * answers 202 the listener already serves the new certificate.
 */
export class CertificateRotation {
  constructor(
    private readonly serving: ServingCertificate,
    private readonly runner: SessionRunner,
  ) {}

  regenerate(request: RegenerateRequest, actor: string): Promise<SessionRecord> {
    return this.run('Certificate Regeneration', actor, async (ctx) => {
      await ctx.log(`Generating a ${request.keyAlgorithm} key and a self-signed certificate for "${request.commonName}" valid by ${request.validBy.toISOString()}`);
      const pair = await generateSelfSignedCertificate({ ...request });
      return { pair, automaticallyGenerated: true };
    });
  }

  install(pair: CertificateKeyPair, actor: string, source: string): Promise<SessionRecord> {
    return this.run('Certificate Upload', actor, async (ctx) => {
      await ctx.log(`Installing the certificate from ${source}`);
      return { pair, automaticallyGenerated: false };
    });
  }

  private async run(name: string, actor: string, produce: (ctx: SessionContext) => Promise<{ pair: CertificateKeyPair; automaticallyGenerated: boolean }>): Promise<SessionRecord> {
    const session = await this.runner.start({ name, type: CERTIFICATE_SESSION_TYPE, createdBy: actor }, async (ctx) => {
      await ctx.log(`Requested by ${actor}`);
      await ctx.log(`Current certificate: ${summary(this.serving.current.description)}`);
      const { pair, automaticallyGenerated } = await produce(ctx);
      await ctx.progress(50);
      const previous = await this.serving.replace(pair, automaticallyGenerated);
      const next = describeCertificate(pair.certificatePem);
      await ctx.log(`New certificate: ${summary(next)}`);
      await ctx.log(`Now serving the new certificate (replaced ${previous.description.thumbprint}); open connections keep working`);
      return { result: 'Success', message: `The server now serves the certificate ${next.thumbprint}.` };
    });
    await this.runner.settled(session.id);
    return (await this.runner.find(session.id)) ?? session;
  }
}
