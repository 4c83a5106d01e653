#!/usr/bin/env -S node --import tsx
// The process `vc collect` runs collectors in: several collectors at once, each over its machines,
// each run bounded by its own timeout (lib/collector.ts), so one process serves many collectors
// without one stalling another. `vc collect` starts a few of these (lib/runner.ts), not one per
// collector: each Node process costs most of a CPU second to start.
// Usage: tsx lib/collect-host.ts --job SOURCE:MACHINE:RUN_ID ... [--config FILE]
import { hostMain } from './collector.ts';

await hostMain();
