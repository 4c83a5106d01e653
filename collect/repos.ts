#!/usr/bin/env -S node --import tsx
// Collector `repos`: git repositories under the configured roots (branch, dirty counts,
// ahead/behind, last commit, stashes, remote).
// Usage: tsx collect/repos.ts [--machine ID] [--run-id R] [--config FILE]
import { collectorMain } from '../lib/collector.ts';
import { reposCollector } from '../lib/sources/repos.ts';

await collectorMain(reposCollector);
