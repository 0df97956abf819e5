import { describe, expect, it } from 'vitest';
import { isId, newId } from './ids.js';

describe('ids', () => {
  it('are prefixed, fixed-length and recognisable', () => {
    const id = newId('merchant');
    expect(id).toMatch(/^mer_[0-9A-Z]{26}$/);
    expect(isId('merchant', id)).toBe(true);
    expect(isId('credential', id)).toBe(false);
    expect(isId('merchant', 'mer_short')).toBe(false);
  });

  it('sort by creation time and do not collide', () => {
    const earlier = newId('merchant', 1_700_000_000_000);
    const later = newId('merchant', 1_700_000_000_001);
    expect(earlier < later).toBe(true);
    const many = new Set(Array.from({ length: 10_000 }, () => newId('request', 1_700_000_000_000)));
    expect(many.size).toBe(10_000);
  });
});
