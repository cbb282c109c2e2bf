/**
 * The link model's formulas against the Core specification's airtimes and protocol.md's link
 * budget table (which the simulated transfers in family-suite.ts then match).
 */
import { describe, expect, it } from 'vitest';
import { RadioError } from '../../../radio/errors.js';
import {
  checkLinkParameters,
  exchangeUs,
  linkThroughput,
  pduAirtimeUs,
} from '../../../radio/virtual/index.js';

const kBps = (link: Parameters<typeof linkThroughput>[0], valueSize: number) =>
  Math.round(linkThroughput(link, valueSize).valueBytesPerSecond / 100) / 10;

describe('link model', () => {
  it('gives the airtime of a data PDU: 80 µs of overhead and 8 µs an octet on 1M, 44 + 4 on 2M', () => {
    expect(pduAirtimeUs(0, '1M')).toBe(80);
    expect(pduAirtimeUs(27, '1M')).toBe(296);
    expect(pduAirtimeUs(251, '1M')).toBe(2088);
    expect(pduAirtimeUs(251, '2M')).toBe(1048);
    expect(exchangeUs(251, '1M')).toBe(2088 + 150 + 80 + 150);
  });

  it("reproduces protocol.md's link budget", () => {
    const at = (pdus: number, dataLength: number, phy: '1M' | '2M' = '1M') => ({
      connectionIntervalMs: 15,
      maxPdusPerEvent: pdus,
      dataLength,
      phy,
    });
    // MTU 23, 15 ms, 4–6 packets per event: 5.3–8.0 kB/s.
    expect([kBps(at(4, 27), 20), kBps(at(6, 27), 20)]).toEqual([5.3, 8]);
    // MTU 185 (common iOS) with data length extension: 49–73 kB/s.
    expect([kBps(at(4, 251), 182), kBps(at(6, 251), 182)]).toEqual([48.5, 72.8]);
    // MTU 247 + data length extension: 65–98 kB/s.
    expect([kBps(at(4, 251), 244), kBps(at(6, 251), 244)]).toEqual([65.1, 97.6]);
    // MTU 247 on 2M, as many PDUs as the 15 ms interval holds: up to 163 kB/s.
    expect(kBps(at(Number.POSITIVE_INFINITY, 251, '2M'), 244)).toBe(162.7);
  });

  it('limits an event by its length and by the buffers the host may fill before it', () => {
    const fast = {
      connectionIntervalMs: 7.5,
      maxPdusPerEvent: Number.POSITIVE_INFINITY,
      dataLength: 251,
      phy: '1M',
    } as const;
    expect(linkThroughput(fast, 244).pdusPerEvent).toBe(3); // 3 × 2468 µs ≤ 7.5 ms
    const slow = { ...fast, connectionIntervalMs: 100 };
    expect(linkThroughput(slow, 244, { length: 251, count: 12 }).pdusPerEvent).toBe(12);
    expect(linkThroughput(slow, 244, { length: 27, count: 12 }).pdusPerNotification).toBe(10);
  });

  it('refuses parameters no connection can have', () => {
    const bad = { connectionIntervalMs: 16, maxPdusPerEvent: 0, dataLength: 300, phy: '3M' as '1M' };
    expect(() => checkLinkParameters(bad)).toThrow(RadioError);
    try {
      checkLinkParameters(bad);
    } catch (e) {
      expect((e as RadioError).code).toBe('BAD_LINK_PARAMETERS');
      expect((e as Error).message).toMatch(/interval 16 ms.*maxPdusPerEvent 0.*data length 300.*PHY 3M/);
    }
  });
});
