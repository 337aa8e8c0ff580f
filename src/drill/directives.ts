// `// @stevens key=value ...` comments: the stevens-specific setup of a drill script.
//
//   isn=N          the endpoint's initial sequence number (Endpoint option fixedIsn)
//   peer_isn=N     added to every inbound sequence number the script writes (the peer's ISN), e.g. to test
//                  wraparound near 2^32
//   ts_offset=N    Endpoint option fixedTimestampOffset (TS val = floor(ms since script start) + N); default 0
//   tolerance=MS   how far an outbound packet's time may stray from the script's time
//   seed=N         Endpoint option seed (default 1)
//   config.NAME=V  any Endpoint / connection configuration override (number, true/false, or a string)
//   requires=A,B   features of features.ts the script needs: while one is missing the script fails with its
//                  "not supported yet" line (the test harness expects exactly that), once present it runs
//   include=FILE   the directives of FILE (a path relative to the script; comments and directives only), in
//                  place: a shared defaults header

import type { DirectiveValue, Directives } from './ast.js';
import type { DirectiveComment } from './lexer.js';
import { DrillError } from './errors.js';
import { FEATURES, isFeatureId } from './features.js';

export function defaultDirectives(): Directives {
  return { peerIsn: 0, tsOffset: 0, seed: 1, config: {}, requires: [], lines: {} };
}

/** Reads an included file's directive comments; `line` is the including directive's line (for messages). */
export type IncludeReader = (path: string, line: number) => DirectiveComment[];

/** How deep includes may nest (a cycle stops here). */
const MAX_INCLUDE_DEPTH = 8;

function parseValue(raw: string): DirectiveValue {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  if (/^-?(\d[\d_]*)(\.\d+)?$/.test(raw)) return Number(raw.replace(/_/g, ''));
  if (/^0x[0-9a-f]+$/i.test(raw)) return Number.parseInt(raw.slice(2), 16);
  if (raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"')) return raw.slice(1, -1);
  return raw;
}

function uint32(line: number, key: string, v: DirectiveValue): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) {
    throw new DrillError(line, `@stevens ${key} must be an integer in [0, 2^32), got '${String(v)}'`);
  }
  return v;
}

export function parseDirectives(comments: DirectiveComment[], include?: IncludeReader): Directives {
  const d = defaultDirectives();
  apply(d, comments, include, 0);
  return d;
}

function apply(d: Directives, comments: DirectiveComment[], include: IncludeReader | undefined, depth: number): void {
  for (const c of comments) {
    for (const word of c.text.split(/\s+/).filter((w) => w !== '')) {
      const eq = word.indexOf('=');
      if (eq <= 0 || eq === word.length - 1) throw new DrillError(c.line, `@stevens expects key=value, got '${word}'`);
      const key = word.slice(0, eq);
      const value = parseValue(word.slice(eq + 1));
      d.lines[key] = c.line;
      if (key.startsWith('config.') && key.length > 'config.'.length) {
        d.config[key.slice('config.'.length)] = value;
        continue;
      }
      switch (key) {
        case 'isn':
          d.isn = uint32(c.line, key, value);
          break;
        case 'peer_isn':
          d.peerIsn = uint32(c.line, key, value);
          break;
        case 'ts_offset':
          d.tsOffset = uint32(c.line, key, value);
          break;
        case 'seed':
          if (typeof value !== 'number' || !Number.isInteger(value)) throw new DrillError(c.line, `@stevens seed must be an integer, got '${String(value)}'`);
          d.seed = value;
          break;
        case 'requires':
          for (const id of String(value).split(',')) {
            if (!isFeatureId(id)) throw new DrillError(c.line, `@stevens requires: unknown feature '${id}' (known: ${Object.keys(FEATURES).join(', ')})`);
            if (!d.requires.includes(id)) d.requires.push(id);
          }
          break;
        case 'include': {
          if (!include) throw new DrillError(c.line, '@stevens include needs the script to be read from a file');
          if (depth >= MAX_INCLUDE_DEPTH) throw new DrillError(c.line, `@stevens include nested more than ${MAX_INCLUDE_DEPTH} deep (a cycle?)`);
          apply(d, include(String(value), c.line), include, depth + 1);
          break;
        }
        case 'tolerance':
          if (typeof value !== 'number' || !(value >= 0)) throw new DrillError(c.line, `@stevens tolerance must be a number of ms >= 0, got '${String(value)}'`);
          d.toleranceMs = value;
          break;
        default:
          throw new DrillError(c.line, `unknown @stevens directive '${key}' (known: isn, peer_isn, ts_offset, tolerance, seed, config.<name>, requires, include)`);
      }
    }
  }
}
