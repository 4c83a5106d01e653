#!/usr/bin/env -S node --import tsx
// Collector `dcg`: commands dcg denied or allowed (rule, pack, cwd, command hash), from pending_exceptions.jsonl and its history DB.
// Usage: tsx collect/dcg.ts [--machine ID] [--run-id R] [--config FILE]
import { collectorMain } from '../lib/collector.ts';
import { dcgCollector } from '../lib/sources/dcg.ts';

await collectorMain(dcgCollector);
