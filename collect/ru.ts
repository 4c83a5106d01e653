#!/usr/bin/env -S node --import tsx
// Collector `ru`: the repositories ru keeps, with status, branch, ahead/behind, dirty and origin mismatch (ru status --json --no-fetch, ru list --json).
// Usage: tsx collect/ru.ts [--machine ID] [--run-id R] [--config FILE]
import { collectorMain } from '../lib/collector.ts';
import { ruCollector } from '../lib/sources/ru.ts';

await collectorMain(ruCollector);
