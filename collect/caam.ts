#!/usr/bin/env -S node --import tsx
// Collector `caam`: active profile per tool, health and cooldown, quota windows of every vault profile (caam status --json, caam limits --format json).
// Usage: tsx collect/caam.ts [--machine ID] [--run-id R] [--config FILE]
import { collectorMain } from '../lib/collector.ts';
import { caamCollector } from '../lib/sources/caam.ts';

await collectorMain(caamCollector);
