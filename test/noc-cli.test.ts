import { main } from '../cli/main.js';
import { memoryIo } from '../cli/io.js';

async function run(args: string[]) {
  const io = memoryIo();
  const code = await main(args, io);
  return { code, out: io.out, err: io.err, written: io.written };
}

const quick = ['--warmup', '200', '--measure', '500', '--mesh', '4x4'];

describe('tessera noc', () => {
  test('one load point: a table with the latency columns', async () => {
    const r = await run(['noc', ...quick, '--rate', '0.1']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/4x4 uniform, 2 VCs x 4 flits, 1-flit packets, flit/);
    expect(r.out).toMatch(/offered\s+accepted\s+avg latency/);
    expect(r.out).toMatch(/zero-load latency/);
  });

  test('--json has the issue fields per load point; --sweep stops after the first saturated point', async () => {
    const r = await run(['noc', ...quick, '--sweep', '0.1:0.9:0.2', '--json', '--traffic', 'transpose', '--vcs', '3', '--buffer', '5']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.noc.virtualChannels).toBe(3);
    expect(j.noc.bufferDepthFlits).toBe(5);
    const fields = ['offeredFlitsPerNodeCycle', 'acceptedFlitsPerNodeCycle', 'avgPacketLatencyCycles', 'avgNetworkLatencyCycles', 'p99PacketLatencyCycles', 'avgHops', 'saturated', 'simulatedCycles', 'wallSeconds'];
    for (const p of j.points) for (const f of fields) expect(p).toHaveProperty(f);
    expect(j.points[j.points.length - 1].saturated).toBe(true);
    expect(j.points.slice(0, -1).every((p: { saturated: boolean }) => !p.saturated)).toBe(true);
    expect(j.points[0].offeredFlitsPerNodeCycle).toBe(0.1);
  });

  test('--csv to stdout and --svg to a file; message model and stage delays', async () => {
    const r = await run(['noc', ...quick, '--sweep', '0.05:0.15:0.05', '--csv', '', '--svg', 'out/noc.svg', '--model', 'message', '--rc', '2', '--link', '2', '--routing', 'yx']);
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines[0]).toBe('offeredFlitsPerNodeCycle,acceptedFlitsPerNodeCycle,avgPacketLatencyCycles,avgNetworkLatencyCycles,p99PacketLatencyCycles,avgHops,saturated,simulatedCycles,wallSeconds');
    expect(lines.length).toBe(4);
    const svg = String(r.written.get('out/noc.svg'));
    expect(svg).toMatch(/^<svg/);
    expect(svg).toMatch(/Latency vs offered load/);
    expect(svg).toMatch(/Accepted vs offered load/);
    expect(svg).toMatch(/Router load at/);
  });

  test('a point with no measured packet prints "-" and "n/a", never NaN, and says why', async () => {
    const r = await run(['noc', '--mesh', '2x2', '--rate', '0.0001', '--warmup', '10', '--measure', '10']);
    expect(r.code).toBe(0);
    expect(r.out).not.toMatch(/NaN/);
    expect(r.out).toMatch(/0\.0000\s+-\s+-\s+-\s+-\s+n\/a/);
    expect(r.out).toMatch(/no packet was injected in the measurement window at offered load 0\.0001/);
    const csv = await run(['noc', '--mesh', '2x2', '--rate', '0.0001', '--warmup', '10', '--measure', '10', '--csv', '']);
    expect(csv.out).not.toMatch(/NaN/);
    const j = JSON.parse((await run(['noc', '--mesh', '2x2', '--rate', '0.0001', '--warmup', '10', '--measure', '10', '--json'])).out);
    expect(j.points[0].avgPacketLatencyCycles).toBeNull();
    expect(j.points[0].packetsMeasured).toBe(0);
  });

  test('a point cut off by the drain limit is not blamed on a low rate', async () => {
    const r = await run(['noc', '--mesh', '16x16', '--rate', '1', '--warmup', '0', '--measure', '1', '--drain', '1', '--packet-flits', '8']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/yes \(no drain\)/);
    expect(r.out).not.toMatch(/raise --rate/);
  });

  test('a 1x1 mesh runs with --self (the router turns packets round)', async () => {
    const r = await run(['noc', '--mesh', '1x1', '--self', '--rate', '0.1', '--warmup', '10', '--measure', '100', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).points[0].avgHops).toBe(0);
  });

  test('--design takes the NoC of a design; options override it', async () => {
    const r = await run(['noc', '--design', 'w4a16-8x8-7nm', '--rate', '0.05', '--warmup', '100', '--measure', '300', '--buffer', '6']);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/8x8 uniform, 4 VCs x 6 flits/);
  });

  const bad: [string[], RegExp][] = [
    [['--rate', '0'], /--rate = 0: offered load must be in \(0, 1\]/],
    [['--rate', '1.5'], /--rate = 1.5/],
    [['--sweep', '0.1:2:0.1'], /--sweep hi = 2/],
    [['--sweep', '0.1:0.2:1e-15'], /--sweep = "0.1:0.2:1e-15": (at most 1000 points|a step of at least 1e-6)/],
    [['--sweep', '0.1:0.100000000099:1e-13'], /a step of at least 1e-6/],
    [['--vcs', '0'], /--vcs = 0/],
    [['--buffer', '0'], /--buffer = 0/],
    [['--mesh', '0x8'], /--mesh = "0x8"/],
    [['--mesh', 'eight'], /--mesh = "eight"/],
    [['--traffic', 'zigzag'], /--traffic = "zigzag": unknown pattern/],
    [['--routing', 'west-first'], /--routing = "west-first": unknown routing function/],
    [['--model', 'analytic'], /--model = "analytic"/],
    [['--mesh', '4x6', '--traffic', 'transpose'], /transpose needs a square mesh/],
    [['--packet-flits', '0'], /--packet-flits = 0/],
    [['--mesh', '1x1'], /--mesh = "1x1": uniform traffic on one tile has no destination but the source itself/],
  ];
  for (const [args, re] of bad) {
    test(`bad option ${args.join(' ')}: one line, exit code 2`, async () => {
      const r = await run(['noc', ...args]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(re);
      expect(r.err.trim().split('\n').length).toBe(1);
      expect(r.out).toBe('');
    });
  }
});
