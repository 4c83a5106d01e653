#!/usr/bin/env -S node --import tsx
// Collector `sys`: load, CPU, memory, swap, filesystems, top processes, OOM kills, inotify.
// Usage: tsx collect/sys.ts [--machine ID] [--run-id R] [--config FILE]
import { collectorMain } from '../lib/collector.ts';
import { sysCollector } from '../lib/sources/sys.ts';

await collectorMain(sysCollector);
