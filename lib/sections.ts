// One round trip per collector: a POSIX sh script prints several sections, each framed by a
// marker line carrying a per-run random nonce, so that nothing a process on the machine prints
// (a hostile process name, a file's content) can forge a section boundary.
import { randomBytes } from 'node:crypto';

export interface Section {
  text: string;
  /** Exit status of the section's commands, or null if the script stopped before it ended. */
  rc: number | null;
}

export interface SectionScript {
  script: string;
  parse(stdout: string): Map<string, Section>;
}

/** Builds a script from named shell snippets; `prelude` runs first (shared settings, functions). */
export function sectionScript(parts: ReadonlyArray<readonly [name: string, snippet: string]>, prelude = ''): SectionScript {
  const nonce = randomBytes(8).toString('hex');
  const mark = `@@vc-${nonce}@@`;
  const body = parts.map(([name, snippet]) =>
    `printf '\\n${mark} begin ${name}\\n'\n{\n${snippet}\n}\nprintf '\\n${mark} end ${name} %s\\n' "$?"`).join('\n');
  const script = `LC_ALL=C; export LC_ALL\n${prelude}\n${body}\n`;

  return {
    script,
    parse(stdout: string) {
      const sections = new Map<string, Section>();
      // Markers are found by indexOf of the marker itself: a tail section can hold megabytes, and a
      // search that starts with the newline before it is 100x slower (newlines are everywhere).
      const line = /^ (begin|end) ([A-Za-z0-9_.-]+)(?: (\d+))?$/;
      let open: { name: string; from: number } | null = null;
      for (let at = stdout.indexOf(mark); at >= 0; at = stdout.indexOf(mark, at + 1)) {
        if (at > 0 && stdout[at - 1] !== '\n') continue; // a marker starts a line
        const eol = stdout.indexOf('\n', at);
        if (eol < 0) break;
        const m = line.exec(stdout.slice(at + mark.length, eol));
        if (!m) continue;
        const [, what, name, rc] = m;
        if (what === 'begin') {
          open = { name: name!, from: eol + 1 };
          sections.set(name!, { text: '', rc: null });
        } else if (open && open.name === name && rc !== undefined) {
          // The newline before the end marker is the script's (printf '\n...'), not the section's.
          sections.set(name!, { text: stdout.slice(open.from, Math.max(open.from, at - 1)), rc: Number(rc) });
          open = null;
        }
      }
      // A section the script never finished still yields what it printed.
      if (open) sections.set(open.name, { text: stdout.slice(open.from), rc: null });
      return sections;
    },
  };
}

/** The text of a section, or an error naming it when the script never reached it. */
export function sectionText(sections: Map<string, Section>, name: string): string {
  const s = sections.get(name);
  if (s) return s.text;
  throw new Error(sections.size === 0
    ? 'the output holds none of the script\'s sections: the machine did not run vc\'s script (a forced command, or a shell printing something else)'
    : `the output has no "${name}" section (the script did not get that far)`);
}
