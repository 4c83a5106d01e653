#!/usr/bin/env -S node --import tsx
// Collector `tools`: which programs each machine has (command -v), its host name, kernel and arch.
// Usage: tsx collect/tools.ts [--machine ID ...] [--config FILE]
import { collectorMain } from '../lib/collector.ts';
import { toolsCollector } from '../lib/sources/tools.ts';

await collectorMain(toolsCollector);
