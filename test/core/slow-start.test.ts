// Slow start's handling of stretch ACKs: by default an ACK for N segments counts as N ACKs (Linux, RFC 9002),
// stopping at ssthresh with the rest counted in congestion avoidance; with RFC 3465's L it grows by at most L.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NewReno } from '../../src/core/congestion/newreno.js';
import { Cubic } from '../../src/core/congestion/cubic.js';
import { resolveConfig } from '../../src/core/config.js';

const MSS = 1000;

function renoAt(cwndSegments: number, ssthreshSegments: number, limit = 0): NewReno {
  const cc = new NewReno(MSS, 0, limit);
  cc.restore({ cwndBytes: cwndSegments * MSS, ssthreshBytes: ssthreshSegments * MSS, bytesAckedInCa: 0, mssBytes: MSS });
  return cc;
}

describe('slow start and stretch ACKs', () => {
  it('counts a stretch ACK in full by default', () => {
    const cc = renoAt(10, 100);
    cc.onAck(0, 8 * MSS, 10 * MSS, 10);
    assert.equal(cc.cwndBytes, 18 * MSS);
  });

  it('stops at ssthresh and counts the rest in congestion avoidance', () => {
    const cc = renoAt(10, 12);
    cc.onAck(0, 8 * MSS, 10 * MSS, 10);
    assert.equal(cc.cwndBytes, 12 * MSS);
    assert.equal(cc.save().bytesAckedInCa, 6 * MSS);
    // Another 6 segments complete a window of 12 in congestion avoidance: one segment more.
    cc.onAck(0, 6 * MSS, 12 * MSS, 10);
    assert.equal(cc.cwndBytes, 13 * MSS);
  });

  it('grows by at most L segments per ACK with RFC 3465 L set', () => {
    const cc = renoAt(10, 100, 2);
    cc.onAck(0, 8 * MSS, 10 * MSS, 10);
    assert.equal(cc.cwndBytes, 12 * MSS);
    cc.onAck(0, 1 * MSS, 12 * MSS, 10);
    assert.equal(cc.cwndBytes, 13 * MSS);
  });

  it('does not grow a window the sender is not filling', () => {
    const cc = renoAt(10, 100);
    cc.onAck(0, 8 * MSS, 5 * MSS, 10);
    assert.equal(cc.cwndBytes, 10 * MSS);
  });

  it('applies to CUBIC the same way', () => {
    const cc = new Cubic(MSS, 0, true, 0);
    const start = cc.cwndBytes;
    cc.onAck(0, 8 * MSS, start, 10);
    assert.equal(cc.cwndBytes, start + 8 * MSS);
    const limited = new Cubic(MSS, 0, true, 2);
    limited.onAck(0, 8 * MSS, start, 10);
    assert.equal(limited.cwndBytes, start + 2 * MSS);
  });

  it('validates the option', () => {
    assert.equal(resolveConfig({}).slowStartAckLimitSegments, 0);
    assert.throws(() => resolveConfig({ slowStartAckLimitSegments: -1 }), /slowStartAckLimitSegments/);
    assert.throws(() => resolveConfig({ slowStartAckLimitSegments: 1.5 }), /slowStartAckLimitSegments/);
  });
});
