// Certificate material for TLS: mutual TLS between nodes (gRPC) and HTTPS for the API.
import { readFileSync } from 'node:fs';

export interface TlsMaterial {
  /** This node's certificate chain (PEM). */
  cert: Buffer;
  /** Its private key (PEM). */
  key: Buffer;
  /** The CA that signs every node's certificate (PEM): peers must present one it signed. */
  ca: Buffer;
}

export interface TlsFiles {
  certFile: string;
  keyFile: string;
  caFile: string;
}

export function loadTlsMaterial(files: TlsFiles): TlsMaterial {
  const read = (what: string, path: string) => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new Error(`cannot read the TLS ${what} file ${path}: ${(err as Error).message}`);
    }
  };
  return {
    cert: read('certificate', files.certFile),
    key: read('key', files.keyFile),
    ca: read('CA', files.caFile),
  };
}
