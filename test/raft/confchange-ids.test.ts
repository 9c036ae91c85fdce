import { describe, expect, it } from 'vitest';
import { ConfChangeType, decodeConfChange, encodeConfChange } from '../../src/raft/confchange.js';

describe('conf change node ids', () => {
  it('round-trips the whole uint32 range of ids', () => {
    for (const nodeId of [1, 2, 0xffff_ffff]) {
      const cc = { type: ConfChangeType.AddLearner, nodeId, context: new Uint8Array([7]) };
      expect(decodeConfChange(encodeConfChange(cc))).toEqual(cc);
    }
  });

  // setUint32 wraps silently: 2^32 would be member 0 and 2^32+2 would alias member 2.
  it.each([0, -1, 1.5, 2 ** 32, 2 ** 32 + 2, Number.MAX_SAFE_INTEGER])(
    'refuses to encode id %s',
    (nodeId) => {
      expect(() =>
        encodeConfChange({ type: ConfChangeType.AddVoter, nodeId, context: new Uint8Array(0) }),
      ).toThrow(RangeError);
    },
  );
});
