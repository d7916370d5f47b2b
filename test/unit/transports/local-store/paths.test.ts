import { homedir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { gantryHome, stateDir, storeDir } from '../../../../src/transports/local-store/index.js';

describe('local paths', () => {
  it('GANTRY_HOME wins over everything', () => {
    expect(gantryHome({ GANTRY_HOME: '/opt/g', XDG_DATA_HOME: '/x', HOME: '/h' })).toBe('/opt/g');
  });

  it('then XDG_DATA_HOME/gantry', () => {
    expect(gantryHome({ XDG_DATA_HOME: '/x/data', HOME: '/h' })).toBe('/x/data/gantry');
  });

  it('ignores a relative XDG_DATA_HOME, as the XDG spec asks', () => {
    expect(gantryHome({ XDG_DATA_HOME: 'relative', HOME: '/h' })).toBe('/h/.local/share/gantry');
  });

  it('falls back to ~/.local/share/gantry', () => {
    expect(gantryHome({ HOME: '/home/u' })).toBe('/home/u/.local/share/gantry');
    expect(gantryHome({})).toBe(`${homedir()}/.local/share/gantry`);
  });

  it('puts the store and the state under the home', () => {
    expect(storeDir({ GANTRY_HOME: '/g' })).toBe('/g/store');
    expect(stateDir({ GANTRY_HOME: '/g' })).toBe('/g/state');
  });
});
