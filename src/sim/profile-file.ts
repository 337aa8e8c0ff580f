// A user's own network profile in a JSON file. The format (every field but `links` optional; see README.md):
//
//   {
//     "name": "office-wifi",                 // default: the file's name without .json
//     "description": "...",
//     "extends": "wifi",                     // start from a named profile
//     "links": {
//       "both": { "delayMs": 12, "lossRate": 0.01 },   // fields for both directions
//       "up":   { "rateBitsPerS": 5e6 },               // client -> server, over `both`
//       "down": { "rateBitsPerS": 40e6 }               // server -> client, over `both`
//     }
//   }
//
// Fields merge field by field: the extended profile's, then links.both's, then links.up's or links.down's. Any
// mistake is a ProfileError whose message names the file and the field; unknown fields are mistakes too.
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { checkKnownFields, checkLinkConfig, ProfileError, showValue, type LinkConfig, type NetworkProfile } from './link-config.js';
import { PROFILES } from './profiles.js';

/** Reads and checks a profile file; throws ProfileError naming the field on any mistake. */
export function loadProfileFile(path: string): NetworkProfile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new ProfileError(`profile file ${path}: cannot read it (${code ?? (e as Error).message})`);
  }
  return parseProfile(text, path);
}

/** Checks a profile given as JSON text; `source` names it in error messages. */
export function parseProfile(text: string, source: string): NetworkProfile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ProfileError(`profile file ${source}: not valid JSON (${(e as Error).message})`);
  }
  try {
    return checkProfile(value, defaultName(source));
  } catch (e) {
    if (e instanceof ProfileError) throw new ProfileError(`profile file ${source}: ${e.message}`);
    throw e;
  }
}

function defaultName(source: string): string {
  const b = basename(source);
  return extname(b) === '.json' ? b.slice(0, -5) : b;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks a parsed profile (the file's JSON value). */
export function checkProfile(v: unknown, fallbackName: string): NetworkProfile {
  if (!isObject(v)) throw new ProfileError(`the file must hold a JSON object, got ${showValue(v)}`);
  checkKnownFields(v, ['name', 'description', 'extends', 'links'], '');
  const str = (field: string): string | undefined => {
    const s = v[field];
    if (s === undefined) return undefined;
    if (typeof s !== 'string' || s === '') throw new ProfileError(`${field} must be a non-empty string, got ${showValue(s)}`);
    return s;
  };
  const name = str('name') ?? fallbackName;
  const description = str('description');
  const ext = str('extends');
  let base: NetworkProfile | undefined;
  if (ext !== undefined) {
    base = Object.hasOwn(PROFILES, ext) ? PROFILES[ext] : undefined;
    if (base === undefined) throw new ProfileError(`extends must name a profile (${Object.keys(PROFILES).join(', ')}), got ${showValue(ext)}`);
  }
  const links = v.links;
  let both: Partial<LinkConfig> = {};
  let up: Partial<LinkConfig> = {};
  let down: Partial<LinkConfig> = {};
  if (links === undefined) {
    if (base === undefined) throw new ProfileError('links is required (an object with both, up and/or down), unless the profile extends another');
  } else {
    if (!isObject(links)) throw new ProfileError(`links must be an object with both, up and/or down, got ${showValue(links)}`);
    checkKnownFields(links, ['both', 'up', 'down'], 'links');
    if (links.both === undefined && links.up === undefined && links.down === undefined) {
      throw new ProfileError('links must have at least one of both, up, down');
    }
    // Each part alone first, so a bad value is reported where it was written.
    if (links.both !== undefined) both = checkLinkConfig(links.both, 'links.both', 'part');
    if (links.up !== undefined) up = checkLinkConfig(links.up, 'links.up', 'part');
    if (links.down !== undefined) down = checkLinkConfig(links.down, 'links.down', 'part');
  }
  const merge = (dir: 'up' | 'down', own: Partial<LinkConfig>): LinkConfig => {
    const merged = { ...(base ? structuredClone(base[dir]) : {}), ...both, ...own };
    if (merged.delayMs === undefined) throw new ProfileError(`links.${dir}.delayMs is required (in links.${dir} or links.both)`);
    return checkLinkConfig(merged, `links.${dir}`);
  };
  return {
    name,
    description: description ?? (base ? `${base.description} (modified)` : `profile ${name}`),
    up: merge('up', up),
    down: merge('down', down),
  };
}
