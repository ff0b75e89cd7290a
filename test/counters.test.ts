import { CounterRegistry } from '../sim/counters/registry.js';
import type { CounterDef } from '../sim/counters/counter.js';
import { COUNTER_CATALOG } from '../sim/counters/catalog.js';

const catalog = new Map<string, CounterDef>([
  ['noc.flitHops', { name: 'noc.flitHops', unit: 'flits', description: 'test' }],
  ['tile.macs', { name: 'tile.macs', unit: 'ops', description: 'test' }],
]);

describe('activity counters', () => {
  test('instances of one name sum into one flat record', () => {
    const reg = new CounterRegistry(catalog);
    const a = reg.register('noc.flitHops', 'router[0,0]');
    const b = reg.register('noc.flitHops', 'router[0,1]');
    const m = reg.register('tile.macs', 'tile[0,0]');
    a.value += 3;
    b.value += 4;
    m.value += 100;
    expect(reg.totals()).toEqual({ 'noc.flitHops': 7, 'tile.macs': 100 });
    expect(reg.byInstance('noc.flitHops')).toEqual({ 'router[0,0]': 3, 'router[0,1]': 4 });
  });

  test('undocumented names and duplicate registrations are rejected', () => {
    const reg = new CounterRegistry(catalog);
    expect(() => reg.register('noc.mystery')).toThrow(/catalog/);
    reg.register('tile.macs', 't0');
    expect(() => reg.register('tile.macs', 't0')).toThrow(/already/);
  });

  test('counters held in an array (registerEach) count as one registered counter per instance', () => {
    const reg = new CounterRegistry(catalog);
    const a = reg.register('noc.flitHops', 'router[0,0]');
    const arr = reg.registerEach('noc.flitHops', ['router[0,1]', 'router[1,0]']);
    a.value += 3;
    arr[0] += 4;
    arr[1] += 0.5;
    expect(reg.totals()).toEqual({ 'noc.flitHops': 7.5 });
    expect(reg.byInstance('noc.flitHops')).toEqual({ 'router[0,0]': 3, 'router[0,1]': 4, 'router[1,0]': 0.5 });
    expect(reg.all().map((c) => [c.instance, c.value])).toEqual([
      ['router[0,0]', 3],
      ['router[0,1]', 4],
      ['router[1,0]', 0.5],
    ]);
    // an instance already registered, one way or the other, is rejected
    expect(() => reg.register('noc.flitHops', 'router[1,0]')).toThrow(/already/);
    expect(() => reg.registerEach('noc.flitHops', ['router[2,2]', 'router[0,0]'])).toThrow(/already/);
    expect(() => reg.registerEach('noc.mystery', ['x'])).toThrow(/catalog/);
  });

  test('every catalog entry has a unit and a description', () => {
    for (const d of COUNTER_CATALOG.values()) {
      expect(d.unit.length).toBeGreaterThan(0);
      expect(d.description.length).toBeGreaterThan(10);
    }
  });
});
