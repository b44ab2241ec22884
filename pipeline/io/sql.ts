/**
 * @module pipeline/io/sql
 * SQL literals, apart from the store so that modules which only build SQL text (the files port)
 * do not load DuckDB: worker threads never open a database.
 */

/** A SQL string literal. */
export const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;
