// vc cron: the pure renderers and crontab edits, then the real crontab(1), then systemd units
// (with fake systemctl programs, and the real one where no user manager is reachable).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  BLOCK_BEGIN, BLOCK_END, SERVICE_UNIT, TIMER_UNIT, UNIT_MARKER, cronWord, displayCommand, findBlock,
  installCrontab, installSystemd, lineDiff, mergeBlock, printSchedule, readCrontab, removeBlock,
  renderCrontabBlock, renderTemplate, renderUnits, scheduleSpec, systemdEnvironment,
  systemdExecPath, systemdPath, uninstallCrontab, uninstallSystemd, userUnitDir, type ScheduleSpec,
} from '../lib/cron.ts';
import { shQuote } from '../lib/shell.ts';
import { alertsFile, repoRoot, snapshotsFile } from '../lib/paths.ts';
import { healthSession } from '../lib/report.ts';
import type { Session } from '../lib/duck.ts';
import { tmpDir, vc, writeExecutable } from './helpers.ts';

/** Everything a shell or cron might misread: quotes, `%` (also right after a backslash), `$`, backticks, spaces. */
const NASTY = `it's 50% $HOME \`id\` "q" \\% dir`;
const SIMPLE: ScheduleSpec = { vcPath: '/opt/vc/bin/vc', logFile: '/data/vc/logs/cron.log', env: [['VC_NODE', '/usr/bin/node']] };

/**
 * What cron (do_command.c) hands to /bin/sh for a crontab command: `\%` becomes `%`, any other
 * backslash stays, and an unescaped `%` ends the command (the rest would become its stdin).
 * Checked against the real cron daemon by hand; the daemon itself is too slow for a test.
 */
function cronToShell(command: string): { shell: string; stdin: string | null } {
  let shell = '';
  let escaped = false;
  for (const [i, ch] of [...command].entries()) {
    if (escaped) {
      shell += ch === '%' ? '%' : `\\${ch}`;
      escaped = false;
    } else if (ch === '\\') {
      escaped = true;
    } else if (ch === '%') {
      return { shell, stdin: [...command].slice(i + 1).join('') };
    } else {
      shell += ch;
    }
  }
  return { shell: escaped ? `${shell}\\` : shell, stdin: null };
}

/** Runs a crontab entry's command the way cron does: % processing, then /bin/sh -c, with cron's bare environment. */
function runCronEntry(line: string, home: string) {
  const m = /^(?:\S+\s+){5}(.*)$/.exec(line);
  assert.ok(m?.[1], `not a crontab entry: ${line}`);
  const { shell, stdin } = cronToShell(m[1]);
  assert.equal(stdin, null, 'the command has an unescaped %, which cron would cut there');
  return spawnSync('/bin/sh', ['-c', shell], { env: { PATH: '/usr/bin:/bin', HOME: home, SHELL: '/bin/sh' }, encoding: 'utf8' });
}

const sh = (script: string) => spawnSync('/bin/sh', ['-c', script], { encoding: 'utf8' });

describe('schedule spec', () => {
  test('pins node always, the config when a file is in use, and the data dir when the environment chose it', () => {
    const bare = scheduleSpec({ path: null, dataDir: '/d', config: {} }, { env: {} });
    assert.deepEqual(bare, { vcPath: path.join(repoRoot, 'bin', 'vc'), logFile: '/d/logs/cron.log', env: [['VC_NODE', process.execPath]] });

    const fromEnv = scheduleSpec({ path: '/c/vc.toml', dataDir: '/e', config: { data_dir: '/ignored' } }, { env: { VC_DATA_DIR: '/e' }, nodePath: '/n' });
    assert.deepEqual(fromEnv.env, [['VC_NODE', '/n'], ['VC_CONFIG', '/c/vc.toml'], ['VC_DATA_DIR', '/e']]);

    // The default data dir follows XDG_DATA_HOME, which cron does not set; a configured one does not.
    const xdg = { env: { XDG_DATA_HOME: '/x' } };
    assert.ok(scheduleSpec({ path: null, dataDir: '/x/vc', config: {} }, xdg).env.some(([k]) => k === 'VC_DATA_DIR'));
    assert.ok(!scheduleSpec({ path: '/c/vc.toml', dataDir: '/cfg', config: { data_dir: '/cfg' } }, xdg).env.some(([k]) => k === 'VC_DATA_DIR'));
  });
});

describe('templates', () => {
  test('substitutes {{NAME}} once, never re-reading substituted text', () => {
    assert.equal(renderTemplate('a {{X}} b {{Y}}', { X: '{{Y}}', Y: '2' }), 'a {{Y}} b 2');
  });

  test('fails loudly on an unknown placeholder, an unused value or a malformed placeholder', () => {
    assert.throws(() => renderTemplate('a {{X}} {{NOPE}}', { X: '1' }, 't'), /t: unknown placeholder \{\{NOPE\}\}/);
    assert.throws(() => renderTemplate('a {{X}}', { X: '1', LOG_FILE: '2' }, 't'), /t: missing placeholder \{\{LOG_FILE\}\}/);
    assert.throws(() => renderTemplate('a {{ X }}', { X: '1' }, 't'), /malformed placeholder/);
    assert.throws(() => renderTemplate('a {{x}}', {}, 't'), /malformed placeholder/);
  });

  test('the crontab template must be one marked block', () => {
    assert.throws(() => renderCrontabBlock(SIMPLE, '{{BEGIN_MARKER}}\n{{ENV}} {{VC}} {{LOG_FILE}}\n{{END_MARKER}}'), /must start with/);
    assert.throws(() => renderCrontabBlock(SIMPLE, '{{BEGIN_MARKER}}\n{{ENV}} {{VC}} {{LOG_FILE}}\n'), /missing placeholder \{\{END_MARKER\}\}/);
  });
});

describe('quoting', () => {
  const values = [NASTY, "'", "''", '%', '\\', '\\%', '%%', 'a b', '$(id)', ''];

  test('shQuote gives one shell word that sh reads back exactly', () => {
    for (const v of values) assert.equal(sh(`printf '%s' ${shQuote(v)}`).stdout, v, JSON.stringify(v));
  });

  test('cronWord survives cron\'s % processing and then sh', () => {
    for (const v of values) {
      const { shell, stdin } = cronToShell(`printf ${cronWord('%s')} ${cronWord(v)}`);
      assert.equal(stdin, null);
      assert.equal(sh(shell).stdout, v, JSON.stringify(v));
    }
  });

  test('a value with a newline cannot be scheduled', () => {
    assert.throws(() => cronWord('a\nb'), /control character/);
    assert.throws(() => systemdEnvironment('VC_CONFIG', 'a\nb'), /control character/);
    assert.throws(() => renderCrontabBlock({ ...SIMPLE, logFile: '/a\n* * * * * rm -rf ~/x' }), /control character/);
  });

  test('systemd: C escapes and %% in quoted words, $ left alone', () => {
    assert.equal(systemdEnvironment('V', NASTY), `Environment="V=it's 50%% $HOME \`id\` \\"q\\" \\\\%% dir"`);
    assert.equal(systemdExecPath('/opt/my vc/50%/$x/vc'), '"/opt/my vc/50%%/$x/vc"');
    assert.equal(systemdPath('/d/50% x/cron.log'), '/d/50%% x/cron.log');
    assert.throws(() => systemdExecPath("/it's/vc"), /systemd refuses an executable path/);
  });
});

describe('crontab block (pure)', () => {
  const block = `${BLOCK_BEGIN}\n* * * * * new\n${BLOCK_END}\n`;
  const old = `${BLOCK_BEGIN}\n* * * * * old\n${BLOCK_END}\n`;
  const mine = 'MAILTO=""\n# my jobs  \n\n*/5 * * * * /bin/true # 50% \\%\r\n';

  test('the rendered block is the template with every value quoted, on one command line', () => {
    const spec: ScheduleSpec = { vcPath: `/r/${NASTY}/bin/vc`, logFile: `/d/${NASTY}/logs/cron.log`, env: [['VC_NODE', `/n/${NASTY}`], ['VC_CONFIG', '/c.toml']] };
    const lines = renderCrontabBlock(spec).split('\n');
    assert.equal(lines[0], BLOCK_BEGIN);
    assert.equal(lines.at(-2), BLOCK_END);
    assert.equal(lines.at(-1), '');
    const entry = lines.filter((l) => l.startsWith('* * * * * '));
    assert.deepEqual(entry, [
      `* * * * * VC_NODE=${cronWord(`/n/${NASTY}`)} VC_CONFIG='/c.toml' ${cronWord(spec.vcPath)} cron run >> ${cronWord(spec.logFile)} 2>&1`,
    ]);
    assert.equal(cronToShell(entry[0]!).stdin, null);
  });

  test('appends to a crontab without a block, adding only a missing final newline', () => {
    assert.equal(mergeBlock('', block), block);
    assert.equal(mergeBlock(mine, block), mine + block);
    assert.equal(mergeBlock('* * * * * x', block), `* * * * * x\n${block}`);
  });

  test('replaces an existing block in place, keeping every other byte', () => {
    const text = `${mine}${old}# after\n0 3 * * * backup`;
    assert.equal(mergeBlock(text, block), `${mine}${block}# after\n0 3 * * * backup`);
    assert.equal(mergeBlock(`${mine}${old.trimEnd()}`, block), mine + block);
  });

  test('is idempotent, and removal undoes it', () => {
    for (const text of ['', mine, `${mine}${old}# tail\n`]) {
      const once = mergeBlock(text, block);
      assert.equal(mergeBlock(once, block), once);
      assert.equal(removeBlock(once), removeBlock(text));
    }
    assert.equal(removeBlock(mergeBlock(mine, block)), mine);
  });

  test('removes only the block, keeping a missing final newline missing', () => {
    assert.equal(removeBlock(`${mine}${old}# after\n0 3 * * * backup`), `${mine}# after\n0 3 * * * backup`);
    assert.equal(removeBlock(mine), mine);
    assert.equal(removeBlock(old), '');
  });

  test('refuses a broken block instead of guessing', () => {
    const broken: Array<[string, RegExp]> = [
      [`${mine}${BLOCK_BEGIN}\n* * * * * x\n`, /start marker on line 5 has no end marker/],
      [`${mine}* * * * * x\n${BLOCK_END}\n`, /end marker on line 6 has no start marker/],
      [`${BLOCK_END}\n${BLOCK_BEGIN}\n`, /end marker on line 1 comes before the start marker on line 2/],
      [`${old}${mine}${old}`, /more than one block: start markers on lines 1, 8, end markers on lines 3, 10/],
      [`${BLOCK_BEGIN}\n${BLOCK_BEGIN}\n${BLOCK_END}\n`, /more than one block/],
      // A hand-edited marker still counts, so it is reported rather than duplicated.
      [`#>>> vc (edited)\n* * * * * x\n`, /has no end marker/],
    ];
    for (const [text, why] of broken) {
      assert.throws(() => mergeBlock(text, block), why, text);
      assert.throws(() => removeBlock(text), /refusing to edit the crontab: its vc block is broken/, text);
    }
    assert.equal(findBlock(mine.split(/(?<=\n)/)), null);
  });

  test('lineDiff shows the changed lines with a little context', () => {
    const a = 'l1\nl2\nl3\nl4\nl5\n';
    assert.equal(lineDiff(a, 'l1\nl2\nl3\nX\nl5\n', 1), '  ...\n  l3\n- l4\n+ X\n  l5');
    assert.equal(lineDiff('', 'a\n'), '+ a');
    assert.equal(lineDiff(a, a), '');
  });
});

describe('readCrontab', () => {
  const dir = tmpDir('vc-cron-fake-');

  test('"no crontab for <user>" with exit 1 is an empty crontab', async () => {
    const fake = writeExecutable(dir, 'crontab-none', '#!/bin/sh\necho "no crontab for tester" >&2\nexit 1\n');
    assert.equal(await readCrontab(fake), '');
  });

  test('any other failure is an error that says why', async () => {
    const fake = writeExecutable(dir, 'crontab-denied', '#!/bin/sh\necho "crontab: Permission denied" >&2\nexit 1\n');
    await assert.rejects(readCrontab(fake), /cannot read the crontab: .*crontab-denied -l exited with 1: crontab: Permission denied/);
    await assert.rejects(readCrontab(path.join(dir, 'missing')), /cannot read the crontab: .*missing -l .*No such file or directory/);
  });
});

describe('crontab (real crontab(1))', () => {
  const tmp = tmpDir('vc-cron-');
  const base = path.join(tmp, NASTY);
  const dataDir = path.join(base, 'data');
  const unrelated = '# my own jobs\nMAILTO=""\n*/5 * * * * /bin/true # untouched 50\\%\n';
  let saved: string | null = null;

  const crontabL = () => {
    const r = spawnSync('crontab', ['-l'], { encoding: 'utf8' });
    if (r.status === 1 && /no crontab for/.test(r.stderr)) return null;
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };
  const setCrontab = (text: string) => assert.equal(spawnSync('crontab', ['-'], { input: text, encoding: 'utf8' }).status, 0);

  // A fake vc at a hostile path that reports what it was given, on stdout and stderr.
  fs.mkdirSync(path.join(base, 'bin'), { recursive: true });
  const vcPath = writeExecutable(path.join(base, 'bin'), 'vc', [
    '#!/bin/sh',
    `for a in "$@"; do printf 'arg=%s\\n' "$a"; done`,
    `printf 'VC_NODE=%s\\nVC_CONFIG=%s\\nVC_DATA_DIR=%s\\n' "$VC_NODE" "$VC_CONFIG" "$VC_DATA_DIR"`,
    'echo "to stderr" >&2',
    '',
  ].join('\n'));
  const spec = scheduleSpec(
    { path: path.join(base, 'vc.toml'), dataDir, config: {} },
    { env: { VC_DATA_DIR: dataDir }, nodePath: path.join(base, 'node'), vcPath },
  );

  before(() => {
    saved = crontabL();
    setCrontab(unrelated);
  });
  after(() => {
    if (saved === null) spawnSync('crontab', ['-r']);
    else setCrontab(saved);
  });

  test('a dry run shows the new crontab and changes nothing', async () => {
    const r = await installCrontab(spec, { apply: false });
    assert.equal(crontabL(), unrelated);
    assert.equal(fs.existsSync(path.join(dataDir, 'logs')), false);
    assert.equal(r.applied, false);
    assert.equal(r.changes[0]?.action, 'update');
    assert.equal(r.changes[0]?.done, false);
    assert.equal(r.changes[0]?.after, unrelated + renderCrontabBlock(spec));
    assert.match(r.summary, /would update the crontab of .*:\n(.*\n)*    \+ # <<< vc <<<\nDry run: nothing was changed/);
  });

  test('install appends the block, creates the logs dir, and is idempotent', async () => {
    const r = await installCrontab(spec, { apply: true });
    assert.equal(r.ok, true);
    const installed = crontabL();
    assert.equal(installed, unrelated + renderCrontabBlock(spec));
    assert.ok(fs.statSync(path.join(dataDir, 'logs')).isDirectory());

    const again = await installCrontab(spec, { apply: true });
    assert.equal(again.changes[0]?.action, 'unchanged');
    assert.equal(crontabL(), installed);
  });

  test('the installed line runs the command with its environment under sh, appending to the log', () => {
    const entry = (crontabL() ?? '').split('\n').find((l) => l.startsWith('* * * * * '));
    assert.ok(entry);
    for (let i = 0; i < 2; i++) {
      const r = runCronEntry(entry, tmp);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout + r.stderr, '', 'all output goes to the log');
    }
    const once = [
      'arg=cron', 'arg=run',
      `VC_NODE=${path.join(base, 'node')}`, `VC_CONFIG=${path.join(base, 'vc.toml')}`, `VC_DATA_DIR=${dataDir}`,
      'to stderr', '',
    ].join('\n');
    assert.equal(fs.readFileSync(path.join(dataDir, 'logs', 'cron.log'), 'utf8'), once + once);
  });

  test('uninstall removes only the block', async () => {
    const dry = await uninstallCrontab({ apply: false });
    assert.equal(dry.changes[0]?.after, unrelated);
    assert.notEqual(crontabL(), unrelated);

    const r = await uninstallCrontab({ apply: true });
    assert.equal(r.changes[0]?.action, 'update');
    assert.equal(crontabL(), unrelated);
    assert.equal((await uninstallCrontab({ apply: true })).changes[0]?.action, 'unchanged');
    assert.equal(crontabL(), unrelated);
  });

  test('a broken block is refused and the crontab left alone', async () => {
    const broken = `${unrelated}${BLOCK_BEGIN}\n* * * * * something\n`;
    setCrontab(broken);
    await assert.rejects(installCrontab(spec, { apply: true }), /vc block is broken \(start marker on line 4 has no end marker/);
    await assert.rejects(uninstallCrontab({ apply: true }), /vc block is broken/);
    assert.equal(crontabL(), broken);
  });
});

describe('systemd user units', () => {
  const tmp = tmpDir('vc-systemd-');
  const calls = path.join(tmp, 'calls');
  const failing = writeExecutable(tmp, 'systemctl-nobus', `#!/bin/sh\necho "$*" >> '${calls}'\necho "Failed to connect to bus: No medium found" >&2\nexit 1\n`);
  const working = writeExecutable(tmp, 'systemctl-ok', `#!/bin/sh\necho "$*" >> '${calls}'\n`);
  const spec = scheduleSpec({ path: path.join(tmp, 'vc.toml'), dataDir: path.join(tmp, 'data 50%'), config: {} }, { env: {}, nodePath: '/usr/bin/node' });
  const callLog = () => (fs.existsSync(calls) ? fs.readFileSync(calls, 'utf8') : '');
  const savedXdg = process.env.XDG_CONFIG_HOME;
  let unitDir = '';
  let service = '';
  let timer = '';

  before(() => {
    process.env.XDG_CONFIG_HOME = path.join(tmp, 'config');
    unitDir = userUnitDir();
    service = path.join(unitDir, SERVICE_UNIT);
    timer = path.join(unitDir, TIMER_UNIT);
  });
  after(() => {
    if (savedXdg === undefined) delete process.env.XDG_CONFIG_HOME;
    else process.env.XDG_CONFIG_HOME = savedXdg;
  });
  const reset = () => {
    fs.rmSync(unitDir, { recursive: true, force: true });
    fs.rmSync(calls, { force: true });
  };

  test('units: a oneshot service with the command, its environment and the log; a minutely timer', () => {
    const units = renderUnits(spec);
    const lines = units.service.split('\n');
    assert.equal(lines[0], UNIT_MARKER);
    for (const line of [
      'Type=oneshot',
      'Environment="VC_NODE=/usr/bin/node"',
      `Environment="VC_CONFIG=${path.join(tmp, 'vc.toml')}"`,
      `ExecStart="${path.join(repoRoot, 'bin', 'vc')}" cron run`,
      `StandardOutput=append:${path.join(tmp, 'data 50%%', 'logs', 'cron.log')}`,
      'StandardError=inherit',
    ]) assert.ok(lines.includes(line), `service lacks ${line}:\n${units.service}`);
    assert.ok(!units.service.includes('VC_DATA_DIR'));
    const timerLines = units.timer.split('\n');
    for (const line of [UNIT_MARKER, 'OnCalendar=minutely', 'Persistent=true', 'AccuracySec=1s', 'WantedBy=timers.target']) {
      assert.ok(timerLines.includes(line), `timer lacks ${line}:\n${units.timer}`);
    }
    assert.equal(printSchedule(spec, { systemd: true }), `# ${service}\n${units.service}\n# ${timer}\n${units.timer}`);
  });

  test('systemd-analyze accepts the units, with hostile but legal paths', (t) => {
    if (spawnSync('systemd-analyze', ['--version']).status !== 0) return t.skip('systemd-analyze is not installed');
    const dir = path.join(tmp, 'verify 50% $HOME');
    fs.mkdirSync(dir, { recursive: true });
    const vcPath = writeExecutable(dir, 'vc', '#!/bin/sh\n');
    const hostile = scheduleSpec({ path: path.join(tmp, NASTY, 'vc.toml'), dataDir: path.join(tmp, NASTY), config: {} }, { env: { VC_DATA_DIR: 'x' }, vcPath });
    const units = renderUnits(hostile);
    fs.writeFileSync(path.join(dir, SERVICE_UNIT), units.service);
    fs.writeFileSync(path.join(dir, TIMER_UNIT), units.timer);
    const r = spawnSync('systemd-analyze', ['verify', path.join(dir, SERVICE_UNIT), path.join(dir, TIMER_UNIT)], { encoding: 'utf8' });
    const complaints = r.stderr.split('\n').filter((l) => l.includes('vc-collect'));
    assert.deepEqual(complaints, []);
    // And a broken executable path would be noticed.
    fs.writeFileSync(path.join(dir, SERVICE_UNIT), units.service.replace('/vc"', '/nope"'));
    const bad = spawnSync('systemd-analyze', ['verify', path.join(dir, SERVICE_UNIT)], { encoding: 'utf8' });
    assert.match(bad.stderr, /is not executable/);
  });

  test('systemd parses the environment and log path back to the exact values', (t) => {
    const bin = ['/usr/lib/systemd/systemd', '/lib/systemd/systemd'].find((f) => fs.existsSync(f));
    if (!bin) return t.skip('systemd is not installed');
    const dir = tmpDir('vc-systemd-dump-');
    fs.chmodSync(dir, 0o755);
    // %n and %h are specifiers systemd would expand (systemd passes unknown ones like "% " through).
    const hostile = scheduleSpec({ path: path.join(tmp, NASTY, 'vc.toml'), dataDir: path.join(tmp, NASTY), config: {} }, { env: { VC_DATA_DIR: 'x' }, nodePath: `/n/${NASTY}/%n%h` });
    fs.writeFileSync(path.join(dir, SERVICE_UNIT), renderUnits(hostile).service);
    // `systemd --test` loads units and dumps them as parsed; it refuses to run as root.
    const argv = [bin, '--test', '--system', `--unit=${SERVICE_UNIT}`, '--no-pager'];
    const cmd = process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', ...argv] : argv;
    const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8', env: { ...process.env, SYSTEMD_UNIT_PATH: `${dir}:` } });
    if (!r.stdout?.includes('\t-> Unit ')) return t.skip(`systemd --test does not work here: ${(r.stderr ?? String(r.error)).trim().slice(0, 200)}`);
    const unit = r.stdout.split('\n\t-> Unit ').find((s) => s.startsWith(`${SERVICE_UNIT}:`));
    assert.ok(unit, `systemd --test did not load ${SERVICE_UNIT}: ${r.stderr}`);
    const values = (key: string) => [...unit.matchAll(new RegExp(`^\\t\\t${key}: (.*)$`, 'gm'))].map((m) => m[1]);
    assert.deepEqual(values('Environment'), hostile.env.map(([name, value]) => `${name}=${value}`));
    assert.deepEqual(values('StandardOutputFileToAppend'), [hostile.logFile]);
    assert.deepEqual(values('Type'), ['oneshot']);
  });

  test('a dry run shows both files and the commands, and touches nothing', async () => {
    reset();
    const r = await installSystemd(spec, { apply: false, systemctl: [failing, '--user'] });
    assert.equal(r.ok, true);
    assert.deepEqual(r.changes.map((c) => [c.target, c.action, c.after]), [
      [service, 'create', renderUnits(spec).service], [timer, 'create', renderUnits(spec).timer],
    ]);
    assert.deepEqual(r.commands, [`${failing} --user daemon-reload`, `${failing} --user enable --now vc-collect.timer`]);
    assert.match(r.summary, /would create .*vc-collect.service:\n    \+ # vc: managed/);
    assert.match(r.summary, /Dry run: nothing was changed/);
    assert.equal(fs.existsSync(unitDir), false);
    assert.equal(callLog(), '');
  });

  test('when systemctl fails, the files stay written and the error says what to run', async () => {
    reset();
    const r = await installSystemd(spec, { apply: true, systemctl: [failing, '--user'] });
    assert.equal(r.ok, false);
    assert.equal(fs.readFileSync(service, 'utf8'), renderUnits(spec).service);
    assert.equal(fs.readFileSync(timer, 'utf8'), renderUnits(spec).timer);
    assert.ok(fs.statSync(path.join(tmp, 'data 50%', 'logs')).isDirectory());
    assert.equal(callLog(), '--user daemon-reload\n');
    assert.equal(r.error, [
      `${failing} --user daemon-reload exited with 1: Failed to connect to bus: No medium found`,
      `The unit files are written to ${unitDir}, but the timer is not active. To finish, run:`,
      `  ${failing} --user daemon-reload`,
      `  ${failing} --user enable --now vc-collect.timer`,
      '(No systemd user manager is reachable from here, as in containers or `su` shells: run them in a login session of this user, or use the crontab instead: vc cron install.)',
    ].join('\n'));
    assert.match(r.summary, /^created .*vc-collect.service:/m);
    assert.doesNotMatch(r.summary, /^ran:/m);
  });

  test('install reloads and enables the timer; a second install changes no file', async () => {
    reset();
    const r = await installSystemd(spec, { apply: true, systemctl: [working, '--user'] });
    assert.equal(r.ok, true, r.error ?? '');
    assert.equal(callLog(), '--user daemon-reload\n--user enable --now vc-collect.timer\n');
    const again = await installSystemd(spec, { apply: true, systemctl: [working, '--user'] });
    assert.deepEqual(again.changes.map((c) => c.action), ['unchanged', 'unchanged']);
  });

  test('uninstall disables the timer before deleting the files, then reloads', async () => {
    reset();
    await installSystemd(spec, { apply: true, systemctl: [working, '--user'] });
    fs.rmSync(calls);
    const dry = await uninstallSystemd({ apply: false, systemctl: [working, '--user'] });
    assert.deepEqual(dry.changes.map((c) => c.action), ['delete', 'delete']);
    assert.ok(fs.existsSync(service) && fs.existsSync(timer));

    const r = await uninstallSystemd({ apply: true, systemctl: [working, '--user'] });
    assert.equal(r.ok, true);
    assert.equal(callLog(), '--user disable --now vc-collect.timer\n--user daemon-reload\n');
    assert.equal(fs.existsSync(service) || fs.existsSync(timer), false);
    assert.match((await uninstallSystemd({ apply: true, systemctl: [working, '--user'] })).summary, /nothing to uninstall/);
  });

  test('when disabling fails, uninstall keeps the files and lists every step', async () => {
    reset();
    await installSystemd(spec, { apply: true, systemctl: [working, '--user'] });
    const r = await uninstallSystemd({ apply: true, systemctl: [failing, '--user'] });
    assert.equal(r.ok, false);
    assert.ok(fs.existsSync(service) && fs.existsSync(timer));
    assert.match(r.error ?? '', new RegExp([
      'The unit files are kept. To finish, run:',
      `  ${failing} --user disable --now vc-collect.timer`,
      `  rm -- ${service} ${timer}`,
      `  ${failing} --user daemon-reload`,
    ].map((l) => l.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('\n')));
    assert.match(r.summary, /^did not delete /m);
  });

  test('a unit file vc did not write is neither deleted nor overwritten', async () => {
    reset();
    fs.mkdirSync(unitDir, { recursive: true });
    fs.writeFileSync(service, '[Service]\nExecStart=/bin/true\n');
    await assert.rejects(uninstallSystemd({ apply: true, systemctl: [working, '--user'] }), /refusing to delete .*vc-collect.service: vc did not write it/);
    await assert.rejects(installSystemd(spec, { apply: true, systemctl: [working, '--user'] }), /refusing to overwrite .*vc-collect.service/);
    assert.equal(fs.readFileSync(service, 'utf8'), '[Service]\nExecStart=/bin/true\n');
    assert.equal(fs.existsSync(timer), false);
    assert.equal(callLog(), '');
  });

  test('with the real systemctl and no user manager, install fails clearly and keeps the files', async (t) => {
    if (spawnSync('systemctl', ['--user', 'show-environment']).status === 0) {
      return t.skip('a systemd user manager is reachable: not enabling a real timer from a test');
    }
    reset();
    const r = await installSystemd(spec, { apply: true });
    assert.equal(r.ok, false);
    assert.match(r.error ?? '', /^systemctl --user daemon-reload (exited with|could not be started)/);
    assert.match(r.error ?? '', /To finish, run:\n  systemctl --user daemon-reload\n  systemctl --user enable --now vc-collect.timer/);
    assert.ok(fs.existsSync(service) && fs.existsSync(timer));
  });

  test('displayCommand quotes only what needs it', () => {
    assert.equal(displayCommand(['rm', '--', '/a b/c', "it's"]), `rm -- '/a b/c' 'it'\\''s'`);
  });
});

describe('vc cron run: the alert rules, the snapshot and compaction', () => {
  test('healthSession opens once on first use, computes the factors once, retries an open that failed, closes once', async () => {
    const log: string[] = [];
    let fail = 1;
    const fake = (n: number): Session => ({
      warnings: [], interrupt() {}, resultColumns: async () => [], queryWithColumns: async () => ({ columns: [], rows: [] }),
      query: async (sql: string) => { if (sql.startsWith('CREATE TEMP TABLE health_factors')) log.push(`factors ${n}`); return []; },
      close: () => { log.push(`close ${n}`); },
    });
    let opened = 0;
    const health = healthSession(async () => {
      if (fail-- > 0) throw new Error('no definitions');
      return fake(++opened);
    });
    await assert.rejects(health.get(), /no definitions/);
    const [a, b] = await Promise.all([health.get(), health.get()]);
    assert.equal(a, b);
    assert.equal(await health.get(), a);
    await health.close();
    await health.close();
    assert.deepEqual(log, ['factors 1', 'close 1']);
  });

  test('both due in the same minute: one session at one moment computes the health factors for both', () => {
    const dir = tmpDir('vc-cron-run-');
    // Nothing to collect (the demo's data is there already): no collector runs on the one machine.
    const env = { VC_DATA_DIR: dir, VC_CONFIG: path.join(dir, 'vc.toml'), VC_PROFILE: '1' };
    fs.writeFileSync(env.VC_CONFIG, '[[machines]]\nid = "box"\nssh = "local"\ncollectors = { include = [] }\n');
    assert.equal(vc(['demo', '--machines', '4', '--days', '1'], env).code, 0);
    const factorsComputed = (stderr: string) => stderr.split('\n').filter((l) => /^health factors \d+ ms$/.test(l)).length;

    const first = vc(['cron', 'run'], env);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^nothing due\nalerts: \d+ open, 0 reopen, 0 update, 0 resolve\n[^]*\nsnapshot of 4 machines\ncompacted \d+ rows into \d+ segments[^\n]*\n$/);
    // Compaction ran last (due on a store never compacted): the demo's days are Parquet now.
    assert.ok(fs.readdirSync(path.join(dir, 'parquet', 'sys')).some((d) => d.startsWith('date=')));
    assert.equal(factorsComputed(first.stderr), 1, first.stderr);
    const read = (f: string) => fs.readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const alerts = read(alertsFile(dir));
    const snapshot = read(snapshotsFile(dir));
    assert.ok(alerts.length > 0);
    // The same moment and the same conditions: the snapshot lists exactly the alerts opened.
    assert.deepEqual(new Set([...alerts.map((a) => a.ts), ...snapshot.map((l) => l.ts)]).size, 1);
    assert.deepEqual(snapshot.flatMap((l) => l.alerts).sort(), alerts.map((a) => a.alert_id).sort());

    const idle = vc(['cron', 'run'], env);
    assert.equal(idle.stdout, 'nothing due\n');
    assert.equal(factorsComputed(idle.stderr), 0, 'nothing due, nothing computed');

    // Only the snapshot due: computed once, for it alone.
    const old = new Date(Date.now() - 3600_000);
    fs.utimesSync(path.join(dir, 'state', 'snapshot-taken'), old, old);
    const snap = vc(['cron', 'run'], env);
    assert.equal(snap.stdout, 'nothing due\nsnapshot of 4 machines\n');
    assert.equal(factorsComputed(snap.stderr), 1);
  });
});
