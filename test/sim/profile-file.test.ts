// User profiles in JSON files: a valid file loads (merging both/up/down over an extended profile); every kind
// of mistake is a ProfileError whose message names the file and the field, never a stack trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProfileFile, ProfileError, PROFILES, Simulator } from '../../src/sim/index.js';
import { Probe } from '../support/sim-nodes.js';

const dir = mkdtempSync(join(tmpdir(), 'stevens-profiles-'));

function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return path;
}

test('a valid file: both/up/down merged field by field, the name defaulting to the file name', () => {
  const path = file('office.json', {
    description: 'the office uplink',
    links: {
      both: { delayMs: 12, lossRate: 0.01, jitter: { kind: 'normal', stdDevMs: 2 } },
      up: { rateBitsPerS: 5e6, queueBytes: 64000, schedule: [{ atMs: 1000, set: { lossRate: 0.2 } }] },
      down: { rateBitsPerS: 40e6, lossRate: 0 },
    },
  });
  const p = loadProfileFile(path);
  assert.equal(p.name, 'office');
  assert.equal(p.description, 'the office uplink');
  assert.deepEqual(p.up, { delayMs: 12, lossRate: 0.01, jitter: { kind: 'normal', stdDevMs: 2 }, rateBitsPerS: 5e6, queueBytes: 64000, schedule: [{ atMs: 1000, set: { lossRate: 0.2 } }] });
  assert.deepEqual(p.down, { delayMs: 12, lossRate: 0, jitter: { kind: 'normal', stdDevMs: 2 }, rateBitsPerS: 40e6 });
  // And it runs.
  const sim = new Simulator({ seed: 1 });
  const c = sim.addHost({ name: 'c' }, new Probe());
  const s = sim.addHost({ name: 's' }, new Probe());
  const [up, down] = sim.connectProfile(c, s, p);
  assert.equal(up.config.rateBitsPerS, 5e6);
  assert.equal(down.config.rateBitsPerS, 40e6);
  sim.run(2000);
  assert.equal(up.config.lossRate, 0.2);
});

test('extends: a named profile with some fields changed', () => {
  const p = loadProfileFile(file('sat.json', { name: 'sat-lossy', extends: 'satellite', links: { both: { lossRate: 0.03 } } }));
  assert.equal(p.name, 'sat-lossy');
  assert.equal(p.up.delayMs, 300);
  assert.equal(p.up.lossRate, 0.03);
  assert.equal(p.down.rateBitsPerS, PROFILES.satellite!.down.rateBitsPerS);
  assert.equal(PROFILES.satellite!.up.lossRate, 0.005, 'the named profile is untouched');
  const same = loadProfileFile(file('just-extends.json', { extends: 'lan' }));
  assert.deepEqual(same.up, PROFILES.lan!.up);
});

/** Loads content and returns the error message (failing if it loads). */
function error(content: unknown, name = 'x.json'): string {
  const path = file(name, content);
  try {
    loadProfileFile(path);
  } catch (e) {
    assert.ok(e instanceof ProfileError, `a ProfileError, not ${(e as Error).name}`);
    assert.ok(!e.message.includes('\n    at '), 'no stack trace in the message');
    assert.ok(e.message.startsWith(`profile file ${path}: `), e.message);
    return e.message.slice(`profile file ${path}: `.length);
  }
  assert.fail('loaded a bad file');
}

test('the example from the issue: a string where a probability goes', () => {
  const path = file('x.json', { links: { up: { delayMs: 5, lossRate: 'a' }, down: { delayMs: 5 } } });
  assert.throws(() => loadProfileFile(path), { name: 'ProfileError', message: `profile file ${path}: links.up.lossRate must be a number in [0, 1], got "a"` });
});

test('each kind of bad field is named in the message', () => {
  const cases: Array<[unknown, string]> = [
    ['{ "links": ', 'not valid JSON ('],
    [[1, 2], 'the file must hold a JSON object, got an array'],
    [{ links: { both: { delayMs: 1 } }, nmae: 'x' }, 'nmae is not a known field (known fields: name, description, extends, links)'],
    [{ name: 7, links: { both: { delayMs: 1 } } }, 'name must be a non-empty string, got 7'],
    [{ extends: 'moon', links: { both: { delayMs: 1 } } }, 'extends must name a profile ('],
    [{}, 'links is required'],
    [{ links: [] }, 'links must be an object with both, up and/or down, got an array'],
    [{ links: {} }, 'links must have at least one of both, up, down'],
    [{ links: { sideways: { delayMs: 1 } } }, 'links.sideways is not a known field'],
    [{ links: { up: { delayMs: 1 } } }, 'links.down.delayMs is required (in links.down or links.both)'],
    [{ links: { both: { delayMs: -1 } } }, 'links.both.delayMs must be a number >= 0, got -1'],
    [{ links: { both: { delayMs: 1, lossRate: 1.5 } } }, 'links.both.lossRate must be a number in [0, 1], got 1.5'],
    [{ links: { both: { delayMs: 1, duplicateRate: null } } }, 'links.both.duplicateRate must be a number in [0, 1], got null'],
    [{ links: { both: { delayMs: 1, LossRate: 0.1 } } }, 'links.both.LossRate is not a known field (did you mean lossRate?)'],
    [{ links: { both: { delayMs: 1, jitter: 5 } } }, 'links.both.jitter must be an object with a kind ("uniform", "normal" or "pareto"), got 5'],
    [{ links: { both: { delayMs: 1, jitter: { kind: 'gauss', stdDevMs: 1 } } } }, 'links.both.jitter.kind must be one of "uniform", "normal", "pareto", got "gauss"'],
    [{ links: { both: { delayMs: 1, jitter: { kind: 'normal', maxMs: 1 } } } }, 'links.both.jitter.maxMs is not a known field'],
    [{ links: { both: { delayMs: 1, jitter: { kind: 'pareto', scaleMs: 0, shape: 1 } } } }, 'links.both.jitter.scaleMs must be a number > 0, got 0'],
    [{ links: { both: { delayMs: 1, gilbertElliott: { pGoodToBad: 0.1, pBadToGood: 0.2, lossInGood: 0 } } } }, 'links.both.gilbertElliott.lossInBad must be a number in [0, 1], got nothing'],
    [{ links: { both: { delayMs: 1, maxDatagramBytes: 1200.5 } } }, 'links.both.maxDatagramBytes must be an integer >= 1, got 1200.5'],
    [{ links: { both: { delayMs: 1, rateBitsPerS: 0 } } }, 'links.both.rateBitsPerS must be a number > 0, got 0'],
    [{ links: { both: { delayMs: 1, preserveOrder: 'yes' } } }, 'links.both.preserveOrder must be true or false, got "yes"'],
    [{ links: { both: { delayMs: 1, outages: [{ fromMs: 500, toMs: 100 }] } } }, 'links.both.outages[0].toMs must be a number >= 500, got 100'],
    [{ links: { both: { delayMs: 1, outages: { fromMs: 1, toMs: 2 } } } }, 'links.both.outages must be an array of { fromMs, toMs }, got an object'],
    [{ links: { up: { delayMs: 1, schedule: [{ atMs: 10, set: { lossRate: 'high' } }] }, down: { delayMs: 1 } } }, 'links.up.schedule[0].set.lossRate must be a number in [0, 1], got "high"'],
    [{ links: { up: { delayMs: 1, schedule: [{ atMs: 10, set: { schedule: [] } }] }, down: { delayMs: 1 } } }, 'links.up.schedule[0].set.schedule is not a known field'],
    [{ links: { up: { delayMs: 1, schedule: [{ at: 10, set: {} }] }, down: { delayMs: 1 } } }, 'links.up.schedule[0].at is not a known field'],
  ];
  for (const [content, expected] of cases) {
    const msg = error(content);
    assert.ok(msg.startsWith(expected), `expected "${expected}...", got "${msg}"`);
  }
});

test('a missing file is a ProfileError too', () => {
  const path = join(dir, 'nope.json');
  assert.throws(() => loadProfileFile(path), { name: 'ProfileError', message: `profile file ${path}: cannot read it (ENOENT)` });
});
