import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exec, requireTool } from "./tools.js";

export interface TestCerts {
  readonly dir: string;
  readonly caCert: string;
  /** For 127.0.0.1 and localhost, signed by the CA. */
  readonly serverCert: string;
  readonly serverKey: string;
  /** A client certificate signed by the CA (for registries that ask for one). */
  readonly clientCert: string;
  readonly clientKey: string;
  /** A self-signed certificate and key the token server signs JWTs with. */
  readonly tokenCert: string;
  readonly tokenKey: string;
  remove(): Promise<void>;
}

/** A throwaway CA, server and client certificates, and a token-signing pair, made with openssl. */
export async function makeCerts(): Promise<TestCerts> {
  await requireTool("openssl", "openssl");
  const dir = await mkdtemp(join(tmpdir(), "berth-certs-"));
  const p = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => exec("openssl", args, { cwd: dir });
  await openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", p("ca.key"), "-out", p("ca.crt"), "-days", "2", "-subj", "/CN=berth test CA");
  const leaf = async (name: string, usage: string, san: string) => {
    await openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", p(`${name}.key`), "-out", p(`${name}.csr`), "-subj", `/CN=${name}`);
    await writeFile(p(`${name}.ext`), `${san ? `subjectAltName=${san}\n` : ""}extendedKeyUsage=${usage}\n`);
    await openssl("x509", "-req", "-in", p(`${name}.csr`), "-CA", p("ca.crt"), "-CAkey", p("ca.key"), "-CAcreateserial", "-out", p(`${name}.crt`), "-days", "2", "-extfile", p(`${name}.ext`));
  };
  await leaf("server", "serverAuth", "IP:127.0.0.1,DNS:localhost");
  await leaf("client", "clientAuth", "");
  await openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", p("token.key"), "-out", p("token.crt"), "-days", "2", "-subj", "/CN=berth test token issuer");
  return {
    dir,
    caCert: p("ca.crt"),
    serverCert: p("server.crt"),
    serverKey: p("server.key"),
    clientCert: p("client.crt"),
    clientKey: p("client.key"),
    tokenCert: p("token.crt"),
    tokenKey: p("token.key"),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** The DER bytes of a PEM certificate, base64 (a JWT x5c entry). */
export async function certDerBase64(pemFile: string): Promise<string> {
  const pem = await readFile(pemFile, "utf8");
  return pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, "").replace(/\s+/g, "");
}
