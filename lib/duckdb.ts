// The DuckDB binding, loaded with require: imported as an ES module, Node would first scan the
// package's CommonJS sources for their export names, costing every command about 0.14 s.
import { createRequire } from 'node:module';
import type * as DuckDB from '@duckdb/node-api';

const duckdb = createRequire(import.meta.url)('@duckdb/node-api') as typeof DuckDB;

export const { DuckDBInstance, DuckDBTypeId, version } = duckdb;
export type DuckDBInstance = DuckDB.DuckDBInstance;
export type DuckDBConnection = DuckDB.DuckDBConnection;
export type DuckDBType = DuckDB.DuckDBType;
