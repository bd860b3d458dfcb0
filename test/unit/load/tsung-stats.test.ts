import { describe, expect, it } from '@jest/globals';
import { latencyFromSample, parseTsungLog, samplesOf, totalsOf } from '../../../src/load/tsung/stats.js';

// Two dumps of a real tsung.log (Tsung 1.7.0, 20 users, 3 client nodes, 10 IMs/s), as captured.
const LOG = `# stats: dump at 1796011133
stats: users 20 20
stats: {load,"tsung_controller_xfed569131f8@127.0.0.1"} 0 0 0 5.76953125 5.76953125 5.76953125 1
stats: {cpu,"tsung_controller_xfed569131f8@127.0.0.1"} 0 0 0 43.03521757082113 43.03521757082113 43.03521757082113 1
stats: users_count 0 20
stats: finish_users_count 0 0
stats: xfed_subscribe 0 0 0 212.727 4.976 46.584999999999994 20
stats: request_noack 14 34
stats: tr_presence 3 0.4083333333333334 0.19836890437319615 0.687 0.241 0 0
stats: xfed_login 0 0 0 699.353 9.418 140.6039 20
stats: tr_im 11 1.2812727272727271 2.184450714852554 7.379 0.174 0 0
stats: xmpp_msg_latency 10 15.7303 4.762367479521084 25.489 8.783 0 0
stats: xfed_send_lag 14 5.0 4.342481186734475 14 1 0 0
stats: async_data_sent 10 10
# stats: dump at 1796011134
stats: users 20 20
stats: {load,"tsung_controller_xfed569131f8@127.0.0.1"} 0 0 0 5.76953125 5.76953125 5.76953125 1
stats: users_count 0 20
stats: finish_users_count 0 0
stats: xfed_subscribe 0 0 0 212.727 4.976 46.584999999999994 20
stats: tr_presence 2 0.39449999999999996 0.2175 0.687 0.177 0.4083333333333334 3
stats: request_noack 12 46
stats: xfed_login 0 0 0 699.353 9.418 140.6039 20
stats: tr_im 10 2.4364 2.8126336839339743 8.712 0.174 1.2812727272727271 11
stats: xmpp_msg_latency 10 17.8575 10.854906957224463 49.965 8.783 15.7303 10
stats: xfed_send_lag 12 4.666666666666667 3.901566636906542 14 0 5.0 14
stats: async_data_sent 10 20
`;

// The start of a real tsung-fullstats.log: Erlang terms, lists of samples spanning lines.
const FULLSTATS = `[{sample,{cpu,"tsung_controller_xfed569131f8@127.0.0.1"},43.03521757082113},
 {sample_counter,{sentpackets,"tsung_controller_xfed569131f8@127.0.0.1"},0}]
[{sum,size_sent,504},{sum,connected,3},{sum,size_rcv,1009}]
{sample,request,[11.081,15.471,2.076]}
[{sample,xfed_login,139.31},
 {sample,xmpp_starttls,12.871},
 {sample,xfed_login,372.515}]
{sample,xmpp_msg_latency,
        [8.783,12.481,
         18.451]}
{sample,xmpp_msg_latency,25.489}
`;

describe("Tsung's statistics", () => {
  it('reads each dump: samples with the interval added to the totals, counters, the users running', () => {
    const dumps = parseTsungLog(LOG);
    expect(dumps.map((d) => d.at)).toEqual([1796011133, 1796011134]);
    expect(dumps[0]!.users).toBe(20);
    const im = dumps[1]!.samples.get('tr_im')!;
    expect(im.count).toBe(10);
    expect(im.mean).toBeCloseTo(2.4364);
    // Tsung prints the totals before the interval (11); the interval's 10 make 21.
    expect(im.totalCount).toBe(21);
    expect(im.totalMean).toBeCloseTo((1.2812727272727271 * 11 + 2.4364 * 10) / 21);
    expect(im.max).toBeCloseTo(8.712);
    expect(dumps[1]!.counters.get('request_noack')).toEqual({ count: 12, total: 46 });
    // Per-node OS figures are not Tsung statistics of the load.
    expect([...dumps[0]!.samples.keys()].some((k) => k.startsWith('{'))).toBe(false);
  });

  it('totals the run from the last dump of each statistic', () => {
    const { samples, counters } = totalsOf(parseTsungLog(LOG));
    expect(samples.get('xmpp_msg_latency')!.totalCount).toBe(20);
    expect(samples.get('xfed_login')!.totalCount).toBe(20);
    expect(samples.get('tr_presence')!.totalCount).toBe(5);
    expect(counters.get('async_data_sent')).toBe(20);
  });

  it('keeps what a dump cut off mid-write holds, and ignores lines that are not statistics', () => {
    const cut = LOG.slice(0, LOG.indexOf('stats: tr_im 10')) + 'stats: tr_im 10 2.43';
    const dumps = parseTsungLog(`Starting Tsung\n${cut}`);
    expect(dumps).toHaveLength(2);
    expect(dumps[1]!.samples.get('tr_im')).toBeUndefined();
    expect(dumps[1]!.samples.get('tr_presence')!.totalCount).toBe(5);
  });

  it('reads every sample of the full statistics into histograms for the percentiles', () => {
    const h = samplesOf(FULLSTATS, ['xmpp_msg_latency', 'xfed_login', 'xfed_send_lag']);
    const rt = h.get('xmpp_msg_latency')!.stats();
    expect(rt.count).toBe(4);
    expect(rt.max).toBeCloseTo(25.489, 1);
    expect(rt.min).toBeCloseTo(8.783, 1);
    expect(rt.p50).toBeCloseTo(12.481, 1);
    expect(h.get('xfed_login')!.count).toBe(2);
    expect(h.get('xfed_send_lag')!.count).toBe(0);
  });

  it("falls back to Tsung's mean, min and max, with no percentiles, without the full statistics", () => {
    const { samples } = totalsOf(parseTsungLog(LOG));
    const s = latencyFromSample(samples.get('xmpp_msg_latency'));
    expect(s).toMatchObject({ count: 20, max: 49.965, min: 8.783, p99: 0 });
    expect(s.mean).toBeCloseTo((15.7303 * 10 + 17.8575 * 10) / 20);
    expect(latencyFromSample(undefined).count).toBe(0);
  });
});
