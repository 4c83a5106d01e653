#!/usr/bin/env -S node --import tsx
// Collector `caut`: per provider account, usage windows, login, status page and caut's errors (caut usage --json).
// Usage: tsx collect/caut.ts [--machine ID] [--run-id R] [--config FILE]
import { collectorMain } from '../lib/collector.ts';
import { cautCollector } from '../lib/sources/caut.ts';

await collectorMain(cautCollector);
