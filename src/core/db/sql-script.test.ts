import { describe, expect, it } from 'vitest';
import { splitSqlScript } from './sql-script.js';

describe('splitSqlScript', () => {
  it('splits at top-level semicolons only', () => {
    const script = `-- a comment; with a semicolon
CREATE TABLE a (x text DEFAULT 'a;b');
/* block; comment */ INSERT INTO a VALUES ('it''s; fine');
CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END; $$ LANGUAGE plpgsql;
SELECT "weird;name" FROM a`;
    const statements = splitSqlScript(script);
    expect(statements).toHaveLength(4);
    expect(statements[0]).toBe("CREATE TABLE a (x text DEFAULT 'a;b')");
    expect(statements[1]).toContain("'it''s; fine'");
    expect(statements[2]).toContain('$$ BEGIN RETURN 1; END; $$');
    expect(statements[3]).toBe('SELECT "weird;name" FROM a');
  });
});
