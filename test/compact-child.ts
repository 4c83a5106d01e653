// A vc compact pass in its own process, for test/compact.test.ts: with KILL_AT set, the process
// SIGKILLs itself at that step of writing its first segment (as a crash or `kill -9` would).
import { openSession } from '../lib/duck.ts';
import { compactStore } from '../lib/compact.ts';

const [dataDir, nowIso, killAt] = process.argv.slice(2);
const session = await openSession({ dataDir: dataDir!, recent: [] });
await compactStore(dataDir!, session, {
  now: new Date(nowIso!),
  onStep: (step) => {
    if (step === killAt) process.kill(process.pid, 'SIGKILL');
  },
});
session.close();
