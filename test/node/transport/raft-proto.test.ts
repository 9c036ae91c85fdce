import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findProtoFile } from '../../../src/node/transport/raft-proto.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

describe('findProtoFile', () => {
  it('finds proto/raft.proto from the source tree and from the compiled dist/ tree', () => {
    const expected = join(repoRoot, 'proto', 'raft.proto');
    expect(findProtoFile(join(repoRoot, 'src', 'node', 'transport'))).toBe(expected);
    expect(findProtoFile(join(repoRoot, 'dist', 'src', 'node', 'transport'))).toBe(expected);
  });

  it('says where it looked when there is no proto', () => {
    expect(() => findProtoFile('/')).toThrow(/proto\/raft\.proto not found/);
  });
});
