#!/usr/bin/env -S node --import tsx
// Collector `agents`: tmux sessions and panes, and coding-agent processes with their pane, cwd, CPU and memory.
// Usage: tsx collect/agents.ts [--machine ID] [--run-id R] [--config FILE]
import { collectorMain } from '../lib/collector.ts';
import { agentsCollector } from '../lib/sources/agents.ts';

await collectorMain(agentsCollector);
