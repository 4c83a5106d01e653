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
      const marker = new RegExp(`\\n${mark} (begin|end) ([A-Za-z0-9_.-]+)(?: (\\d+))?\\n`, 'g');
      let open: { name: string; from: number } | null = null;
      const text = `\n${stdout}`;
      for (const m of text.matchAll(marker)) {
        const [, what, name, rc] = m;
        if (what === 'begin') {
          open = { name: name!, from: m.index + m[0].length };
          sections.set(name!, { text: '', rc: null });
        } else if (open && open.name === name) {
          sections.set(name!, { text: text.slice(open.from, m.index), rc: Number(rc) });
          open = null;
        }
      }
      // A section the script never finished still yields what it printed.
      if (open) sections.set(open.name, { text: text.slice(open.from), rc: null });
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
